package org.blocktransformer.model.cpu;

import org.blocktransformer.model.weights.LayerNormWeights;

/** Kernels plus the threads that run them: what a CPU stack executor computes with. */
public record CpuOps(CpuKernels kernels, Parallel parallel) {

    /** {@code y[m, :] = W x[m, :] + bias} for M rows; x is [M, in], y is [M, out]. */
    public void linear(float[] x, int M, PackedLinear layer, float[] y) {
        PackedMatrix w = layer.weight();
        int panels = w.panels();
        long cost = (long) M * w.rows() * w.cols();
        // Each output is computed whole by one call, so results do not depend on the split. The split is over
        // output panels, and over row blocks too when the panels alone are too few to keep every thread busy
        // (the presets' 512- to 2,048-wide layers have 8 to 96 panels; 16 threads want 64 tasks or more).
        int rowParts = rowParts(M, panels, parallel.threads());
        if (rowParts == 1) {
            parallel.forRange(panels, 1, cost, (p0, p1) -> kernels.matmul(x, 0, M, w, layer.bias(), y, p0, p1));
            return;
        }
        // Parts of whole four-row tiles.
        int rowsPerPart = ((M + rowParts - 1) / rowParts + 3) & -4;
        int parts = (M + rowsPerPart - 1) / rowsPerPart;
        parallel.forRange(parts * panels, 1, cost, (u0, u1) -> {
            // Units are (row part, panel) in row-part-major order: one call per row part the range touches.
            for (int u = u0; u < u1; ) {
                int part = u / panels;
                int p0 = u % panels;
                int p1 = Math.min(panels, p0 + (u1 - u));
                int r0 = part * rowsPerPart;
                kernels.matmul(x, r0, Math.min(M, r0 + rowsPerPart), w, layer.bias(), y, p0, p1);
                u += p1 - p0;
            }
        });
    }

    /** Tasks per thread the split aims at, so that uneven tasks still even out. */
    private static final int TASKS_PER_THREAD = 4;
    /** Fewest rows a row part gets: two of the kernel's four-row tiles, each part re-reading the weights. */
    private static final int MIN_PART_ROWS = 8;

    /** Row parts to split M rows into, given the panels and threads (1: panels only). */
    static int rowParts(int M, int panels, int threads) {
        int wanted = TASKS_PER_THREAD * threads;
        if (threads <= 1 || panels >= wanted || M < 2 * MIN_PART_ROWS) {
            return 1;
        }
        return Math.max(1, Math.min((wanted + panels - 1) / panels, M / MIN_PART_ROWS));
    }

    /** LayerNorm of {@code rows} rows of x into out (which may be x), rows split over the threads. */
    public void layerNorm(float[] x, int rows, LayerNormWeights w, double eps, float[] out) {
        parallel.forRange(rows, 1, 4L * rows * w.size(), (r0, r1) -> kernels.layerNorm(x, r0, r1, w, eps, out));
    }
}
