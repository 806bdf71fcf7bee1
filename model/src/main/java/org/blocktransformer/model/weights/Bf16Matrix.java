package org.blocktransformer.model.weights;

import java.util.Objects;

/**
 * A bfloat16 matrix: half the memory traffic of float32, widened to float32 in registers with float32
 * accumulation. Used on the CPU where a decode step is bound by reading the weights.
 */
public record Bf16Matrix(int rows, int cols, short[] data) implements HalfMatrix {

    public Bf16Matrix {
        Objects.requireNonNull(data, "data");
        HalfMatrix.checkShape(rows, cols, data);
    }

    /** Rounds a float32 matrix to bfloat16 (round to nearest even). */
    public static Bf16Matrix of(F32Matrix m) {
        float[] src = m.data();
        short[] dst = new short[src.length];
        for (int i = 0; i < src.length; i++) {
            dst[i] = fromFloat(src[i]);
        }
        return new Bf16Matrix(m.rows(), m.cols(), dst);
    }

    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float toFloat(short s) {
        return Float.intBitsToFloat((s & 0xFFFF) << 16);
    }

    @Override
    public WeightFormat format() {
        return WeightFormat.BF16;
    }

    @Override
    public float widen(short bits) {
        return toFloat(bits);
    }

    @Override
    public String dtype() {
        return "bf16";
    }
}
