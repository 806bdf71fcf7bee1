package org.blocktransformer.model.cpu;

import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.Matrix;

/** Kernels plus the threads that run them: what a CPU stack executor computes with. */
public record CpuOps(CpuKernels kernels, Parallel parallel) {

    /** {@code y[m, :] = W x[m, :] + bias} for M rows; x is [M, in], y is [M, out]. */
    public void linear(float[] x, int M, Linear layer, float[] y) {
        matmul(x, M, layer.weight(), layer.bias(), y);
    }

    public void matmul(float[] x, int M, Matrix w, float[] bias, float[] y) {
        int N = w.rows();
        long cost = (long) M * N * w.cols();
        // Split over output features only: each output is computed whole by one thread, so results do not
        // depend on the number of threads.
        parallel.forRange(N, CpuKernels.PANEL_ROWS * 4, cost, (n0, n1) -> kernels.matmulRange(x, M, w, bias, y, n0, n1));
    }
}
