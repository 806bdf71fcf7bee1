package org.blocktransformer.tornado;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.blocktransformer.model.weights.HalfMatrix;
import org.blocktransformer.model.weights.Matrix;
import org.blocktransformer.tornado.kernels.MmaKernels;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import org.blocktransformer.tornado.kernels.PackedDecodeKernels;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * Weight matrices (one or several layers', stacked) as the matmul kernels take them: float32 values, or the
 * bfloat16 or float16 bits of a model loaded with 16-bit weights, which the kernels widen exactly (half the memory
 * and the memory traffic). The array of the other storage is a one-element placeholder: kernels take both.
 *
 * <p>A float16 matrix on a device with tensor cores is held only as {@code tensor}: its bits packed as the
 * tensor-core kernel reads them ({@link MmaKernels#packWeights}), which the few-token kernel there
 * ({@link PackedDecodeKernels}) reads too; {@code half} is then a placeholder. Elsewhere {@code tensor} is a
 * one-element placeholder.
 *
 * @param format {@link NeoXKernels#F32}, {@link NeoXKernels#BF16} or {@link NeoXKernels#F16}
 */
record DeviceMatrix(FloatArray f32, ShortArray half, int format, LongArray tensor) {

    /**
     * The matrices stacked row-major [layer][rows][cols], in their own storage format (all must share one); with
     * {@code tensor}, float16 matrices also packed for the tensor-core kernel.
     */
    static DeviceMatrix stack(List<Matrix> layers, boolean tensor) {
        Matrix first = layers.getFirst();
        for (Matrix m : layers) {
            if (!m.dtype().equals(first.dtype())) {
                throw new IllegalArgumentException("a layer group mixes " + m.dtype() + " with " + first.dtype()
                        + " weights");
            }
        }
        if (!(first instanceof HalfMatrix h)) {
            return new DeviceMatrix(DeviceArrays.stack(layers), new ShortArray(1), NeoXKernels.F32, new LongArray(1));
        }
        int format = switch (h.format()) {
            case BF16 -> NeoXKernels.BF16;
            case F16 -> NeoXKernels.F16;
            case F32 -> throw new IllegalStateException("a 16-bit matrix says it is float32");
        };
        if (tensor && format == NeoXKernels.F16) {
            short[][] bits = new short[layers.size()][];
            for (int l = 0; l < bits.length; l++) {
                bits[l] = ((HalfMatrix) layers.get(l)).data();
            }
            LongArray packed = LongArray.fromArray(MmaKernels.packWeights(bits, first.rows(), first.cols()));
            return new DeviceMatrix(new FloatArray(1), new ShortArray(1), format, packed);
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
        return new DeviceMatrix(new FloatArray(1), out, format, new LongArray(1));
    }

    static DeviceMatrix of(Matrix m, boolean tensor) {
        return stack(List.of(m), tensor);
    }

    /** Whether {@link #tensor} holds the packed weights. */
    boolean hasTensor() {
        return tensor.getSize() > 1;
    }

    /** The arrays the kernels read (the two storages and the packed copy; placeholders included), for transfers. */
    Object[] arrays() {
        return new Object[] {f32, half, tensor};
    }
}
