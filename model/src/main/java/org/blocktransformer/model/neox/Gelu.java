package org.blocktransformer.model.neox;

/** Exact GELU, {@code 0.5 x (1 + erf(x / sqrt 2))}, as PyTorch's default (not the tanh approximation). */
public final class Gelu {
    private static final double INV_SQRT2 = 0.7071067811865476;

    /**
     * The Chebyshev fit of Numerical Recipes (2nd ed., section 6.2): {@code erfc(z) = t exp(-z^2 + P(t))} with
     * {@code t = 1 / (1 + z/2)} and {@code P(t) = E0 + E1 t + ... + E9 t^9}, relative error below 1.2e-7. The
     * vector and GPU kernels evaluate the same polynomial in float32 from these constants.
     */
    public static final double E0 = -1.26551223;
    public static final double E1 = 1.00002368;
    public static final double E2 = 0.37409196;
    public static final double E3 = 0.09678418;
    public static final double E4 = -0.18628806;
    public static final double E5 = 0.27886807;
    public static final double E6 = -1.13520398;
    public static final double E7 = 1.48851587;
    public static final double E8 = -0.82215223;
    public static final double E9 = 0.17087277;

    private Gelu() {
    }

    public static void inPlace(float[] x, int from, int to) {
        for (int i = from; i < to; i++) {
            x[i] = apply(x[i]);
        }
    }

    public static float apply(float value) {
        double v = value;
        return (float) (0.5 * v * (1.0 + erf(v * INV_SQRT2)));
    }

    /** erf from the erfc fit above: relative error below 1.2e-7, more than float32 needs. */
    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double erfc = t * Math.exp(-z * z + E0 + t * (E1 + t * (E2 + t * (E3 + t * (E4 + t * (E5 + t * (E6
                + t * (E7 + t * (E8 + t * E9)))))))));
        return x >= 0 ? 1.0 - erfc : erfc - 1.0;
    }
}
