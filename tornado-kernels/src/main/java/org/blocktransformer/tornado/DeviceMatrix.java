package org.blocktransformer.tornado;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.Matrix;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * Weight matrices (one or several layers', stacked) as the matmul kernels take them: float32 values, or the
 * bfloat16 bits of a model loaded with bf16 weights, which the kernels widen exactly (half the memory and the
 * memory traffic). The array of the other format is a one-element placeholder: kernels take both.
 *
 * @param format {@link NeoXKernels#F32} or {@link NeoXKernels#BF16}
 */
record DeviceMatrix(FloatArray f32, ShortArray bf16, int format) {

    /** The matrices stacked row-major [layer][rows][cols], in their own storage format (all must share one). */
    static DeviceMatrix stack(List<Matrix> layers) {
        boolean bf16 = layers.getFirst() instanceof Bf16Matrix;
        for (Matrix m : layers) {
            if ((m instanceof Bf16Matrix) != bf16) {
                throw new IllegalArgumentException("a layer group mixes " + m.dtype() + " with "
                        + layers.getFirst().dtype() + " weights");
            }
        }
        if (!bf16) {
            return new DeviceMatrix(DeviceArrays.stack(layers), new ShortArray(1), NeoXKernels.F32);
        }
        long size = 0;
        for (Matrix m : layers) {
            size += (long) m.rows() * m.cols();
        }
        ShortArray out = new ShortArray(DeviceArrays.checkedSize(size));
        long at = 0;
        for (Matrix m : layers) {
            short[] data = ((Bf16Matrix) m).data();
            MemorySegment.copy(data, 0, out.getSegment(), ValueLayout.JAVA_SHORT, at * Short.BYTES, data.length);
            at += data.length;
        }
        return new DeviceMatrix(new FloatArray(1), out, NeoXKernels.BF16);
    }

    static DeviceMatrix of(Matrix m) {
        return stack(List.of(m));
    }

    /** Both arrays, for transfers. */
    Object[] arrays() {
        return new Object[] {f32, bf16};
    }
}
