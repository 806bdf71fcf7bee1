package org.blocktransformer.model.cpu;

import org.blocktransformer.model.neox.Gelu;
import org.blocktransformer.model.weights.LayerNormWeights;

/**
 * Plain loops: the fallback when the Vector API is absent, and the reference the vector kernels are tested against,
 * bit for bit. Each follows the vector kernels' operations exactly: the matmul per output (k ascending with FMA,
 * then the bias), GELU in float32 with the same polynomial and exp, LayerNorm's sums through {@link Reductions}.
 */
public final class ScalarKernels implements CpuKernels {
    public static final ScalarKernels INSTANCE = new ScalarKernels();
    private static final int RL = Reductions.LANES;

    private ScalarKernels() {
    }

    @Override
    public String describe() {
        return "scalar Java loops";
    }

    @Override
    public int vectorBits() {
        return 0;
    }

    @Override
    public void keyScores(float[] q, int qo, float[] keys, int ko, int len, int stride, float[] scores, int so) {
        for (int lane = 0; lane < KEY_LANES; lane++) {
            float s = 0;
            for (int d = 0; d < len; d++) {
                s = Math.fma(q[qo + d], keys[ko + d * stride + lane], s);
            }
            scores[so + lane] = s;
        }
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len) {
        for (int i = 0; i < len; i++) {
            y[yo + i] = Math.fma(alpha, x[xo + i], y[yo + i]);
        }
    }

    /**
     * Per output, k ascending with FMA, then the bias: the vector kernels' order. The 64 outputs of a panel
     * accumulate side by side (64 independent chains rather than one at a time), which the JIT may also turn into
     * vector instructions: lanewise FMAs give the same bits either way.
     */
    @Override
    public void matmul(float[] x, int r0, int r1, PackedMatrix w, float[] bias, float[] y, int p0, int p1) {
        int n = w.rows();
        int k = w.cols();
        int panel = PackedMatrix.PANEL;
        float[] acc = new float[panel];
        for (int p = p0; p < p1; p++) {
            int base = p * k * panel;
            int width = Math.min(panel, n - p * panel);
            for (int m = r0; m < r1; m++) {
                java.util.Arrays.fill(acc, 0f);
                int xo = m * k;
                switch (w.format()) {
                    case F32 -> {
                        float[] f = w.f32();
                        for (int c = 0, wo = base; c < k; c++, wo += panel) {
                            float xv = x[xo + c];
                            for (int j = 0; j < panel; j++) {
                                acc[j] = Math.fma(xv, f[wo + j], acc[j]);
                            }
                        }
                    }
                    case BF16 -> {
                        short[] h = w.half();
                        for (int c = 0, wo = base; c < k; c++, wo += panel) {
                            float xv = x[xo + c];
                            for (int j = 0; j < panel; j++) {
                                acc[j] = Math.fma(xv, Float.intBitsToFloat(h[wo + j] << 16), acc[j]);
                            }
                        }
                    }
                    case F16 -> {
                        short[] h = w.half();
                        for (int c = 0, wo = base; c < k; c++, wo += panel) {
                            float xv = x[xo + c];
                            for (int j = 0; j < panel; j++) {
                                acc[j] = Math.fma(xv, Float.float16ToFloat(h[wo + j]), acc[j]);
                            }
                        }
                    }
                }
                int col = p * panel;
                for (int j = 0; j < width; j++) {
                    y[m * n + col + j] = acc[j] + bias[col + j];
                }
            }
        }
    }

    @Override
    public void gelu(float[] x, int from, int to) {
        for (int i = from; i < to; i++) {
            x[i] = gelu(x[i]);
        }
    }

    /** The vector kernel's float32 GELU for one element (see {@link VectorTemplate#gelu}), operation for operation. */
    static float gelu(float v) {
        float z = Math.abs(v) * 0.70710678f;
        float t = 1f / Math.fma(z, 0.5f, 1f);
        float p = Math.fma(t, (float) Gelu.E9, (float) Gelu.E8);
        p = Math.fma(p, t, (float) Gelu.E7);
        p = Math.fma(p, t, (float) Gelu.E6);
        p = Math.fma(p, t, (float) Gelu.E5);
        p = Math.fma(p, t, (float) Gelu.E4);
        p = Math.fma(p, t, (float) Gelu.E3);
        p = Math.fma(p, t, (float) Gelu.E2);
        p = Math.fma(p, t, (float) Gelu.E1);
        p = Math.fma(p, t, (float) Gelu.E0);
        float a = Math.max(-(z * z) + p, -87f);
        float kf = Math.fma(a, 1.44269504f, 12582912f) - 12582912f;
        float r = Math.fma(kf, -0.693145752f, a) + kf * -1.42860677e-6f;
        float e = Math.fma(r, 1.98412698e-4f, 1.38888889e-3f);
        e = Math.fma(e, r, 8.33333333e-3f);
        e = Math.fma(e, r, 4.16666667e-2f);
        e = Math.fma(e, r, 1.66666667e-1f);
        e = Math.fma(e, r, 0.5f);
        e = Math.fma(e, r, 1f);
        e = Math.fma(e, r, 1f);
        e = e * Float.intBitsToFloat(((int) kf + 127) << 23);
        float half = (t * e) * 0.5f;
        return v < 0f ? v * half : v * (-half + 1f);
    }

    @Override
    public void layerNorm(float[] x, int from, int to, LayerNormWeights w, double eps, float[] out) {
        int d = w.size();
        float[] g = w.weight();
        float[] b = w.bias();
        float[] lanes = new float[RL];
        int dv = d & -RL;
        for (int row = from; row < to; row++) {
            int o = row * d;
            for (int j = 0; j < RL; j++) {
                float s = 0;
                for (int i = j; i < dv; i += RL) {
                    s += x[o + i];
                }
                lanes[j] = s;
            }
            float sum = Reductions.combine(lanes, 0);
            for (int i = dv; i < d; i++) {
                sum += x[o + i];
            }
            float mean = sum / d;
            for (int j = 0; j < RL; j++) {
                float s = 0;
                for (int i = j; i < dv; i += RL) {
                    float c = x[o + i] - mean;
                    s = Math.fma(c, c, s);
                }
                lanes[j] = s;
            }
            float sq = Reductions.combine(lanes, 0);
            for (int i = dv; i < d; i++) {
                float c = x[o + i] - mean;
                sq = Math.fma(c, c, sq);
            }
            float inv = Reductions.inverseStd(sq / d, eps);
            for (int i = 0; i < d; i++) {
                out[o + i] = Math.fma((x[o + i] - mean) * inv, g[i], b[i]);
            }
        }
    }
}
