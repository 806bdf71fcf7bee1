package org.blocktransformer.model.weights;

import java.util.Objects;

/**
 * An IEEE float16 matrix: half the memory traffic of float32, widened exactly to float32 for float32 arithmetic.
 * Its weights are finite (the kernels widen by scaling, which has no infinities), so values beyond float16's range
 * are refused rather than stored as infinities.
 */
public record F16Matrix(int rows, int cols, short[] data) implements HalfMatrix {
    /** Largest finite float16 value. */
    public static final float MAX = 65504f;

    public F16Matrix {
        Objects.requireNonNull(data, "data");
        HalfMatrix.checkShape(rows, cols, data);
        for (int i = 0; i < data.length; i++) {
            if ((data[i] & 0x7C00) == 0x7C00) {
                throw new IllegalArgumentException("float16 matrix " + rows + "x" + cols + " holds "
                        + Float.float16ToFloat(data[i]) + " at row " + i / cols + ", column " + i % cols
                        + " (weights must be finite)");
            }
        }
    }

    /** Rounds a float32 matrix to float16 (round to nearest even); refuses values beyond float16's range. */
    public static F16Matrix of(F32Matrix m) {
        float[] src = m.data();
        short[] dst = new short[src.length];
        for (int i = 0; i < src.length; i++) {
            dst[i] = fromFloat(src[i]);
        }
        return new F16Matrix(m.rows(), m.cols(), dst);
    }

    /** {@code f} rounded to float16 bits; an {@link IllegalArgumentException} if it is not finite there. */
    public static short fromFloat(float f) {
        short h = Float.floatToFloat16(f);
        if ((h & 0x7C00) == 0x7C00) {
            throw new IllegalArgumentException(f + " is outside float16's range (+-" + MAX + "); use bf16 or f32"
                    + " weights");
        }
        return h;
    }

    public static float toFloat(short h) {
        return Float.float16ToFloat(h);
    }

    @Override
    public WeightFormat format() {
        return WeightFormat.F16;
    }

    @Override
    public float widen(short bits) {
        return toFloat(bits);
    }

    @Override
    public String dtype() {
        return "f16";
    }
}
