package org.blocktransformer.model.cpu;

import org.blocktransformer.model.weights.LayerNormWeights;

/**
 * The inner loops of the CPU backend. Every output element is computed by the same sequence of IEEE operations
 * whatever the batch, the tile it falls in, the JIT tier, the vector width or the implementation (vector or
 * scalar), so a sequence's results never depend on who shares its batch or on the machine (bitwise).
 */
public sealed interface CpuKernels permits ScalarKernels, VectorKernels {

    String describe();

    /** Bits per vector register the kernels use (128, 256 or 512), 0 for the scalar loops. */
    int vectorBits();

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
    default void matmulPanels(float[] x, int M, PackedMatrix w, float[] bias, float[] y, int p0, int p1) {
        matmul(x, 0, M, w, bias, y, p0, p1);
    }

    /**
     * As {@link #matmulPanels} for input rows {@code [r0, r1)} only (x and y still indexed from row 0): a matmul
     * split over rows and panels computes every output whole, by the same operations, in exactly one call.
     */
    void matmul(float[] x, int r0, int r1, PackedMatrix w, float[] bias, float[] y, int p0, int p1);

    /** Exact (erf) GELU in place over {@code x[from, to)}; each element's result depends only on its value. */
    void gelu(float[] x, int from, int to);

    /**
     * LayerNorm of rows {@code [from, to)} of {@code x} (rows of {@code w.size()} values) into the same rows of
     * {@code out}, which may be {@code x}: float32 statistics (sums as {@link Reductions} forms them), then
     * {@code fma((x - mean) / std, weight, bias)}.
     */
    void layerNorm(float[] x, int from, int to, LayerNormWeights w, double eps, float[] out);

    /** Compiles these kernels in the background (a daemon thread, started once), e.g. while a model loads. */
    default void warmUp() {
        KernelWarmup.start(this);
    }

    /**
     * The fastest kernels this JVM supports: the Vector API at the CPU's preferred width when its module is
     * present, else scalar loops (the reason is logged once).
     */
    static CpuKernels best() {
        return KernelSelection.best();
    }

    static CpuKernels scalar() {
        return ScalarKernels.INSTANCE;
    }

    /**
     * Kernels by name: {@code auto} ({@link #best()}), {@code scalar}, or a vector width {@code 128}, {@code 256},
     * {@code 512} (also spelled {@code vector256}).
     *
     * @throws IllegalArgumentException for another name, or a vector width without the Vector API module
     */
    static CpuKernels named(String name) {
        return KernelSelection.named(name);
    }
}
