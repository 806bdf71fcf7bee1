package org.blocktransformer.model.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels. The matmul works on register tiles of 4 input rows x 4 weight rows (16 accumulators), so
 * each weight vector loaded from memory feeds four FMAs. Every output uses one accumulator over k in order, a lane
 * reduction, then a scalar tail: the same operations whatever tile it falls in.
 */
public final class VectorKernels implements CpuKernels {
    public static final VectorKernels INSTANCE = new VectorKernels();

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();

    private VectorKernels() {
    }

    @Override
    public String describe() {
        return "Vector API, " + F.vectorBitSize() + "-bit (" + L + " floats)";
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int len) {
        int kv = F.loopBound(len);
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < kv; k += L) {
            acc = FloatVector.fromArray(F, a, ao + k).fma(FloatVector.fromArray(F, b, bo + k), acc);
        }
        return tail(acc, a, ao, b, bo, kv, len);
    }

    private static float tail(FloatVector acc, float[] a, int ao, float[] b, int bo, int from, int len) {
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (int k = from; k < len; k++) {
            s = Math.fma(a[ao + k], b[bo + k], s);
        }
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len) {
        int kv = F.loopBound(len);
        FloatVector a = FloatVector.broadcast(F, alpha);
        for (int k = 0; k < kv; k += L) {
            FloatVector.fromArray(F, x, xo + k).fma(a, FloatVector.fromArray(F, y, yo + k)).intoArray(y, yo + k);
        }
        for (int k = kv; k < len; k++) {
            y[yo + k] = Math.fma(alpha, x[xo + k], y[yo + k]);
        }
    }

    @Override
    public void widenBf16(short[] src, int so, float[] dst, int len) {
        int kv = S.loopBound(len);
        for (int k = 0; k < kv; k += L) {
            // Sign extension is harmless: the shift pushes the extended bits out of the word.
            ShortVector.fromArray(S, src, so + k)
                    .convertShape(VectorOperators.S2I, I, 0)
                    .reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats()
                    .intoArray(dst, k);
        }
        for (int k = kv; k < len; k++) {
            dst[k] = Float.intBitsToFloat(src[so + k] << 16);
        }
    }

    @Override
    public void panelTimesRows(float[] x, int M, int K, float[] panel, int po, int rows, int n0, float[] bias, float[] y, int ldy) {
        if (rows == PANEL_ROWS) {
            int m = 0;
            for (; m + 4 <= M; m += 4) {
                tile4x4(x, m, K, panel, po, n0, bias, y, ldy);
            }
            for (; m < M; m++) {
                tile1x4(x, m, K, panel, po, n0, bias, y, ldy);
            }
        } else {
            for (int m = 0; m < M; m++) {
                for (int r = 0; r < rows; r++) {
                    float s = dot(x, m * K, panel, po + r * K, K);
                    y[m * ldy + n0 + r] = bias == null ? s : s + bias[n0 + r];
                }
            }
        }
    }

    private static void tile1x4(float[] x, int m, int K, float[] w, int po, int n0, float[] bias, float[] y, int ldy) {
        int kv = F.loopBound(K);
        int x0 = m * K;
        int w0 = po, w1 = po + K, w2 = po + 2 * K, w3 = po + 3 * K;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < kv; k += L) {
            FloatVector xv = FloatVector.fromArray(F, x, x0 + k);
            a0 = xv.fma(FloatVector.fromArray(F, w, w0 + k), a0);
            a1 = xv.fma(FloatVector.fromArray(F, w, w1 + k), a1);
            a2 = xv.fma(FloatVector.fromArray(F, w, w2 + k), a2);
            a3 = xv.fma(FloatVector.fromArray(F, w, w3 + k), a3);
        }
        int yo = m * ldy + n0;
        y[yo] = addBias(tail(a0, x, x0, w, w0, kv, K), bias, n0);
        y[yo + 1] = addBias(tail(a1, x, x0, w, w1, kv, K), bias, n0 + 1);
        y[yo + 2] = addBias(tail(a2, x, x0, w, w2, kv, K), bias, n0 + 2);
        y[yo + 3] = addBias(tail(a3, x, x0, w, w3, kv, K), bias, n0 + 3);
    }

    private static void tile4x4(float[] x, int m, int K, float[] w, int po, int n0, float[] bias, float[] y, int ldy) {
        int kv = F.loopBound(K);
        int x0 = m * K, x1 = x0 + K, x2 = x1 + K, x3 = x2 + K;
        int w0 = po, w1 = po + K, w2 = po + 2 * K, w3 = po + 3 * K;
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z;
        FloatVector a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z;
        FloatVector a30 = z, a31 = z, a32 = z, a33 = z;
        for (int k = 0; k < kv; k += L) {
            FloatVector v0 = FloatVector.fromArray(F, w, w0 + k);
            FloatVector v1 = FloatVector.fromArray(F, w, w1 + k);
            FloatVector v2 = FloatVector.fromArray(F, w, w2 + k);
            FloatVector v3 = FloatVector.fromArray(F, w, w3 + k);
            FloatVector u = FloatVector.fromArray(F, x, x0 + k);
            a00 = u.fma(v0, a00);
            a01 = u.fma(v1, a01);
            a02 = u.fma(v2, a02);
            a03 = u.fma(v3, a03);
            u = FloatVector.fromArray(F, x, x1 + k);
            a10 = u.fma(v0, a10);
            a11 = u.fma(v1, a11);
            a12 = u.fma(v2, a12);
            a13 = u.fma(v3, a13);
            u = FloatVector.fromArray(F, x, x2 + k);
            a20 = u.fma(v0, a20);
            a21 = u.fma(v1, a21);
            a22 = u.fma(v2, a22);
            a23 = u.fma(v3, a23);
            u = FloatVector.fromArray(F, x, x3 + k);
            a30 = u.fma(v0, a30);
            a31 = u.fma(v1, a31);
            a32 = u.fma(v2, a32);
            a33 = u.fma(v3, a33);
        }
        store4(y, m * ldy + n0, bias, n0, x, x0, w, po, kv, K, a00, a01, a02, a03);
        store4(y, (m + 1) * ldy + n0, bias, n0, x, x1, w, po, kv, K, a10, a11, a12, a13);
        store4(y, (m + 2) * ldy + n0, bias, n0, x, x2, w, po, kv, K, a20, a21, a22, a23);
        store4(y, (m + 3) * ldy + n0, bias, n0, x, x3, w, po, kv, K, a30, a31, a32, a33);
    }

    private static void store4(float[] y, int yo, float[] bias, int n0, float[] x, int xo, float[] w, int po, int kv, int K,
                               FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        y[yo] = addBias(tail(a0, x, xo, w, po, kv, K), bias, n0);
        y[yo + 1] = addBias(tail(a1, x, xo, w, po + K, kv, K), bias, n0 + 1);
        y[yo + 2] = addBias(tail(a2, x, xo, w, po + 2 * K, kv, K), bias, n0 + 2);
        y[yo + 3] = addBias(tail(a3, x, xo, w, po + 3 * K, kv, K), bias, n0 + 3);
    }

    private static float addBias(float s, float[] bias, int n) {
        return bias == null ? s : s + bias[n];
    }
}
