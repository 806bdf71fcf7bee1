package org.blocktransformer.model.cpu;

import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.Matrix;

/**
 * The inner loops of the CPU backend. Every output element is computed by the same sequence of operations however
 * many rows share the call, so a sequence's results do not depend on its batch (bitwise).
 */
public sealed interface CpuKernels permits ScalarKernels, VectorKernels {

    /** Rows of W handled together; bf16 rows are widened to float32 a panel at a time. */
    int PANEL_ROWS = 4;

    String describe();

    /** {@code sum_i a[ao+i] * b[bo+i]} for i < len. */
    float dot(float[] a, int ao, float[] b, int bo, int len);

    /** {@code y[yo+i] += alpha * x[xo+i]} for i < len. */
    void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len);

    /**
     * {@code y[m*ldy + n] = bias[n] + dot(x[m*K ..], panel row (n - n0))} for m < M and the {@code rows} rows of a
     * panel holding W rows {@code n0 .. n0+rows-1} at {@code panel[po + r*K ..]}.
     */
    void panelTimesRows(float[] x, int M, int K, float[] panel, int po, int rows, int n0, float[] bias, float[] y, int ldy);

    /**
     * {@code y[m*N + n] = bias[n] + sum_k x[m*K + k] * W[n][k]} for m < M and n in {@code [n0, n1)}, with N = W.rows
     * and K = W.cols. {@code bias} may be null.
     */
    default void matmulRange(float[] x, int M, Matrix w, float[] bias, float[] y, int n0, int n1) {
        int K = w.cols();
        int N = w.rows();
        switch (w) {
            case F32Matrix f -> {
                for (int n = n0; n < n1; n += PANEL_ROWS) {
                    int rows = Math.min(PANEL_ROWS, n1 - n);
                    panelTimesRows(x, M, K, f.data(), n * K, rows, n, bias, y, N);
                }
            }
            case Bf16Matrix b -> {
                float[] panel = PanelScratch.get(PANEL_ROWS * K);
                for (int n = n0; n < n1; n += PANEL_ROWS) {
                    int rows = Math.min(PANEL_ROWS, n1 - n);
                    widenBf16(b.data(), n * K, panel, rows * K);
                    panelTimesRows(x, M, K, panel, 0, rows, n, bias, y, N);
                }
            }
        }
    }

    /** {@code dst[i] = float(src[so + i])} for i < len, bf16 to float32. */
    void widenBf16(short[] src, int so, float[] dst, int len);

    /** The fastest kernels this JVM supports: the Vector API when its module is present, else scalar loops. */
    static CpuKernels best() {
        return KernelSelection.BEST;
    }

    static CpuKernels scalar() {
        return ScalarKernels.INSTANCE;
    }
}
