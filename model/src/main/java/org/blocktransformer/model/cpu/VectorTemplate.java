package org.blocktransformer.model.cpu;

import java.lang.constant.ConstantDescs;
import java.lang.invoke.MethodHandles;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.blocktransformer.model.neox.Gelu;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * Vector API kernels written once for any width of 4, 8 or 16 float lanes (128, 256, 512 bits).
 *
 * <p><b>One class, one constant species per copy.</b> The Vector API's intrinsics need the species to be a
 * compile-time constant; read from a field of an object it is not, and C2 boxes every vector once two widths have
 * run in one JVM (which tests do). So this class is a template: {@link VectorWidths} defines a hidden copy of it per
 * width, with the species as the copy's class data, read below into a {@code static final} field, which C2 treats
 * as a constant. The named class itself is never used. Because of that the class must stay self-contained: no
 * lambdas, nested classes or enum switches (they would refer to the template, not the copy).
 *
 * <p><b>Same bits at every width.</b> Only lanewise IEEE operations, FMAs and exact data movement decide results;
 * every output of a matmul is one FMA chain over k in order, whatever tile or chunk it falls in, and row sums use
 * {@link Reductions}' 16 fixed running sums (one, two or four registers). {@code reduceLanes} and the vector
 * {@code EXP} give different bits in interpreted and compiled code, so they are never used.
 */
final class VectorTemplate implements VectorBody {
    private static final VectorSpecies<Float> F = species();
    private static final int L = F.length();
    /** Same lane count as {@link #F}: 16-bit weights widen lane for lane. */
    private static final VectorSpecies<Short> S =
            VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final int PANEL = PackedMatrix.PANEL;
    /** Outputs of one tile: four vectors (64 at 512 bits: a whole panel; 32 or 16 at narrower widths). */
    private static final int CHUNK = 4 * L;
    private static final int RL = Reductions.LANES;
    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>();
    private static final ThreadLocal<float[]> WIDENED = new ThreadLocal<>();

