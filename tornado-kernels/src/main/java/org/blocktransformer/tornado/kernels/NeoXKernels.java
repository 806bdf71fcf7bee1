package org.blocktransformer.tornado.kernels;

import org.blocktransformer.model.neox.Gelu;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * The GPT-NeoX layer as TornadoVM kernels (JIT-compiled to OpenCL or PTX). Only the arithmetic lives here; the
 * task graphs that schedule them are in {@code TornadoStackExecutor}.
 *
 * <p>Conventions: every launch is sized for the largest call and reads the live token count {@code T} from
 * {@code meta[0]}; work beyond it returns (uniformly per work-group, before any barrier). Stacked per-layer weights
 * are addressed with the layer in {@code layer[0]} (relative to the graph's first layer). Activations are
 * row-major {@code [token][feature]}; the KV cache is {@code [layer][slot][hidden]}.
 */
public final class NeoXKernels {
    /** Work-group size of the row-wise kernels (attention): a power of two. */
    public static final int GROUP = 128;
    /**
     * Work-group size of {@link #layerNorm} and {@link #selectTokens}, one work-group a row: a power of two, larger than
     * {@link #GROUP} so that a decode step's few rows wait on shorter chains of loads (an H200 at one row with 128
     * items: LayerNorm 13 us at 1,024 wide, the output head's selection 159 us over 50,304 logits); no larger than
     * {@link #LINEAR_GROUP}, which every device already has to take.
     */
    public static final int ROW_GROUP = 256;
    /** {@link #matmul}: work-group edge (16 x 16 items) and k step. */
    public static final int TILE = 16;
    /** {@link #matmul}: tokens and outputs per work-group (each item computes 4 x 4). */
    public static final int BLOCK = 64;
    /** Work-group size of {@link #linear}. */
    public static final int LINEAR_GROUP = 256;
    /** Tokens {@link #linear} accumulates per pass over the weights. */
    public static final int TOKENS = 8;
    /** {@link #linear}'s epilogues. */
    public static final int PLAIN = 0;
    public static final int GELU = 1;
    public static final int ADD = 2;
    public static final int ADD_PAIR = 3;
    /**
     * Not an epilogue: the raw sums of one k slice (split-k), stored at {@code y[yOff + t * n + j]} without the
     * bias, for {@link #reduceSlices} to add up and finish.
     */
    public static final int PARTIAL = 4;
    /** Weight storage of the matmul kernels: float32, or bfloat16 or float16 bits widened in the kernel. */
    public static final int F32 = 0;
    public static final int BF16 = 1;
    public static final int F16 = 2;
    /** Longest attention span a work-group holds in local memory. */
    public static final int MAX_SPAN = 2048;

    private NeoXKernels() {
    }

    /**
     * LayerNorm of each token row; with {@code pair} = 1 also a second one with its own weights into {@code out2},
     * from the same statistics: a parallel-residual layer's attention and MLP inputs in one launch ({@code pair}
     * = 0 leaves {@code w2, b2, out2} untouched; TornadoVM waits forever on a task that names one output twice).
     * One work-group per row, statistics by tree reduction in local memory; {@code layered} = 1 reads the weights
     * of layer {@code layer[0]} from stacked arrays, 0 reads one set.
     *
     * <p>The reductions are written out in each kernel rather than shared: TornadoVM compiles a local array
     * passed to a helper method as a heap array (header offset, byte indexing), which reads past its end.
     */
    public static void layerNorm(KernelContext ctx, FloatArray x, FloatArray w1, FloatArray b1, FloatArray out1,
                                 FloatArray w2, FloatArray b2, FloatArray out2, IntArray meta, IntArray layer, int d,
                                 float eps, int layered, int pair) {
        int t = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] red = ctx.allocateFloatLocalArray(ROW_GROUP);
        // Every work item reaches every barrier: rows past T just see an empty row (width 0).
        int width = t < meta.get(0) ? d : 0;
        int off = layer.get(0) * layered * d;
        float s = 0;
        for (int i = lid; i < width; i += ROW_GROUP) {
            s += x.get(t * d + i);
        }
        red[lid] = s;
        ctx.localBarrier();
        for (int stride = ROW_GROUP / 2; stride > 0; stride /= 2) {
            if (lid < stride) {
                red[lid] += red[lid + stride];
            }
            ctx.localBarrier();
        }
        float mean = red[0] / d;
        ctx.localBarrier();
        float v = 0;
        for (int i = lid; i < width; i += ROW_GROUP) {
            float c = x.get(t * d + i) - mean;
            v += c * c;
        }
        red[lid] = v;
        ctx.localBarrier();
        for (int stride = ROW_GROUP / 2; stride > 0; stride /= 2) {
            if (lid < stride) {
                red[lid] += red[lid + stride];
            }
            ctx.localBarrier();
        }
        float inv = 1.0f / TornadoMath.sqrt(red[0] / d + eps);
        for (int i = lid; i < width; i += ROW_GROUP) {
            float c = (x.get(t * d + i) - mean) * inv;
            out1.set(t * d + i, c * w1.get(off + i) + b1.get(off + i));
            if (pair == 1) {
                out2.set(t * d + i, c * w2.get(off + i) + b2.get(off + i));
            }
        }
    }

    /**
     * The Linear layers, {@code y[t, j] = x[t, :] . W[j, :] + bias[j]} with W row-major [n, k] (PyTorch layout),
     * for every live token t, then one of the epilogues:
     * <ul>
     *   <li>{@link #PLAIN}: {@code y = a};</li>
     *   <li>{@link #GELU}: {@code y = gelu(a)} (the MLP's up-projection);</li>
     *   <li>{@link #ADD}: {@code y = a + y} (a sequential residual);</li>
     *   <li>{@link #ADD_PAIR}: {@code y = (b + a) + y}, where b is the same product of the second input
     *       {@code xb . Wb + bb} (the parallel residual: MLP and attention outputs added to x in one launch, in the
     *       reference's association).</li>
     * </ul>
     * Decoding multiplies a few tokens by large matrices, so the weights are read once per launch and coalesced:
     * a work-group of {@link #LINEAR_GROUP} items computes {@code rows} consecutive outputs, {@code LINEAR_GROUP /
     * rows} items per output striding along k (consecutive items, consecutive addresses), each accumulating
     * {@link #TOKENS} tokens in registers; the partial sums meet in a tree in local memory. Token tiles repeat
     * over the weights, which the caches then serve. The launch is {@code ceil(n / rows)} work-groups whatever T.
     * The weights are float32 ({@code wa}, {@code wb}) or, with {@code format} = {@link #BF16}, bfloat16 bits
     * ({@code wah}, {@code wbh}) widened by {@link #weight}.
     */
    public static void linear(KernelContext ctx, FloatArray xa, FloatArray wa, ShortArray wah, FloatArray ba,
                              FloatArray xb, FloatArray wb, ShortArray wbh, FloatArray bb, FloatArray y,
                              FloatArray bf16Scale, IntArray meta, IntArray layer, int n, int ka, int kb, int layered,
                              int rows, int mode, int format) {
        int lid = ctx.localIdx;
        int per = LINEAR_GROUP / rows;
        int part = lid % per;
        int row = ctx.groupIdx * rows + lid / per;
        // Rows past n compute a copy of the last row and store nothing: every item reaches every barrier.
        int j = row < n ? row : n - 1;
        int tokens = meta.get(0);
        int waOff = layer.get(0) * layered * n * ka + j * ka;
        int wbOff = layer.get(0) * layered * n * kb + j * kb;
        int bOff = layer.get(0) * layered * n + j;
        float[] red = ctx.allocateFloatLocalArray(2 * TOKENS * LINEAR_GROUP);
        for (int t0 = 0; t0 < tokens; t0 += TOKENS) {
            // Tokens past T re-read the last live token (no branch in the loop) and are not stored.
            int last = tokens - 1;
            int r0 = TornadoMath.min(t0, last);
            int r1 = TornadoMath.min(t0 + 1, last);
            int r2 = TornadoMath.min(t0 + 2, last);
            int r3 = TornadoMath.min(t0 + 3, last);
            int r4 = TornadoMath.min(t0 + 4, last);
            int r5 = TornadoMath.min(t0 + 5, last);
            int r6 = TornadoMath.min(t0 + 6, last);
            int r7 = TornadoMath.min(t0 + 7, last);
            float a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
            for (int c = part; c < ka; c += per) {
                float w = weight(wa, wah, bf16Scale, format, waOff + c);
                a0 += w * xa.get(r0 * ka + c);
                a1 += w * xa.get(r1 * ka + c);
                a2 += w * xa.get(r2 * ka + c);
                a3 += w * xa.get(r3 * ka + c);
                a4 += w * xa.get(r4 * ka + c);
                a5 += w * xa.get(r5 * ka + c);
                a6 += w * xa.get(r6 * ka + c);
                a7 += w * xa.get(r7 * ka + c);
            }
            float b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, b7 = 0;
            for (int c = part; c < kb; c += per) {
                float w = weight(wb, wbh, bf16Scale, format, wbOff + c);
                b0 += w * xb.get(r0 * kb + c);
                b1 += w * xb.get(r1 * kb + c);
                b2 += w * xb.get(r2 * kb + c);
                b3 += w * xb.get(r3 * kb + c);
                b4 += w * xb.get(r4 * kb + c);
                b5 += w * xb.get(r5 * kb + c);
                b6 += w * xb.get(r6 * kb + c);
                b7 += w * xb.get(r7 * kb + c);
            }
            red[lid] = a0;
            red[LINEAR_GROUP + lid] = a1;
            red[2 * LINEAR_GROUP + lid] = a2;
            red[3 * LINEAR_GROUP + lid] = a3;
            red[4 * LINEAR_GROUP + lid] = a4;
            red[5 * LINEAR_GROUP + lid] = a5;
            red[6 * LINEAR_GROUP + lid] = a6;
            red[7 * LINEAR_GROUP + lid] = a7;
            red[8 * LINEAR_GROUP + lid] = b0;
            red[9 * LINEAR_GROUP + lid] = b1;
            red[10 * LINEAR_GROUP + lid] = b2;
            red[11 * LINEAR_GROUP + lid] = b3;
            red[12 * LINEAR_GROUP + lid] = b4;
            red[13 * LINEAR_GROUP + lid] = b5;
            red[14 * LINEAR_GROUP + lid] = b6;
            red[15 * LINEAR_GROUP + lid] = b7;
            ctx.localBarrier();
            for (int stride = per / 2; stride > 0; stride /= 2) {
                if (part < stride) {
                    for (int s = 0; s < 2 * TOKENS; s++) {
                        red[s * LINEAR_GROUP + lid] += red[s * LINEAR_GROUP + lid + stride];
                    }
                }
                ctx.localBarrier();
            }
            // Item `part` of each output finishes token t0 + part.
            int t = t0 + part;
            if (part < TOKENS && t < tokens && row < n) {
                int head = lid - part;
                float a = red[part * LINEAR_GROUP + head] + ba.get(bOff);
                int at = t * n + row;
                if (mode == GELU) {
                    y.set(at, geluOf(a));
                } else if (mode == ADD) {
                    y.set(at, a + y.get(at));
                } else if (mode == ADD_PAIR) {
                    float b = red[(TOKENS + part) * LINEAR_GROUP + head] + bb.get(bOff);
                    y.set(at, (b + a) + y.get(at));
                } else {
                    y.set(at, a);
                }
            }
            ctx.localBarrier();
        }
    }

    /**
     * The Linear layers for calls of many tokens (prefill, large batches): the same product and epilogues as
     * {@link #linear} except {@link #ADD_PAIR}, which here adds a finished second product {@code other[t, j]}:
     * {@code y = (a + other) + y}. A work-group of 16 x 16 work items computes a 64-token x 64-output tile, each
     * item a 4 x 4 block in registers, over k in steps of 16 staged in local memory: 256 multiply-adds per item
     * between barriers, where {@link #linear} does about one per load. Weights as in {@link #linear}.
     */
    public static void matmul(KernelContext ctx, FloatArray x, FloatArray w, ShortArray wh, FloatArray bias,
                              FloatArray other, FloatArray y, FloatArray bf16Scale, IntArray meta, IntArray layer,
                              int n, int k, int layered, int mode, int format, int kSlice, int sliceStride) {
        int tx = ctx.localIdx;
        int ty = ctx.localIdy;
        int col0 = ctx.groupIdx * BLOCK;
        int row0 = ctx.groupIdy * BLOCK;
        int tokens = meta.get(0);
        int wOff = layer.get(0) * layered * n * k;
        int bOff = layer.get(0) * layered * n;
        // Split-k: slice groupIdz covers k in [kFrom, kTo) (one slice: all of k).
        int kFrom = ctx.groupIdz * kSlice;
        int kTo = TornadoMath.min(kFrom + kSlice, k);
        int yOff = ctx.groupIdz * sliceStride;
        float[] xs = ctx.allocateFloatLocalArray(BLOCK * (TILE + 1));
        float[] ws = ctx.allocateFloatLocalArray(BLOCK * (TILE + 1));
        float a00 = 0, a01 = 0, a02 = 0, a03 = 0;
        float a10 = 0, a11 = 0, a12 = 0, a13 = 0;
        float a20 = 0, a21 = 0, a22 = 0, a23 = 0;
        float a30 = 0, a31 = 0, a32 = 0, a33 = 0;
        int lin = ty * TILE + tx;
        // A tile past the live tokens (a grid sized for the most tokens, see Grids#fix) skips the product; the
        // whole work-group takes the same branch, so the barriers stay uniform.
        int kLive = row0 < tokens ? kTo : kFrom;
        for (int c0 = kFrom; c0 < kLive; c0 += TILE) {
            // 256 items load the 64 x 16 slices of x and W, four elements each, consecutive items along k.
            for (int e = 0; e < 4; e++) {
                int idx = lin + e * TILE * TILE;
                int r = idx / TILE;
                int c = c0 + idx % TILE;
                float xv = 0;
                if (row0 + r < tokens && c < kTo) {
                    xv = x.get((row0 + r) * k + c);
                }
                float wv = 0;
                if (col0 + r < n && c < kTo) {
                    wv = weight(w, wh, bf16Scale, format, wOff + (col0 + r) * k + c);
                }
                xs[r * (TILE + 1) + idx % TILE] = xv;
                ws[r * (TILE + 1) + idx % TILE] = wv;
            }
            ctx.localBarrier();
            for (int i = 0; i < TILE; i++) {
                float x0 = xs[(ty * 4) * (TILE + 1) + i];
                float x1 = xs[(ty * 4 + 1) * (TILE + 1) + i];
                float x2 = xs[(ty * 4 + 2) * (TILE + 1) + i];
                float x3 = xs[(ty * 4 + 3) * (TILE + 1) + i];
                float w0 = ws[tx * (TILE + 1) + i];
                float w1 = ws[(tx + TILE) * (TILE + 1) + i];
                float w2 = ws[(tx + 2 * TILE) * (TILE + 1) + i];
                float w3 = ws[(tx + 3 * TILE) * (TILE + 1) + i];
                a00 += x0 * w0;
                a01 += x0 * w1;
                a02 += x0 * w2;
                a03 += x0 * w3;
                a10 += x1 * w0;
                a11 += x1 * w1;
                a12 += x1 * w2;
                a13 += x1 * w3;
                a20 += x2 * w0;
                a21 += x2 * w1;
                a22 += x2 * w2;
                a23 += x2 * w3;
                a30 += x3 * w0;
                a31 += x3 * w1;
                a32 += x3 * w2;
                a33 += x3 * w3;
            }
            ctx.localBarrier();
        }
        // Item (tx, ty) holds tokens row0 + 4ty .. +3 and outputs col0 + tx + 16c (consecutive items, consecutive
        // outputs: coalesced stores).
        int t0 = row0 + ty * 4;
        int j = col0 + tx;
        // Sixteen calls rather than a helper per row: TornadoVM refuses to inline methods above 600 graph nodes.
        finish(y, bias, other, bOff, n, tokens, t0, j, a00, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0, j + TILE, a01, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0, j + 2 * TILE, a02, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0, j + 3 * TILE, a03, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0 + 1, j, a10, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0 + 1, j + TILE, a11, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0 + 1, j + 2 * TILE, a12, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0 + 1, j + 3 * TILE, a13, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0 + 2, j, a20, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0 + 2, j + TILE, a21, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0 + 2, j + 2 * TILE, a22, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0 + 2, j + 3 * TILE, a23, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0 + 3, j, a30, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0 + 3, j + TILE, a31, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0 + 3, j + 2 * TILE, a32, mode, yOff);
        finish(y, bias, other, bOff, n, tokens, t0 + 3, j + 3 * TILE, a33, mode, yOff);
    }

    /**
     * Weight {@code i} of a matrix stored as float32 in {@code wf} or, with {@code format} = {@link #BF16} or
     * {@link #F16}, as 16-bit bits in {@code wh}, widened exactly: {@code (1.m) * 2^(e - bias)} as the integer
     * {@code 2^mbits + m} times a power of two from {@code bf16Scale} (see {@link #bf16Scale()}), subnormals as
     * {@code m} times the smallest exponent's power. Bit reinterpretation (as_float) is not available in TornadoVM
     * kernels; the table and two multiplies are. bfloat16: 8 exponent, 7 mantissa bits, {@code bf16Scale[e] =
     * 2^(e - 134)}; float16: 5 and 10, {@code 2^(e - 25) = bf16Scale[e + 109]} (the same table, shifted).
     */
    private static float weight(FloatArray wf, ShortArray wh, FloatArray bf16Scale, int format, int i) {
        if (format == BF16) {
            int u = wh.get(i) & 0xFFFF;
            int e = (u >> 7) & 0xFF;
            int m = e == 0 ? u & 0x7F : (u & 0x7F) + 128;
            float v = m * bf16Scale.get(e);
            return u >= 0x8000 ? -v : v;
        }
        if (format == F16) {
            return half(wh.get(i), bf16Scale);
        }
        return wf.get(i);
    }

    /** The float16 value of {@code bits}, exactly (see {@link #weight}; {@code scale} is {@link #bf16Scale()}). */
    public static float half(int bits, FloatArray scale) {
        int u = bits & 0xFFFF;
        int e = (u >> 10) & 0x1F;
        int m = e == 0 ? u & 0x3FF : (u & 0x3FF) + 1024;
        float v = m * scale.get(e == 0 ? 110 : e + 109);
        return u >= 0x8000 ? -v : v;
    }

    /**
     * The float16 bits of {@code v} rounded to nearest even, as {@code Float.floatToFloat16} gives them, by float
     * arithmetic alone (TornadoVM kernels cannot read a float's bits, and OpenCL devices without cl_khr_fp16, PoCL
     * among them, have no half type): the exponent from log2, corrected against exact powers of two from
     * {@code scale} ({@link #bf16Scale()}: {@code 2^E = scale[E + 134]}), then the mantissa scaled to an integer
     * range, where scaling by a power of two and the remainder after floor are exact. Values from 65,520 up round
     * to infinity; NaN gives the canonical quiet NaN.
     */
    public static int halfBits(float v, FloatArray scale) {
        int sign = v < 0.0f || 1.0f / v < 0.0f ? 0x8000 : 0;
        float a = TornadoMath.abs(v);
        int bits;
        if (a != a) {
            bits = 0x7E00;
        } else if (a >= 65520.0f) {
            bits = 0x7C00;
        } else if (a < 6.1035156e-5f) {
            // Subnormals (and zero): units of 2^-24; 1,024 of them is the smallest normal, 0x0400.
            bits = nearestEven(a * 16777216.0f);
        } else {
            int e = (int) TornadoMath.floor(TornadoMath.log2(a));
            e = TornadoMath.max(-14, TornadoMath.min(15, e));
            if (a < scale.get(e + 134)) {
                e = e - 1;
            } else if (a >= scale.get(e + 135)) {
                e = e + 1;
            }
            // a * 2^(10 - e) lies in [1024, 2048); a rounding up to 2048 carries into the exponent by itself.
            bits = ((e + 15) << 10) + nearestEven(a * scale.get(144 - e)) - 1024;
        }
        return sign | bits;
    }

    /** {@code q} rounded to the nearest integer, ties to even; q is non-negative. */
    private static int nearestEven(float q) {
        float f = TornadoMath.floor(q);
        float d = q - f;
        int r = (int) f;
        if (d > 0.5f || d == 0.5f && r % 2 == 1) {
            r = r + 1;
        }
        return r;
    }

    /**
     * The table {@link #weight} multiplies by: {@code 2^(e - 134)} for exponent bits e, and {@code 2^-133} for
     * e = 0 (subnormals: {@code 0.m * 2^-126}); float16 uses entries 110 to 139. The all-ones exponents
     * (infinities, NaN) are not representable this way; the loader's weights never hold one (F16Matrix refuses
     * them).
     */
    public static float[] bf16Scale() {
        float[] s = new float[256];
        s[0] = Math.scalb(1.0f, -133);
        for (int e = 1; e < 256; e++) {
            s[e] = Math.scalb(1.0f, e - 134);
        }
        return s;
    }

    /** Output (t, j) of {@link #matmul}, if it exists: bias, then the epilogue. */
    static void finish(FloatArray y, FloatArray bias, FloatArray other, int bOff, int n, int tokens, int t,
                       int j, float v, int mode, int yOff) {
        if (t < tokens && j < n) {
            int at = t * n + j;
            if (mode == PARTIAL) {
                y.set(yOff + at, v);
            } else {
                float yv = mode == ADD || mode == ADD_PAIR ? y.get(at) : 0;
                float ov = mode == ADD_PAIR ? other.get(at) : 0;
                y.set(at, epilogue(v + bias.get(bOff + j), yv, ov, mode));
            }
        }
    }

    /**
     * The epilogue of output {@code a} (the product plus its bias) in {@code mode} other than {@link #PARTIAL}:
     * {@code yv} is the output's current value (read for {@link #ADD} and {@link #ADD_PAIR}), {@code ov} the
     * other branch's ({@link #ADD_PAIR}).
     */
    static float epilogue(float a, float yv, float ov, int mode) {
        if (mode == GELU) {
            return geluOf(a);
        } else if (mode == ADD) {
            return a + yv;
        } else if (mode == ADD_PAIR) {
            return (a + ov) + yv;
        }
        return a;
    }

    /**
     * The second launch of a split-k product: {@code y[t, j] = epilogue(sum_z partial[z * sliceStride + t *
     * rowStride + j] + bias[j])} for the live tokens, the slices added in order, one work item per output.
     */
    public static void reduceSlices(KernelContext ctx, FloatArray partial, FloatArray bias, FloatArray other,
                                    FloatArray y, IntArray meta, IntArray layer, int n, int slices, int rowStride,
                                    int sliceStride, int layered, int mode) {
        int i = ctx.globalIdx;
        int t = i / n;
        int j = i % n;
        if (t < meta.get(0)) {
            float v = 0;
            for (int z = 0; z < slices; z++) {
                v += partial.get(z * sliceStride + t * rowStride + j);
            }
            finish(y, bias, other, layer.get(0) * layered * n, n, t + 1, t, j, v, mode, 0);
        }
    }

    /**
     * Rotary embedding (rotate-half form, first {@code rot} dims of each head) of one element of q and k per work
     * item: q into {@code qrot} (not in place, so no item reads what another writes), k and v into the token's
     * cache slot: float32 ({@code keys}, {@code values}), or with {@code kvFormat} = {@link #F16} their float16
     * bits, four to a word ({@code keysPacked}, {@code valuesPacked}, laid out as {@link #kvIndex} says; {@code
     * scale} is {@link #bf16Scale()}), each word written whole by the item of its first element, so no two items
     * write one word.
     */
    public static void rotaryStore(KernelContext ctx, FloatArray qkv, FloatArray qrot, FloatArray keys,
                                   FloatArray values, LongArray keysPacked, LongArray valuesPacked, FloatArray scale,
                                   FloatArray cos, FloatArray sin, IntArray meta, IntArray layer, IntArray tokenPos,
                                   IntArray tokenSlot, int heads, int hd, int rot, int slots, int kvFormat) {
        int idx = ctx.globalIdx;
        int d = heads * hd;
        int t = idx / d;
        int h = (idx % d) / hd;
        int i = idx % hd;
        if (t < meta.get(0)) {
            int p = tokenPos.get(t);
            int q = t * 3 * d + h * 3 * hd;
            int k = q + hd;
            qrot.set(t * d + h * hd + i, rotated(qkv, cos, sin, q, i, p, rot));
            int at = kvIndex(layer.get(0), slots, tokenSlot.get(t), heads, h, hd, kvFormat);
            if (kvFormat == F16) {
                if (i % 4 == 0) {
                    int v = k + hd;
                    long kw = 0;
                    long vw = 0;
                    for (int e = 0; e < 4; e++) {
                        if (i + e < hd) {
                            kw = kw | (halfBits(rotated(qkv, cos, sin, k, i + e, p, rot), scale) & 0xFFFFL) << (16 * e);
                            vw = vw | (halfBits(qkv.get(v + i + e), scale) & 0xFFFFL) << (16 * e);
                        }
                    }
                    keysPacked.set(at + i / 4, kw);
                    valuesPacked.set(at + i / 4, vw);
                }
            } else {
                keys.set(at + i, rotated(qkv, cos, sin, k, i, p, rot));
                values.set(at + i, qkv.get(k + hd + i));
            }
        }
    }

    /** Element {@code i} of the head vector at {@code v[base..]} after the rotary embedding at position p. */
    private static float rotated(FloatArray v, FloatArray cos, FloatArray sin, int base, int i, int p, int rot) {
        int half = rot / 2;
        float r = v.get(base + i);
        if (i < half) {
            r = v.get(base + i) * cos.get(p * half + i) - v.get(base + i + half) * sin.get(p * half + i);
        } else if (i < rot) {
            int m = i - half;
            r = v.get(base + i) * cos.get(p * half + m) + v.get(base + m) * sin.get(p * half + m);
        }
        return r;
    }

    /**
     * Words per head of a float16 KV cache: four float16 values to a 64-bit word, so that attention reads a head's
     * keys in 8-byte loads (a lane of the score loop reads its own position's head, so the load width sets how many
     * bytes each pass through the cache brings; with 2-byte loads float16 read at half the float32 rate). The last
     * word of a head whose size is not a multiple of four is padded with zeros.
     */
    public static int halfWords(int hd) {
        return (hd + 3) / 4;
    }

    /**
     * Where head h of cache slot {@code slot} of a group's layer starts: an element index of a float32 cache
     * ({@code [layer][slot][head][hd]}), a word index of a float16 one ({@code [layer][slot][head][halfWords(hd)]}).
     */
    public static int kvIndex(int layer, int slots, int slot, int heads, int h, int hd, int kvFormat) {
        int row = (layer * slots + slot) * heads + h;
        return kvFormat == F16 ? row * halfWords(hd) : row * hd;
    }

    /** Four float16 bit patterns in one word, the first in the low bits. */
    public static long packHalves(int b0, int b1, int b2, int b3) {
        return (b0 & 0xFFFFL) | (b1 & 0xFFFFL) << 16 | (b2 & 0xFFFFL) << 32 | (b3 & 0xFFFFL) << 48;
    }

    /** Float16 value {@code k} (0-3) of a packed word, exactly. */
    public static float halfOf(long word, int k, FloatArray scale) {
        return half((int) (word >>> (16 * k)), scale);
    }

    /**
     * The dot product of q (at {@code qrot[q..q+hd)}) with the key that starts at {@code at} ({@link #kvIndex}).
     * Shared by both attention kernels; it holds no local memory (see {@link #layerNorm}).
     */
    public static float keyDot(FloatArray qrot, int q, FloatArray keys, LongArray keysPacked, FloatArray scale,
                               int at, int hd, int kvFormat) {
        float s = 0;
        if (kvFormat == F16) {
            int full = hd / 4;
            for (int w = 0; w < full; w++) {
                long word = keysPacked.get(at + w);
                int i = q + 4 * w;
                s += qrot.get(i) * halfOf(word, 0, scale) + qrot.get(i + 1) * halfOf(word, 1, scale)
                        + qrot.get(i + 2) * halfOf(word, 2, scale) + qrot.get(i + 3) * halfOf(word, 3, scale);
            }
            for (int i = 4 * full; i < hd; i++) {
                s += qrot.get(q + i) * halfOf(keysPacked.get(at + full), i - 4 * full, scale);
            }
        } else {
            for (int i = 0; i < hd; i++) {
                s += qrot.get(q + i) * keys.get(at + i);
            }
        }
        return s;
    }

    /** {@code dst[base + 4w + k] = a_k * mul} for the k whose dimension 4w + k is below hd. */
    public static void storeWord(FloatArray dst, int base, int w, int hd, float a0, float a1, float a2, float a3,
                                 float mul) {
        int i = 4 * w;
        dst.set(base + i, a0 * mul);
        if (i + 1 < hd) {
            dst.set(base + i + 1, a1 * mul);
        }
        if (i + 2 < hd) {
            dst.set(base + i + 2, a2 * mul);
        }
        if (i + 3 < hd) {
            dst.set(base + i + 3, a3 * mul);
        }
    }

    /**
     * Softmax attention of one (token, head) per work-group over the token's row, positions 0..p, through the row's
     * page table ({@code pages[rowStart[row] + j / pageSize]}): scores in local memory, max and sum by tree
     * reduction, then the weighted values with every work item busy: each output dimension is summed by
     * {@code GROUP / hd} items over interleaved positions, whose partial sums are then added (a float16 cache: each
     * item sums one word's four dimensions). The cache is float32, or with {@code kvFormat} = {@link #F16} float16
     * bits four to a word ({@link #halfWords}), widened exactly ({@link #half}).
     */
    public static void attention(KernelContext ctx, FloatArray qrot, FloatArray keys, FloatArray values,
                                 LongArray keysPacked, LongArray valuesPacked, FloatArray halfScale, FloatArray out,
                                 IntArray meta, IntArray layer, IntArray tokenPos, IntArray tokenRow,
                                 IntArray rowStart, IntArray pages, int heads, int hd, int pageSize, int slots,
                                 float scale, int kvFormat) {
        int g = ctx.groupIdx;
        int lid = ctx.localIdx;
        int t = g / heads;
        int h = g % heads;
        float[] scores = ctx.allocateFloatLocalArray(MAX_SPAN);
        float[] red = ctx.allocateFloatLocalArray(4 * GROUP);
        // Every work item reaches every barrier: groups past T attend over an empty span.
        boolean live = t < meta.get(0);
        int n = live ? tokenPos.get(t) + 1 : 0;
        int start = live ? rowStart.get(tokenRow.get(t)) : 0;
        int d = heads * hd;
        int li = layer.get(0);
        int q = t * d + h * hd;
        float mx = -3.0e38f;
        for (int j = lid; j < n; j += GROUP) {
            int slot = pages.get(start + j / pageSize) * pageSize + j % pageSize;
            float s = keyDot(qrot, q, keys, keysPacked, halfScale, kvIndex(li, slots, slot, heads, h, hd, kvFormat),
                    hd, kvFormat) * scale;
            scores[j] = s;
            mx = TornadoMath.max(mx, s);
        }
        red[lid] = mx;
        ctx.localBarrier();
        for (int stride = GROUP / 2; stride > 0; stride /= 2) {
            if (lid < stride) {
                red[lid] = TornadoMath.max(red[lid], red[lid + stride]);
            }
            ctx.localBarrier();
        }
        mx = red[0];
        ctx.localBarrier();
        float sum = 0;
        for (int j = lid; j < n; j += GROUP) {
            float e = TornadoMath.exp(scores[j] - mx);
            scores[j] = e;
            sum += e;
        }
        red[lid] = sum;
        ctx.localBarrier();
        for (int stride = GROUP / 2; stride > 0; stride /= 2) {
            if (lid < stride) {
                red[lid] += red[lid + stride];
            }
            ctx.localBarrier();
        }
        float inv = 1.0f / red[0];
        ctx.localBarrier();
        int o = t * d + h * hd;
        if (kvFormat == F16) {
            // Each item sums a word's four dimensions, `split` items per word over positions part, part + split, ...
            int words = halfWords(hd);
            int lanes = words < GROUP ? words : GROUP;
            int split = GROUP / lanes;
            int w0 = lid % lanes;
            int part = lid / lanes;
            int count = live && part < split ? words : 0;
            float a0 = 0;
            float a1 = 0;
            float a2 = 0;
            float a3 = 0;
            for (int w = w0; w < count; w += lanes) {
                a0 = 0;
                a1 = 0;
                a2 = 0;
                a3 = 0;
                for (int j = part; j < n; j += split) {
                    int slot = pages.get(start + j / pageSize) * pageSize + j % pageSize;
                    long word = valuesPacked.get(kvIndex(li, slots, slot, heads, h, hd, kvFormat) + w);
                    float e = scores[j];
                    a0 += e * halfOf(word, 0, halfScale);
                    a1 += e * halfOf(word, 1, halfScale);
                    a2 += e * halfOf(word, 2, halfScale);
                    a3 += e * halfOf(word, 3, halfScale);
                }
                if (split == 1) {
                    storeWord(out, o, w, hd, a0, a1, a2, a3, inv);
                }
            }
            red[4 * lid] = a0;
            red[4 * lid + 1] = a1;
            red[4 * lid + 2] = a2;
            red[4 * lid + 3] = a3;
            ctx.localBarrier();
            if (split > 1 && live && part == 0) {
                float s0 = 0;
                float s1 = 0;
                float s2 = 0;
                float s3 = 0;
                for (int s = 0; s < split; s++) {
                    int at = 4 * (s * lanes + w0);
                    s0 += red[at];
                    s1 += red[at + 1];
                    s2 += red[at + 2];
                    s3 += red[at + 3];
                }
                storeWord(out, o, w0, hd, s0, s1, s2, s3, inv);
            }
        } else {
            // hd <= GROUP: `split` items per dimension, each over positions part, part + split, ...
            int lanes = hd < GROUP ? hd : GROUP;
            int split = GROUP / lanes;
            int i0 = lid % lanes;
            int part = lid / lanes;
            int dims = live && part < split ? hd : 0;
            float acc = 0;
            for (int i = i0; i < dims; i += lanes) {
                acc = 0;
                for (int j = part; j < n; j += split) {
                    int slot = pages.get(start + j / pageSize) * pageSize + j % pageSize;
                    acc += scores[j] * values.get(kvIndex(li, slots, slot, heads, h, hd, kvFormat) + i);
                }
                if (split == 1) {
                    out.set(o + i, acc * inv);
                }
            }
            red[lid] = acc;
            ctx.localBarrier();
            if (split > 1 && live && part == 0) {
                float total = 0;
                for (int s = 0; s < split; s++) {
                    total += red[s * lanes + i0];
                }
                out.set(o + i0, total * inv);
            }
        }
    }

    /** Exact GELU, erf by the Numerical Recipes erfc fit (relative error below 1.2e-7). */
    private static float geluOf(float v) {
        float z = TornadoMath.abs(v) * 0.70710678f;
        float t = 1.0f / (1.0f + 0.5f * z);
        // Gelu's constants are compile-time constants: the kernel sees float literals.
        float p = (float) Gelu.E0 + t * ((float) Gelu.E1 + t * ((float) Gelu.E2 + t * ((float) Gelu.E3
                + t * ((float) Gelu.E4 + t * ((float) Gelu.E5 + t * ((float) Gelu.E6 + t * ((float) Gelu.E7
                + t * ((float) Gelu.E8 + t * (float) Gelu.E9))))))));
        float erfc = t * TornadoMath.exp(-z * z + p);
        float erf = v >= 0 ? 1.0f - erfc : erfc - 1.0f;
        return 0.5f * v * (1.0f + erf);
    }

    /** {@code dst[i] = src[i]} for the live tokens. */
    public static void copy(KernelContext ctx, FloatArray src, FloatArray dst, IntArray meta, int width) {
        int i = ctx.globalIdx;
        if (i < meta.get(0) * width) {
            dst.set(i, src.get(i));
        }
    }

    /**
     * Token selection at the output head, one work-group per row of n logits: the index of the largest (first on
     * ties) into {@code ids}, and the row's sum into {@code sums}; and for rows with {@code topK[r] = k > 0}, the
     * top-k candidates - every logit at least the k-th largest, ties included, in index order - into {@code candIds}
     * / {@code candLogits} (row r at {@code r * cap}) with their number in {@code candCount[r]} (-1: more than
     * {@code cap}). The k-th largest is found by walking down the distinct values (each step: the largest value below
     * the last, and how many equal it), at most k passes over the row; values are compared, never computed, so the
     * candidates are exact.
     *
     * <p>The sum is the row's finiteness check, made on the host: it is a NaN or an infinity exactly when a logit is
     * (or when finite logits are so large that their sum overflows). The device cannot be asked: kernels are compiled
     * with fast, finite-only math, under which a test for NaN may be folded away, while the additions themselves
     * still carry a NaN or an infinity through.
     */
    public static void selectTokens(KernelContext ctx, FloatArray y, IntArray topK, IntArray ids, FloatArray sums,
                              IntArray candIds, FloatArray candLogits, IntArray candCount, IntArray meta, int n,
                              int cap) {
        int r = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] best = ctx.allocateFloatLocalArray(ROW_GROUP);
        int[] at = ctx.allocateIntLocalArray(ROW_GROUP);
        float[] rowSum = ctx.allocateFloatLocalArray(ROW_GROUP);
        int[] offsets = ctx.allocateIntLocalArray(ROW_GROUP + 1);
        // Every work item reaches every barrier: rows past the live count scan nothing.
        boolean live = r < meta.get(0);
        int width = live ? n : 0;
        int base = r * n;
        float b = -3.4e38f;
        int bi = n;
        float partial = 0;
        // Four loads in flight an iteration, taken in index order (the same sum and first maximum as one at a time).
        int i0 = lid;
        for (; i0 + 3 * ROW_GROUP < width; i0 += 4 * ROW_GROUP) {
            float v0 = y.get(base + i0);
            float v1 = y.get(base + i0 + ROW_GROUP);
            float v2 = y.get(base + i0 + 2 * ROW_GROUP);
            float v3 = y.get(base + i0 + 3 * ROW_GROUP);
            partial += v0;
            if (v0 > b) {
                b = v0;
                bi = i0;
            }
            partial += v1;
            if (v1 > b) {
                b = v1;
                bi = i0 + ROW_GROUP;
            }
            partial += v2;
            if (v2 > b) {
                b = v2;
                bi = i0 + 2 * ROW_GROUP;
            }
            partial += v3;
            if (v3 > b) {
                b = v3;
                bi = i0 + 3 * ROW_GROUP;
            }
        }
        for (int i = i0; i < width; i += ROW_GROUP) {
            float v = y.get(base + i);
            partial += v;
            if (v > b) {
                b = v;
                bi = i;
            }
        }
        best[lid] = b;
        at[lid] = bi;
        rowSum[lid] = partial;
        ctx.localBarrier();
        for (int stride = ROW_GROUP / 2; stride > 0; stride /= 2) {
            if (lid < stride) {
                float o = best[lid + stride];
                int oi = at[lid + stride];
                if (o > best[lid] || (o == best[lid] && oi < at[lid])) {
                    best[lid] = o;
                    at[lid] = oi;
                }
                rowSum[lid] += rowSum[lid + stride];
            }
            ctx.localBarrier();
        }
        if (live && lid == 0) {
            ids.set(r, at[0]);
            sums.set(r, rowSum[0]);
        }
        ctx.localBarrier();

        int k = live ? topK.get(r) : 0;
        // The value reached so far: after the last pass, the k-th largest.
        float kth = 0;
        int first = 1;
        int taken = 0;
        // Each pass takes at least one value, so at most k passes reach the k-th largest (k < n is the caller's).
        for (int step = 0; step < k && taken < k; step++) {
            float m = -3.4e38f;
            for (int i = lid; i < width; i += ROW_GROUP) {
                float v = y.get(base + i);
                if ((first == 1 || v < kth) && v > m) {
                    m = v;
                }
            }
            best[lid] = m;
            ctx.localBarrier();
            for (int stride = ROW_GROUP / 2; stride > 0; stride /= 2) {
                if (lid < stride) {
                    best[lid] = TornadoMath.max(best[lid], best[lid + stride]);
                }
                ctx.localBarrier();
            }
            float v = best[0];
            int c = 0;
            for (int i = lid; i < width; i += ROW_GROUP) {
                if (y.get(base + i) == v) {
                    c++;
                }
            }
            at[lid] = c;
            ctx.localBarrier();
            for (int stride = ROW_GROUP / 2; stride > 0; stride /= 2) {
                if (lid < stride) {
                    at[lid] += at[lid + stride];
                }
                ctx.localBarrier();
            }
            taken += at[0];
            ctx.localBarrier();
            kth = v;
            first = 0;
        }
        // The candidates in index order: each item counts its own contiguous chunk, then writes after the items
        // before it.
        int span = k > 0 ? width : 0;
        int chunk = (span + ROW_GROUP - 1) / ROW_GROUP;
        int start = TornadoMath.min(lid * chunk, span);
        int end = TornadoMath.min(start + chunk, span);
        int mine = 0;
        for (int i = start; i < end; i++) {
            if (y.get(base + i) >= kth) {
                mine++;
            }
        }
        offsets[lid] = mine;
        ctx.localBarrier();
        if (lid == 0) {
            // One item's serial prefix sum over the group, only when candidates are asked for.
            int sum = 0;
            for (int j = 0; j < (k > 0 ? ROW_GROUP : 0); j++) {
                int c = offsets[j];
                offsets[j] = sum;
                sum += c;
            }
            offsets[ROW_GROUP] = sum;
        }
        ctx.localBarrier();
        int total = offsets[ROW_GROUP];
        if (total <= cap) {
            int o = r * cap + offsets[lid];
            for (int i = start; i < end; i++) {
                float v = y.get(base + i);
                if (v >= kth) {
                    candIds.set(o, i);
                    candLogits.set(o, v);
                    o++;
                }
            }
        }
        if (k > 0 && lid == 0) {
            candCount.set(r, total <= cap ? total : -1);
        }
    }
}
