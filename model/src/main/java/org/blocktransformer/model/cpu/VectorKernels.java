package org.blocktransformer.model.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels (512-bit on AVX-512 machines). Only lanewise IEEE operations, FMAs and exact data movement
 * are used on the paths that decide results: {@code reduceLanes} and the vector {@code EXP} give different bits in
 * interpreted and compiled code, which would make results depend on JIT warm-up and on the batch.
 */
public final class VectorKernels implements CpuKernels {
    public static final VectorKernels INSTANCE = new VectorKernels();

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final int L = 16;
    private static final int PANEL = PackedMatrix.PANEL;
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);
    private static final ThreadLocal<float[]> WIDENED = ThreadLocal.withInitial(() -> new float[0]);

    private VectorKernels() {
        if (FloatVector.SPECIES_PREFERRED.vectorBitSize() < 256) {
            throw new UnsupportedOperationException("no 256-bit vectors on this CPU");
        }
    }

    @Override
    public String describe() {
        return "Vector API, " + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit preferred, 512-bit kernels";
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int len) {
        int kv = len & -L;
        float s = 0;
        if (kv > 0) {
            FloatVector acc = FloatVector.zero(F);
            for (int k = 0; k < kv; k += L) {
                acc = FloatVector.fromArray(F, a, ao + k).fma(FloatVector.fromArray(F, b, bo + k), acc);
            }
            float[] lanes = LANES.get();
            acc.intoArray(lanes, 0);
            s = sumLanes(lanes);
        }
        for (int k = kv; k < len; k++) {
            s = Math.fma(a[ao + k], b[bo + k], s);
        }
        return s;
    }

    /** Pairwise sum in a fixed order. */
    private static float sumLanes(float[] v) {
        float a = (v[0] + v[8]) + (v[4] + v[12]);
        float b = (v[2] + v[10]) + (v[6] + v[14]);
        float c = (v[1] + v[9]) + (v[5] + v[13]);
        float d = (v[3] + v[11]) + (v[7] + v[15]);
        return (a + b) + (c + d);
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len) {
        int kv = len & -L;
        FloatVector a = FloatVector.broadcast(F, alpha);
        for (int k = 0; k < kv; k += L) {
            FloatVector.fromArray(F, x, xo + k).fma(a, FloatVector.fromArray(F, y, yo + k)).intoArray(y, yo + k);
        }
        for (int k = kv; k < len; k++) {
            y[yo + k] = Math.fma(alpha, x[xo + k], y[yo + k]);
        }
    }

    @Override
    public void matmulPanels(float[] x, int M, PackedMatrix w, float[] bias, float[] y, int p0, int p1) {
        int k = w.cols();
        for (int p = p0; p < p1; p++) {
            float[] panel;
            int base;
            if (w.isBf16()) {
                panel = widened(k * PANEL);
                widenBf16(w.bf16(), p * k * PANEL, panel, k * PANEL);
                base = 0;
            } else {
                panel = w.f32();
                base = p * k * PANEL;
            }
            int m = 0;
            for (; m + 4 <= M; m += 4) {
                tile4(x, m, k, panel, base, p, w.rows(), bias, y);
            }
            for (; m < M; m++) {
                tile1(x, m, k, panel, base, p, w.rows(), bias, y);
            }
        }
    }

    private static float[] widened(int size) {
        float[] b = WIDENED.get();
        if (b.length < size) {
            b = new float[size];
            WIDENED.set(b);
        }
        return b;
    }

    private static void widenBf16(short[] src, int so, float[] dst, int len) {
        for (int k = 0; k < len; k += L) {
            // Sign extension is harmless: the shift pushes the extended bits out of the word.
            ShortVector.fromArray(S, src, so + k)
                    .convertShape(VectorOperators.S2I, I, 0)
                    .reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats()
                    .intoArray(dst, k);
        }
    }

    /** One input row times one panel: four accumulators of 16 outputs. */
    private static void tile1(float[] x, int m, int k, float[] w, int base, int p, int n, float[] bias, float[] y) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int xo = m * k;
        for (int c = 0, wo = base; c < k; c++, wo += PANEL) {
            FloatVector xv = FloatVector.broadcast(F, x[xo + c]);
            a0 = xv.fma(FloatVector.fromArray(F, w, wo), a0);
            a1 = xv.fma(FloatVector.fromArray(F, w, wo + L), a1);
            a2 = xv.fma(FloatVector.fromArray(F, w, wo + 2 * L), a2);
            a3 = xv.fma(FloatVector.fromArray(F, w, wo + 3 * L), a3);
        }
        int col = p * PANEL;
        int yo = m * n + col;
        store(a0, bias, y, yo, col, n);
        store(a1, bias, y, yo + L, col + L, n);
        store(a2, bias, y, yo + 2 * L, col + 2 * L, n);
        store(a3, bias, y, yo + 3 * L, col + 3 * L, n);
    }

    /** Four input rows times one panel: 16 accumulators, each weight vector loaded once for four FMAs. */
    private static void tile4(float[] x, int m, int k, float[] w, int base, int p, int n, float[] bias, float[] y) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z;
        FloatVector a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z;
        FloatVector a30 = z, a31 = z, a32 = z, a33 = z;
        int x0 = m * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        for (int c = 0, wo = base; c < k; c++, wo += PANEL) {
            FloatVector w0 = FloatVector.fromArray(F, w, wo);
            FloatVector w1 = FloatVector.fromArray(F, w, wo + L);
            FloatVector w2 = FloatVector.fromArray(F, w, wo + 2 * L);
            FloatVector w3 = FloatVector.fromArray(F, w, wo + 3 * L);
            FloatVector u = FloatVector.broadcast(F, x[x0 + c]);
            a00 = u.fma(w0, a00);
            a01 = u.fma(w1, a01);
            a02 = u.fma(w2, a02);
            a03 = u.fma(w3, a03);
            u = FloatVector.broadcast(F, x[x1 + c]);
            a10 = u.fma(w0, a10);
            a11 = u.fma(w1, a11);
            a12 = u.fma(w2, a12);
            a13 = u.fma(w3, a13);
            u = FloatVector.broadcast(F, x[x2 + c]);
            a20 = u.fma(w0, a20);
            a21 = u.fma(w1, a21);
            a22 = u.fma(w2, a22);
            a23 = u.fma(w3, a23);
            u = FloatVector.broadcast(F, x[x3 + c]);
            a30 = u.fma(w0, a30);
            a31 = u.fma(w1, a31);
            a32 = u.fma(w2, a32);
            a33 = u.fma(w3, a33);
        }
        int col = p * PANEL;
        int y0 = m * n + col;
        store(a00, bias, y, y0, col, n);
        store(a01, bias, y, y0 + L, col + L, n);
        store(a02, bias, y, y0 + 2 * L, col + 2 * L, n);
        store(a03, bias, y, y0 + 3 * L, col + 3 * L, n);
        y0 += n;
        store(a10, bias, y, y0, col, n);
        store(a11, bias, y, y0 + L, col + L, n);
        store(a12, bias, y, y0 + 2 * L, col + 2 * L, n);
        store(a13, bias, y, y0 + 3 * L, col + 3 * L, n);
        y0 += n;
        store(a20, bias, y, y0, col, n);
        store(a21, bias, y, y0 + L, col + L, n);
        store(a22, bias, y, y0 + 2 * L, col + 2 * L, n);
        store(a23, bias, y, y0 + 3 * L, col + 3 * L, n);
        y0 += n;
        store(a30, bias, y, y0, col, n);
        store(a31, bias, y, y0 + L, col + L, n);
        store(a32, bias, y, y0 + 2 * L, col + 2 * L, n);
        store(a33, bias, y, y0 + 3 * L, col + 3 * L, n);
    }

    /** Adds the bias and stores 16 outputs starting at column {@code col}, masked past the last column. */
    private static void store(FloatVector acc, float[] bias, float[] y, int yo, int col, int n) {
        if (col + L <= n) {
            (bias == null ? acc : acc.add(FloatVector.fromArray(F, bias, col))).intoArray(y, yo);
        } else if (col < n) {
            VectorMask<Float> mask = F.indexInRange(col, n);
            (bias == null ? acc : acc.add(FloatVector.fromArray(F, bias, col, mask))).intoArray(y, yo, mask);
        }
    }

    /**
     * GELU with erf from the Numerical Recipes erfc fit (relative error below 1.2e-7) and an FMA-only exp, in
     * float32 lanes. The tail runs the same lanes under a mask, so an element's result never depends on its place.
     */
    @Override
    public void gelu(float[] x, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> mask = F.indexInRange(i, to);
            FloatVector v = FloatVector.fromArray(F, x, i, mask);
            FloatVector z = v.abs().mul(0.70710678f);
            FloatVector t = FloatVector.broadcast(F, 1f).div(z.fma(0.5f, 1f));
            FloatVector p = t.fma(0.17087277f, -0.82215223f)
                    .fma(t, FloatVector.broadcast(F, 1.48851587f))
                    .fma(t, FloatVector.broadcast(F, -1.13520398f))
                    .fma(t, FloatVector.broadcast(F, 0.27886807f))
                    .fma(t, FloatVector.broadcast(F, -0.18628806f))
                    .fma(t, FloatVector.broadcast(F, 0.09678418f))
                    .fma(t, FloatVector.broadcast(F, 0.37409196f))
                    .fma(t, FloatVector.broadcast(F, 1.00002368f))
                    .fma(t, FloatVector.broadcast(F, -1.26551223f));
            FloatVector erfc = t.mul(exp(z.mul(z).neg().add(p)));
            // 0.5 x (1 + erf(x/sqrt2)) = x (1 - erfc/2) for x >= 0 and x erfc/2 for x < 0.
            FloatVector half = erfc.mul(0.5f);
            FloatVector positive = v.mul(half.neg().add(1f));
            FloatVector negative = v.mul(half);
            positive.blend(negative, v.compare(VectorOperators.LT, 0f)).intoArray(x, i, mask);
        }
    }

    /**
     * e^x for x in about [-87, 0]: x = k ln2 + r with |r| <= ln2/2 (Cody-Waite, round-to-nearest by the 1.5*2^23
     * trick), a degree-7 Taylor polynomial for e^r (relative error ~2e-8), times 2^k built in the exponent bits.
     */
    private static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(-87f).min(88f);
        FloatVector shifter = FloatVector.broadcast(F, 12582912f);
        FloatVector kf = xc.fma(1.44269504f, 12582912f).sub(shifter);
        FloatVector r = kf.fma(FloatVector.broadcast(F, -0.693145752f), xc).add(kf.mul(-1.42860677e-6f));
        FloatVector poly = r.fma(1.98412698e-4f, 1.38888889e-3f)
                .fma(r, FloatVector.broadcast(F, 8.33333333e-3f))
                .fma(r, FloatVector.broadcast(F, 4.16666667e-2f))
                .fma(r, FloatVector.broadcast(F, 1.66666667e-1f))
                .fma(r, FloatVector.broadcast(F, 0.5f))
                .fma(r, FloatVector.broadcast(F, 1f))
                .fma(r, FloatVector.broadcast(F, 1f));
        IntVector k = (IntVector) kf.convertShape(VectorOperators.F2I, I, 0);
        FloatVector scale = k.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return poly.mul(scale);
    }
}