    /** The copy's class data; the named template (never instantiated) falls back to the preferred species. */
    @SuppressWarnings("unchecked")
    private static VectorSpecies<Float> species() {
        VectorSpecies<Float> s;
        try {
            s = MethodHandles.classData(MethodHandles.lookup(), ConstantDescs.DEFAULT_NAME, VectorSpecies.class);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        return s != null ? s : FloatVector.SPECIES_PREFERRED;
    }

    private VectorTemplate() {
        if (L != 4 && L != 8 && L != 16) {
            throw new IllegalStateException(F + ": the kernels need 4, 8 or 16 float lanes");
        }
    }

    @Override
    public int bits() {
        return F.vectorBitSize();
    }

    /** Scratch of at least {@code size} floats, this thread's own. */
    private static float[] scratch(ThreadLocal<float[]> local, int size) {
        float[] b = local.get();
        if (b == null || b.length < size) {
            b = new float[Math.max(size, 4 * PANEL)];
            local.set(b);
        }
        return b;
    }

    @Override
    public void keyScores(float[] q, int qo, float[] keys, int ko, int len, int stride, float[] scores, int so) {
        // One lane per position, no horizontal reduction: the same bits as the scalar kernel at every width.
        if (L == 16) {
            FloatVector acc = FloatVector.zero(F);
            for (int d = 0; d < len; d++) {
                acc = FloatVector.broadcast(F, q[qo + d]).fma(FloatVector.fromArray(F, keys, ko + d * stride), acc);
            }
            acc.intoArray(scores, so);
            return;
        }
        // Narrower vectors: two independent chains per pass (the 16 positions in two or four registers).
        for (int g = 0; g < CpuKernels.KEY_LANES; g += 2 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            for (int d = 0, at = ko + g; d < len; d++, at += stride) {
                FloatVector qv = FloatVector.broadcast(F, q[qo + d]);
                a0 = qv.fma(FloatVector.fromArray(F, keys, at), a0);
                a1 = qv.fma(FloatVector.fromArray(F, keys, at + L), a1);
            }
            a0.intoArray(scores, so + g);
            a1.intoArray(scores, so + g + L);
        }
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

    /** Input rows per block: a block of x (and one weight panel) stay in L2 while the panels sweep past it. */
    private static final int ROW_BLOCK = 64;

    @Override
    public void matmul(float[] x, int r0, int r1, PackedMatrix w, float[] bias, float[] y, int p0, int p1) {
        int k = w.cols();
        int n = w.rows();
        boolean half = w.isHalf();
        boolean f16 = w.format() == WeightFormat.F16;
        for (int m0 = r0; m0 < r1; m0 += ROW_BLOCK) {
            int m1 = Math.min(r1, m0 + ROW_BLOCK);
            for (int p = p0; p < p1; p++) {
                if (half && m1 - m0 == 1) {
                    // One row (a batch-1 decode step): widen in registers, no scratch round trip.
                    if (f16) {
                        tile1F16(x, m0, k, w.half(), p * k * PANEL, p, n, bias, y);
                    } else {
                        tile1Bf16(x, m0, k, w.half(), p * k * PANEL, p, n, bias, y);
                    }
                    continue;
                }
                float[] panel;
                int base;
                if (half) {
                    panel = scratch(WIDENED, k * PANEL);
                    widen(w.half(), p * k * PANEL, panel, k * PANEL, f16);
                    base = 0;
                } else {
                    panel = w.f32();
                    base = p * k * PANEL;
                }
                int m = m0;
                for (; m + 4 <= m1; m += 4) {
                    tile4(x, m, k, panel, base, p, n, bias, y);
                }
                for (; m < m1; m++) {
                    tile1(x, m, k, panel, base, p, n, bias, y);
                }
            }
        }
    }

    @Override
    public void widen(short[] src, int so, float[] dst, int len, boolean f16) {
        if (f16) {
            for (int k = 0; k < len; k += L) {
                widenF16(src, so + k).intoArray(dst, k);
            }
        } else {
            for (int k = 0; k < len; k += L) {
                widenBf16(src, so + k).intoArray(dst, k);
            }
        }
    }

    /*
     * The tiles. Each walks the panel's outputs in chunks of four vectors; a chunk that starts past the last output
     * is skipped, one that ends past it is written through scratch. Vectors never cross a call boundary: a call
     * that is not inlined would box them.
     */

    /** One input row times one panel. */
    private static void tile1(float[] x, int m, int k, float[] w, int base, int p, int n, float[] bias, float[] y) {
        int xo = m * k;
        for (int j = 0; j < PANEL; j += CHUNK) {
            int col = p * PANEL + j;
            if (col >= n) {
                break;
            }
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int c = 0, wo = base + j; c < k; c++, wo += PANEL) {
                FloatVector xv = FloatVector.broadcast(F, x[xo + c]);
                a0 = xv.fma(FloatVector.fromArray(F, w, wo), a0);
                a1 = xv.fma(FloatVector.fromArray(F, w, wo + L), a1);
                a2 = xv.fma(FloatVector.fromArray(F, w, wo + 2 * L), a2);
                a3 = xv.fma(FloatVector.fromArray(F, w, wo + 3 * L), a3);
            }
            boolean full = col + CHUNK <= n;
            float[] out = full ? y : scratch(SCRATCH, CHUNK);
            int o = full ? m * n + col : 0;
            a0.add(FloatVector.fromArray(F, bias, col)).intoArray(out, o);
            a1.add(FloatVector.fromArray(F, bias, col + L)).intoArray(out, o + L);
            a2.add(FloatVector.fromArray(F, bias, col + 2 * L)).intoArray(out, o + 2 * L);
            a3.add(FloatVector.fromArray(F, bias, col + 3 * L)).intoArray(out, o + 3 * L);
            if (!full) {
                System.arraycopy(out, 0, y, m * n + col, n - col);
            }
        }
    }

    /** As {@link #tile1} on a bfloat16 panel, each weight vector widened to float32 in registers. */
    private static void tile1Bf16(float[] x, int m, int k, short[] w, int base, int p, int n, float[] bias, float[] y) {
        int xo = m * k;
        for (int j = 0; j < PANEL; j += CHUNK) {
            int col = p * PANEL + j;
            if (col >= n) {
                break;
            }
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int c = 0, wo = base + j; c < k; c++, wo += PANEL) {
                FloatVector xv = FloatVector.broadcast(F, x[xo + c]);
                a0 = xv.fma(widenBf16(w, wo), a0);
                a1 = xv.fma(widenBf16(w, wo + L), a1);
                a2 = xv.fma(widenBf16(w, wo + 2 * L), a2);
                a3 = xv.fma(widenBf16(w, wo + 3 * L), a3);
            }
            boolean full = col + CHUNK <= n;
            float[] out = full ? y : scratch(SCRATCH, CHUNK);
            int o = full ? m * n + col : 0;
            a0.add(FloatVector.fromArray(F, bias, col)).intoArray(out, o);
            a1.add(FloatVector.fromArray(F, bias, col + L)).intoArray(out, o + L);
            a2.add(FloatVector.fromArray(F, bias, col + 2 * L)).intoArray(out, o + 2 * L);
            a3.add(FloatVector.fromArray(F, bias, col + 3 * L)).intoArray(out, o + 3 * L);
            if (!full) {
                System.arraycopy(out, 0, y, m * n + col, n - col);
            }
        }
    }

