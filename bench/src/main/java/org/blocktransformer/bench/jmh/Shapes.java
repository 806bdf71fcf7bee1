package org.blocktransformer.bench.jmh;

import java.util.SplittableRandom;
import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.LayerNormWeights;
import org.blocktransformer.model.weights.LayerWeights;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.Matrix;

/** Random weights and inputs for the benchmarks. */
final class Shapes {
    /** The flag every benchmark fork needs for the vector kernels. */
    static final String VECTOR = "--add-modules=jdk.incubator.vector";

    private Shapes() {
    }

    static float[] random(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (scale * r.nextGaussian());
        }
        return a;
    }

    static Matrix matrix(SplittableRandom r, int rows, int cols, String dtype) {
        F32Matrix m = new F32Matrix(rows, cols, random(r, rows * cols, 1.0 / Math.sqrt(cols)));
        return switch (dtype) {
            case "bf16" -> Bf16Matrix.of(m);
            case "f16" -> F16Matrix.of(m);
            default -> m;
        };
    }

    static Linear linear(SplittableRandom r, int out, int in, String dtype) {
        return new Linear(matrix(r, out, in, dtype), random(r, out, 0.1));
    }

    static LayerNormWeights norm(SplittableRandom r, int d) {
        float[] g = random(r, d, 0.1);
        for (int i = 0; i < d; i++) {
            g[i] += 1;
        }
        return new LayerNormWeights(g, random(r, d, 0.1));
    }

    static LayerWeights layer(SplittableRandom r, int d, int inter, String dtype) {
        return new LayerWeights(norm(r, d), norm(r, d), linear(r, 3 * d, d, dtype), linear(r, d, d, dtype),
                linear(r, inter, d, dtype), linear(r, d, inter, dtype));
    }

    /** "1536x512" to {1536, 512}. */
    static int[] parse(String shape) {
        String[] p = shape.split("x");
        return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])};
    }
}
