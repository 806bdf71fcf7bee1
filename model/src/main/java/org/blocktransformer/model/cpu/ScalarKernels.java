package org.blocktransformer.model.cpu;

/**
 * Plain loops: the fallback when the Vector API is absent, and the reference the vector kernels are tested against.
 * The matmul follows the vector kernel's order exactly (per output, k ascending with FMA, then the bias), so both
 * give the same bits.
 */
public final class ScalarKernels implements CpuKernels {
    public static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {
    }

    @Override
    public String describe() {
        return "scalar Java loops";
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int len) {
        float s = 0;
        for (int i = 0; i < len; i++) {
            s = Math.fma(a[ao + i], b[bo + i], s);
        }
        return s;
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

    @Override
    public void matmulPanels(float[] x, int M, PackedMatrix w, float[] bias, float[] y, int p0, int p1) {
        int n = w.rows();
        int k = w.cols();
        int panel = PackedMatrix.PANEL;
        for (int p = p0; p < p1; p++) {
            int base = p * k * panel;
            int width = Math.min(panel, n - p * panel);
            for (int m = 0; m < M; m++) {
                for (int j = 0; j < width; j++) {
                    float s = 0;
                    for (int c = 0; c < k; c++) {
                        int at = base + c * panel + j;
                        float wv = w.weight(at);
                        s = Math.fma(x[m * k + c], wv, s);
                    }
                    int col = p * panel + j;
                    y[m * n + col] = s + bias[col];
                }
            }
        }
    }

    @Override
    public void gelu(float[] x, int from, int to) {
        org.blocktransformer.model.neox.Gelu.inPlace(x, from, to);
    }
}
