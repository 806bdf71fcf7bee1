package org.blocktransformer.model.cpu;

import org.blocktransformer.model.weights.LayerNormWeights;

/** Kernels plus the threads that run them: what a CPU stack executor computes with. */
public record CpuOps(CpuKernels kernels, Parallel parallel) {

    /** {@code y[m, :] = W x[m, :] + bias} for M rows; x is [M, in], y is [M, out]. */
    public void linear(float[] x, int M, PackedLinear layer, float[] y) {
        PackedMatrix w = layer.weight();
        long cost = (long) M * w.rows() * w.cols();
        // Split over output panels only: each output is computed whole by one thread, so results do not depend
        // on the number of threads.
        parallel.forRange(w.panels(), 1, cost, (p0, p1) -> kernels.matmulPanels(x, M, w, layer.bias(), y, p0, p1));
    }

    /** LayerNorm of {@code rows} rows of x into out (which may be x), rows split over the threads. */
    public void layerNorm(float[] x, int rows, LayerNormWeights w, double eps, float[] out) {
        parallel.forRange(rows, 1, 4L * rows * w.size(), (r0, r1) -> kernels.layerNorm(x, r0, r1, w, eps, out));
    }
}
