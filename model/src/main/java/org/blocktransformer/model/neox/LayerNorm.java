package org.blocktransformer.model.neox;

import org.blocktransformer.model.weights.LayerNormWeights;

/**
 * LayerNorm with scale and shift over the last dimension, statistics in double: the plain definition that kernels
 * are checked against (the CPU backend runs {@link org.blocktransformer.model.cpu.CpuKernels#layerNorm}).
 */
public final class LayerNorm {
    private LayerNorm() {
    }

    /** {@code out[r] = (x[r] - mean) / sqrt(var + eps) * weight + bias} for each of {@code rows} rows. */
    public static void apply(float[] x, int rows, LayerNormWeights w, double eps, float[] out) {
        int d = w.size();
        float[] g = w.weight();
        float[] b = w.bias();
        for (int r = 0; r < rows; r++) {
            int o = r * d;
            double sum = 0;
            for (int i = 0; i < d; i++) {
                sum += x[o + i];
            }
            double mean = sum / d;
            double sq = 0;
            for (int i = 0; i < d; i++) {
                double c = x[o + i] - mean;
                sq += c * c;
            }
            double inv = 1.0 / Math.sqrt(sq / d + eps);
            for (int i = 0; i < d; i++) {
                out[o + i] = (float) ((x[o + i] - mean) * inv) * g[i] + b[i];
            }
        }
    }
}
