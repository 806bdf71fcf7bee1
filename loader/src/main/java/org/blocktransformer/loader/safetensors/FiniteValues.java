package org.blocktransformer.loader.safetensors;

import org.blocktransformer.model.weights.Bf16Matrix;

/**
 * Finds NaNs and infinities among weights as they are read. One such weight turns every logit it reaches into NaN,
 * and greedy decoding then picks token 0 without any error, so a checkpoint holding one is refused at load. The reads
 * check the values they have just copied (a row or a chunk, still in the cache): one comparison per value and no
 * extra pass over the weights' memory.
 */
final class FiniteValues {
    /** Values copied and checked at a time by whole-tensor reads: small enough to stay in the cache. */
    static final int CHUNK = 1 << 14;

    private FiniteValues() {
    }

    /** The index of the first NaN or infinity in {@code values[from, to)}, or -1 when there is none. */
    static int firstNonFinite(float[] values, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!Float.isFinite(values[i])) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The index of the first NaN or infinity in {@code bits[from, to)}, 16-bit floats of {@code dtype} ({@link
     * DType#F16} or {@link DType#BF16}: those whose exponent bits are all ones), or -1 when there is none.
     */
    static int firstNonFinite(short[] bits, int from, int to, DType dtype) {
        int exponent = switch (dtype) {
            case F16 -> 0x7C00;
            case BF16 -> 0x7F80;
            case F32, I64 -> throw new IllegalArgumentException(dtype + " is not a 16-bit float type");
        };
        for (int i = from; i < to; i++) {
            if ((bits[i] & exponent) == exponent) {
                return i;
            }
        }
        return -1;
    }

    /** The 16-bit float {@code bits} of {@code dtype} as a float32, for messages. */
    static float widen(short bits, DType dtype) {
        return dtype == DType.F16 ? Float.float16ToFloat(bits) : Bf16Matrix.toFloat(bits);
    }
}
