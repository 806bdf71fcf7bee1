package org.blocktransformer.model.neox;

/** Exact GELU, {@code 0.5 x (1 + erf(x / sqrt 2))}, as PyTorch's default (not the tanh approximation). */
public final class Gelu {
    private static final double INV_SQRT2 = 0.7071067811865476;

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

    /**
     * erf with relative error below 1.2e-7 everywhere (the Chebyshev-fitted erfc of Numerical Recipes, 2nd ed.,
     * section 6.2), more than float32 needs.
     */
    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - erfc : erfc - 1.0;
    }
}
