package org.blocktransformer.model.cpu;

/**
 * The kernels of one vector width, as {@link VectorKernels} calls them. Implemented only by {@link VectorTemplate}
 * and its hidden copies (one per width, see {@link VectorWidths}); an interface of its own because a hidden class
 * cannot be a permitted subtype of the sealed {@link CpuKernels}.
 */
interface VectorBody {

    /** Bits per float vector: 128, 256 or 512. */
    int bits();

    void keyScores(float[] q, int qo, float[] keys, int ko, int len, int stride, float[] scores, int so);

    void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len);

    void matmul(float[] x, int r0, int r1, PackedMatrix w, float[] bias, float[] y, int p0, int p1);

    void gelu(float[] x, int from, int to);

    void layerNorm(float[] x, int from, int to, int d, float[] g, float[] b, double eps, float[] out);

    /** {@code len} (a multiple of 16) 16-bit weights, bfloat16 or float16 if {@code f16}, widened into {@code dst}. */
    void widen(short[] src, int so, float[] dst, int len, boolean f16);
}
