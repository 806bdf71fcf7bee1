package org.blocktransformer.model.cpu;

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
}
