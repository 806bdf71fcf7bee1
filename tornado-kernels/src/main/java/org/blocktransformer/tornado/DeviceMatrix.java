package org.blocktransformer.tornado;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.blocktransformer.model.weights.HalfMatrix;
import org.blocktransformer.model.weights.Matrix;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * Weight matrices (one or several layers', stacked) as the matmul kernels take them: float32 values, or the
 * bfloat16 or float16 bits of a model loaded with 16-bit weights, which the kernels widen exactly (half the memory
 * and the memory traffic). The array of the other storage is a one-element placeholder: kernels take both.
 *
 * @param format {@link NeoXKernels#F32}, {@link NeoXKernels#BF16} or {@link NeoXKernels#F16}
 */
record DeviceMatrix(FloatArray f32, ShortArray half, int format) {

    /** The matrices stacked row-major [layer][rows][cols], in their own storage format (all must share one). */
    static DeviceMatrix stack(List<Matrix> layers) {
        Matrix first = layers.getFirst();
        for (Matrix m : layers) {
            if (!m.dtype().equals(first.dtype())) {
                throw new IllegalArgumentException("a layer group mixes " + m.dtype() + " with " + first.dtype()
                        + " weights");
            }
        }
        if (!(first instanceof HalfMatrix h)) {
            return new DeviceMatrix(DeviceArrays.stack(layers), new ShortArray(1), NeoXKernels.F32);
        }
        long size = 0;
        for (Matrix m : layers) {
            size += (long) m.rows() * m.cols();
        }
        ShortArray out = new ShortArray(DeviceArrays.checkedSize(size));
        long at = 0;
        for (Matrix m : layers) {
            short[] data = ((HalfMatrix) m).data();
            MemorySegment.copy(data, 0, out.getSegment(), ValueLayout.JAVA_SHORT, at * Short.BYTES, data.length);
            at += data.length;
        }
        int format = switch (h.format()) {
            case BF16 -> NeoXKernels.BF16;
            case F16 -> NeoXKernels.F16;
            case F32 -> throw new IllegalStateException("a 16-bit matrix says it is float32");
        };
        return new DeviceMatrix(new FloatArray(1), out, format);
    }

    static DeviceMatrix of(Matrix m) {
        return stack(List.of(m));
    }

    /** Both arrays, for transfers. */
    Object[] arrays() {
        return new Object[] {f32, half};
    }
}
