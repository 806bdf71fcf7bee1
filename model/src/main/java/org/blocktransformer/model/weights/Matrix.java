package org.blocktransformer.model.weights;

/**
 * A weight matrix of {@code rows} outputs by {@code cols} inputs, row-major ({@link F32Matrix}, {@link HalfMatrix}:
 * PyTorch's Linear layout) or in the CPU kernels' panels ({@link PanelMatrix}), so that
 * {@code y[r] = sum_c W[r][c] * x[c]}. Embedding tables use the same type (one row per token).
 */
public sealed interface Matrix permits F32Matrix, HalfMatrix, PanelMatrix {

    int rows();

    int cols();

    /** Element (r, c) widened to float; for tests and slow paths. */
    float get(int r, int c);

    /** Copies row {@code r} as floats into {@code dst} at {@code offset}. */
    void copyRow(int r, float[] dst, int offset);

    /** Bytes this matrix occupies in memory. */
    long bytes();

    String dtype();
}
