package org.blocktransformer.model.cpu;

/**
 * The inner loops of the CPU backend. Every output element is computed by the same sequence of IEEE operations
 * whatever the batch, the tile it falls in, the JIT tier or the implementation (vector or scalar), so a sequence's
 * results never depend on who shares its batch (bitwise).
 */
public sealed interface CpuKernels permits ScalarKernels, VectorKernels {

    String describe();

    /** {@code sum_i a[ao+i] * b[bo+i]} for i < len, accumulated in a fixed order. */
    float dot(float[] a, int ao, float[] b, int bo, int len);

    /** Positions scored at once by {@link #keyScores}: the CPU key cache's page size. */
    int KEY_LANES = 16;

    /**
     * Scores of one query against {@link #KEY_LANES} keys stored transposed ({@code keys[ko + d*stride + lane]} is
     * dimension d of key {@code lane}): {@code scores[so + lane] = sum_d q[qo+d] * key_lane[d]}, d ascending, FMA.
     */
    void keyScores(float[] q, int qo, float[] keys, int ko, int len, int stride, float[] scores, int so);

    /** {@code y[yo+i] += alpha * x[xo+i]} for i < len. */
    void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len);

    /**
     * {@code y[m*N + n] = bias[n] + sum_k x[m*K + k] * W[n][k]} (k ascending, one FMA each) for m < M and the
     * outputs of panels {@code [p0, p1)}; N = W.rows, K = W.cols; {@code bias} holds {@code panels * PANEL} values
     * (see {@link PackedLinear#padBias}).
     */
    void matmulPanels(float[] x, int M, PackedMatrix w, float[] bias, float[] y, int p0, int p1);

    /** Exact (erf) GELU in place over {@code x[from, to)}; each element's result depends only on its value. */
    void gelu(float[] x, int from, int to);

    /** The fastest kernels this JVM supports: the Vector API when its module is present, else scalar loops. */
    static CpuKernels best() {
        return KernelSelection.BEST;
    }

    static CpuKernels scalar() {
        return ScalarKernels.INSTANCE;
    }
}