    /**
     * {@link #tile1Bf16} for float16. A separate loop rather than a flag: choosing between the two widenings inside
     * the loop merges two vector values, which C2 boxes (measured: bfloat16 decoding 8x slower).
     */
    private static void tile1F16(float[] x, int m, int k, short[] w, int base, int p, int n, float[] bias, float[] y) {
        int xo = m * k;
        for (int j = 0; j < PANEL; j += CHUNK) {
            int col = p * PANEL + j;
            if (col >= n) {
                break;
            }
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int c = 0, wo = base + j; c < k; c++, wo += PANEL) {
                FloatVector xv = FloatVector.broadcast(F, x[xo + c]);
                a0 = xv.fma(widenF16(w, wo), a0);
                a1 = xv.fma(widenF16(w, wo + L), a1);
                a2 = xv.fma(widenF16(w, wo + 2 * L), a2);
                a3 = xv.fma(widenF16(w, wo + 3 * L), a3);
            }
            boolean full = col + CHUNK <= n;
            float[] out = full ? y : scratch(SCRATCH, CHUNK);
            int o = full ? m * n + col : 0;
            a0.add(FloatVector.fromArray(F, bias, col)).intoArray(out, o);
            a1.add(FloatVector.fromArray(F, bias, col + L)).intoArray(out, o + L);
            a2.add(FloatVector.fromArray(F, bias, col + 2 * L)).intoArray(out, o + 2 * L);
            a3.add(FloatVector.fromArray(F, bias, col + 3 * L)).intoArray(out, o + 3 * L);
            if (!full) {
                System.arraycopy(out, 0, y, m * n + col, n - col);
            }
        }
    }

    /** L bfloat16 values as float32 (the bits shifted into the high half; sign extension is shifted out). */
    private static FloatVector widenBf16(short[] w, int at) {
        return ShortVector.fromArray(S, w, at)
                .convertShape(VectorOperators.S2I, I, 0)
                .reinterpretAsInts()
                .lanewise(VectorOperators.LSHL, 16)
                .reinterpretAsFloats();
    }

    /**
     * L float16 values as float32, exactly: exponent and mantissa shifted into float32's fields read as a float32
     * that is 2^112 too small (subnormals included), scaled back by 2^112, then the sign. Finite values only
     * (exponent 31 would widen to a finite number); {@link org.blocktransformer.model.weights.F16Matrix} holds no
     * others.
     */
    private static FloatVector widenF16(short[] w, int at) {
        IntVector h = (IntVector) ShortVector.fromArray(S, w, at).convertShape(VectorOperators.S2I, I, 0);
        FloatVector magnitude = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
        return magnitude.reinterpretAsInts().or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** Four input rows times one panel: 16 accumulators per chunk, each weight vector loaded once for four FMAs. */
    private static void tile4(float[] x, int m, int k, float[] w, int base, int p, int n, float[] bias, float[] y) {
        int x0 = m * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        for (int j = 0; j < PANEL; j += CHUNK) {
            int col = p * PANEL + j;
            if (col >= n) {
                break;
            }
            FloatVector z = FloatVector.zero(F);
            FloatVector a00 = z, a01 = z, a02 = z, a03 = z;
            FloatVector a10 = z, a11 = z, a12 = z, a13 = z;
            FloatVector a20 = z, a21 = z, a22 = z, a23 = z;
            FloatVector a30 = z, a31 = z, a32 = z, a33 = z;
            for (int c = 0, wo = base + j; c < k; c++, wo += PANEL) {
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
            boolean full = col + CHUNK <= n;
            float[] out = full ? y : scratch(SCRATCH, 4 * CHUNK);
            int o = full ? m * n + col : 0;
            int step = full ? n : CHUNK;
            FloatVector b0 = FloatVector.fromArray(F, bias, col);
            FloatVector b1 = FloatVector.fromArray(F, bias, col + L);
            FloatVector b2 = FloatVector.fromArray(F, bias, col + 2 * L);
            FloatVector b3 = FloatVector.fromArray(F, bias, col + 3 * L);
            a00.add(b0).intoArray(out, o);
            a01.add(b1).intoArray(out, o + L);
            a02.add(b2).intoArray(out, o + 2 * L);
            a03.add(b3).intoArray(out, o + 3 * L);
            o += step;
            a10.add(b0).intoArray(out, o);
            a11.add(b1).intoArray(out, o + L);
            a12.add(b2).intoArray(out, o + 2 * L);
            a13.add(b3).intoArray(out, o + 3 * L);
            o += step;
            a20.add(b0).intoArray(out, o);
            a21.add(b1).intoArray(out, o + L);
            a22.add(b2).intoArray(out, o + 2 * L);
            a23.add(b3).intoArray(out, o + 3 * L);
            o += step;
            a30.add(b0).intoArray(out, o);
            a31.add(b1).intoArray(out, o + L);
            a32.add(b2).intoArray(out, o + 2 * L);
            a33.add(b3).intoArray(out, o + 3 * L);
            if (!full) {
                for (int r = 0; r < 4; r++) {
                    System.arraycopy(out, r * CHUNK, y, (m + r) * n + col, n - col);
                }
            }
        }
    }

    /**
     * GELU with erf from the Numerical Recipes erfc fit (relative error below 1.2e-7) and an FMA-only exp, in
     * float32 lanes; {@link ScalarKernels#gelu} is the same operations one element at a time. The tail runs the same
     * lanes under a mask, so an element's result never depends on its place.
     */
    @Override
    public void gelu(float[] x, int from, int to) {
        for (int i = from; i < to; i += L) {
            boolean full = i + L <= to;
            VectorMask<Float> mask = full ? null : F.indexInRange(i, to);
            FloatVector v = full ? FloatVector.fromArray(F, x, i) : FloatVector.fromArray(F, x, i, mask);
            FloatVector z = v.abs().mul(0.70710678f);
            FloatVector t = FloatVector.broadcast(F, 1f).div(z.fma(0.5f, 1f));
            FloatVector p = t.fma((float) Gelu.E9, (float) Gelu.E8)
                    .fma(t, FloatVector.broadcast(F, (float) Gelu.E7))
                    .fma(t, FloatVector.broadcast(F, (float) Gelu.E6))
                    .fma(t, FloatVector.broadcast(F, (float) Gelu.E5))
                    .fma(t, FloatVector.broadcast(F, (float) Gelu.E4))
                    .fma(t, FloatVector.broadcast(F, (float) Gelu.E3))
                    .fma(t, FloatVector.broadcast(F, (float) Gelu.E2))
                    .fma(t, FloatVector.broadcast(F, (float) Gelu.E1))
                    .fma(t, FloatVector.broadcast(F, (float) Gelu.E0));
            // e^a for a = p - z^2 in [-87, 0], inlined (a helper taking vectors would box them when not inlined):
            // a = k ln2 + r with |r| <= ln2/2 (Cody-Waite, round-to-nearest by the 1.5*2^23 trick), a degree-7
            // Taylor polynomial for e^r (relative error ~2e-8), times 2^k built in the exponent bits.
            FloatVector a = z.mul(z).neg().add(p).max(-87f);
            FloatVector kf = a.fma(1.44269504f, 12582912f).sub(12582912f);
            FloatVector r = kf.fma(FloatVector.broadcast(F, -0.693145752f), a).add(kf.mul(-1.42860677e-6f));
            FloatVector e = r.fma(1.98412698e-4f, 1.38888889e-3f)
                    .fma(r, FloatVector.broadcast(F, 8.33333333e-3f))
                    .fma(r, FloatVector.broadcast(F, 4.16666667e-2f))
                    .fma(r, FloatVector.broadcast(F, 1.66666667e-1f))
                    .fma(r, FloatVector.broadcast(F, 0.5f))
                    .fma(r, FloatVector.broadcast(F, 1f))
                    .fma(r, FloatVector.broadcast(F, 1f))
                    .mul(((IntVector) kf.convertShape(VectorOperators.F2I, I, 0)).add(127)
                            .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            FloatVector erfc = t.mul(e);
            // 0.5 x (1 + erf(x/sqrt2)) = x (1 - erfc/2) for x >= 0 and x erfc/2 for x < 0.
            FloatVector half = erfc.mul(0.5f);
            FloatVector positive = v.mul(half.neg().add(1f));
            FloatVector negative = v.mul(half);
            FloatVector result = positive.blend(negative, v.compare(VectorOperators.LT, 0f));
            if (full) {
                result.intoArray(x, i);
            } else {
                result.intoArray(x, i, mask);
            }
        }
    }

    /**
     * LayerNorm of rows {@code [from, to)} of width d: statistics through {@link Reductions}' 16 running sums (the
     * 16 lanes in one, two or four registers, each register its own pass so that a pass is one chain), then
     * {@code fma((x - mean) * inv, g, b)} lanewise. {@code out} may be {@code x}.
     */
    @Override
    public void layerNorm(float[] x, int from, int to, int d, float[] g, float[] b, double eps, float[] out) {
        float[] lanes = scratch(SCRATCH, RL);
        int dv = d & -RL;
        for (int row = from; row < to; row++) {
            int o = row * d;
            for (int j = 0; j < RL; j += L) {
                FloatVector acc = FloatVector.zero(F);
                for (int i = j; i < dv; i += RL) {
                    acc = acc.add(FloatVector.fromArray(F, x, o + i));
                }
                acc.intoArray(lanes, j);
            }
            float sum = Reductions.combine(lanes, 0);
            for (int i = dv; i < d; i++) {
                sum += x[o + i];
            }
            float mean = sum / d;
            for (int j = 0; j < RL; j += L) {
                FloatVector acc = FloatVector.zero(F);
                for (int i = j; i < dv; i += RL) {
                    FloatVector c = FloatVector.fromArray(F, x, o + i).sub(mean);
                    acc = c.fma(c, acc);
                }
                acc.intoArray(lanes, j);
            }
            float sq = Reductions.combine(lanes, 0);
            for (int i = dv; i < d; i++) {
                float c = x[o + i] - mean;
                sq = Math.fma(c, c, sq);
            }
            float inv = Reductions.inverseStd(sq / d, eps);
            int i = 0;
            for (; i < (d & -L); i += L) {
                FloatVector.fromArray(F, x, o + i).sub(mean).mul(inv)
                        .fma(FloatVector.fromArray(F, g, i), FloatVector.fromArray(F, b, i))
                        .intoArray(out, o + i);
            }
            for (; i < d; i++) {
                out[o + i] = Math.fma((x[o + i] - mean) * inv, g[i], b[i]);
            }
        }
    }
}
