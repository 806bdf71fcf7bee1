package org.blocktransformer.model.cpu;

import org.blocktransformer.model.weights.LayerNormWeights;

/**
 * Vector API kernels at one width (128, 256 or 512 bits), chosen from the machine by {@link CpuKernels#best()} or
 * named by {@link #of(int)}; every width gives the scalar kernels' bits. The loops are in {@link VectorTemplate}.
 */
public final class VectorKernels implements CpuKernels {
    private final VectorBody body;

    VectorKernels(VectorBody body) {
        this.body = body;
    }

    /** The kernels of {@code bits} bits (128, 256 or 512); widths the CPU lacks run emulated, slowly but exactly. */
    public static VectorKernels of(int bits) {
        return VectorWidths.get(bits);
    }

    /** The machine's preferred width (capped at 512 bits), or 0 when it has no vectors of at least 128 bits. */
    public static int preferredBits() {
        return VectorWidths.preferredBits();
    }

    @Override
    public int vectorBits() {
        return body.bits();
    }

    @Override
    public String describe() {
        int preferred = preferredBits();
        return "Vector API, " + body.bits() + "-bit kernels" + (preferred == body.bits() ? " (the CPU's preferred width)"
                : preferred == 0 ? " (emulated: the CPU has no vectors of 128 bits or more)"
                : " (the CPU prefers " + preferred + ")");
    }

    @Override
    public void keyScores(float[] q, int qo, float[] keys, int ko, int len, int stride, float[] scores, int so) {
        body.keyScores(q, qo, keys, ko, len, stride, scores, so);
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len) {
        body.axpy(alpha, x, xo, y, yo, len);
    }

    @Override
    public void matmul(float[] x, int r0, int r1, PackedMatrix w, float[] bias, float[] y, int p0, int p1) {
        body.matmul(x, r0, r1, w, bias, y, p0, p1);
    }

    @Override
    public void gelu(float[] x, int from, int to) {
        body.gelu(x, from, to);
    }

    @Override
    public void layerNorm(float[] x, int from, int to, LayerNormWeights w, double eps, float[] out) {
        body.layerNorm(x, from, to, w.size(), w.weight(), w.bias(), eps, out);
    }

    /** {@code len} (a multiple of 16) 16-bit weights, bfloat16 or float16 if {@code f16}, widened into {@code dst}. */
    void widen(short[] src, int so, float[] dst, int len, boolean f16) {
        body.widen(src, so, dst, len, f16);
    }
}
