package org.blocktransformer.model.cpu;

/** Plain loops: the fallback when the Vector API is absent, and the reference the vector kernels are tested against. */
public final class ScalarKernels implements CpuKernels {
    public static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {
    }

    @Override
    public String describe() {
        return "scalar Java loops";
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int len) {
        float s = 0;
        for (int i = 0; i < len; i++) {
            s = Math.fma(a[ao + i], b[bo + i], s);
        }
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len) {
        for (int i = 0; i < len; i++) {
            y[yo + i] = Math.fma(alpha, x[xo + i], y[yo + i]);
        }
    }

    @Override
    public void panelTimesRows(float[] x, int M, int K, float[] panel, int po, int rows, int n0, float[] bias, float[] y, int ldy) {
        for (int m = 0; m < M; m++) {
            for (int r = 0; r < rows; r++) {
                float s = dot(x, m * K, panel, po + r * K, K);
                y[m * ldy + n0 + r] = bias == null ? s : s + bias[n0 + r];
            }
        }
    }

    @Override
    public void widenBf16(short[] src, int so, float[] dst, int len) {
        for (int i = 0; i < len; i++) {
            dst[i] = Float.intBitsToFloat(src[so + i] << 16);
        }
    }
}
