package org.blocktransformer.tornado.kernels;

import org.blocktransformer.model.neox.Gelu;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

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
    /** Work-group size of the row-wise kernels (LayerNorm, attention, argmax): a power of two. */
    public static final int GROUP = 128;
    /** Matmul: work-group edge (16 x 16 items) and k step. */
    public static final int TILE = 16;
    /** Matmul: tokens and outputs per work-group (each item computes 4 x 4). */
    public static final int BLOCK = 64;
    /** Longest attention span a work-group holds in local memory. */
    public static final int MAX_SPAN = 2048;

    private NeoXKernels() {
    }

    /**
     * LayerNorm of each token row: one work-group per row, statistics by tree reduction in local memory.
     * {@code layered} = 1 reads the weights of layer {@code layer[0]} from stacked arrays, 0 reads one set.
     */
    public static void layerNorm(KernelContext ctx, FloatArray x, FloatArray w, FloatArray b, FloatArray out,
                                 IntArray meta, IntArray layer, int d, float eps, int layered) {
        int t = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] red = ctx.allocateFloatLocalArray(GROUP);
        // Every work item reaches every barrier: rows past T just see an empty row (width 0).
        int width = t < meta.get(0) ? d : 0;
        int off = layer.get(0) * layered * d;
        float s = 0;
        for (int i = lid; i < width; i += GROUP) {
            s += x.get(t * d + i);
        }
        red[lid] = s;
        ctx.localBarrier();
        for (int stride = GROUP / 2; stride > 0; stride /= 2) {
            if (lid < stride) {
                red[lid] += red[lid + stride];
            }
            ctx.localBarrier();
        }
        float mean = red[0] / d;
        ctx.localBarrier();
        float v = 0;
        for (int i = lid; i < width; i += GROUP) {
            float c = x.get(t * d + i) - mean;
            v += c * c;
        }
        red[lid] = v;
        ctx.localBarrier();
        for (int stride = GROUP / 2; stride > 0; stride /= 2) {
            if (lid < stride) {
                red[lid] += red[lid + stride];
            }
            ctx.localBarrier();
        }
        float inv = 1.0f / TornadoMath.sqrt(red[0] / d + eps);
        for (int i = lid; i < width; i += GROUP) {
            out.set(t * d + i, (x.get(t * d + i) - mean) * inv * w.get(off + i) + b.get(off + i));
        }
    }

    /**
     * {@code y[t, j] = bias[j] + sum_c x[t, c] * W[j, c]} for t < T, j < n, with W row-major [n, k] (PyTorch
     * layout). A work-group of 16 x 16 work items computes a 64-token x 64-output tile, each item a 4 x 4 block in
     * registers, over k in steps of 16 staged in local memory: 256 multiply-adds per item between barriers.
     */
    public static void matmul(KernelContext ctx, FloatArray x, FloatArray w, FloatArray bias, FloatArray y,
                              IntArray meta, IntArray layer, int n, int k, int layered) {
        int tx = ctx.localIdx;
        int ty = ctx.localIdy;
        int col0 = ctx.groupIdx * BLOCK;
        int row0 = ctx.groupIdy * BLOCK;
        int tokens = meta.get(0);
        int wOff = layer.get(0) * layered * n * k;
        int bOff = layer.get(0) * layered * n;
        float[] xs = ctx.allocateFloatLocalArray(BLOCK * (TILE + 1));
        float[] ws = ctx.allocateFloatLocalArray(BLOCK * (TILE + 1));
        float a00 = 0, a01 = 0, a02 = 0, a03 = 0;
        float a10 = 0, a11 = 0, a12 = 0, a13 = 0;
        float a20 = 0, a21 = 0, a22 = 0, a23 = 0;
        float a30 = 0, a31 = 0, a32 = 0, a33 = 0;
        int lin = ty * TILE + tx;
        for (int c0 = 0; c0 < k; c0 += TILE) {
            // 256 items load the 64 x 16 slices of x and W, four elements each, consecutive items along k.
            for (int e = 0; e < 4; e++) {
                int idx = lin + e * TILE * TILE;
                int r = idx / TILE;
                int c = c0 + idx % TILE;
                float xv = 0;
                if (row0 + r < tokens && c < k) {
                    xv = x.get((row0 + r) * k + c);
                }
                float wv = 0;
                if (col0 + r < n && c < k) {
                    wv = w.get(wOff + (col0 + r) * k + c);
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
        store(y, bias, bOff, n, tokens, t0, col0 + tx, a00, a01, a02, a03);
        store(y, bias, bOff, n, tokens, t0 + 1, col0 + tx, a10, a11, a12, a13);
        store(y, bias, bOff, n, tokens, t0 + 2, col0 + tx, a20, a21, a22, a23);
        store(y, bias, bOff, n, tokens, t0 + 3, col0 + tx, a30, a31, a32, a33);
    }

    private static void store(FloatArray y, FloatArray bias, int bOff, int n, int tokens, int t, int j, float v0,
                              float v1, float v2, float v3) {
        if (t < tokens) {
            if (j < n) {
                y.set(t * n + j, v0 + bias.get(bOff + j));
            }
            if (j + TILE < n) {
                y.set(t * n + j + TILE, v1 + bias.get(bOff + j + TILE));
            }
            if (j + 2 * TILE < n) {
                y.set(t * n + j + 2 * TILE, v2 + bias.get(bOff + j + 2 * TILE));
            }
            if (j + 3 * TILE < n) {
                y.set(t * n + j + 3 * TILE, v3 + bias.get(bOff + j + 3 * TILE));
            }
        }
    }

    /**
     * Rotary embedding (rotate-half form, first {@code rot} dims) of q and k of one (token, head) per work item, and
     * the token's key and value written to its cache slot.
     */
    public static void rotaryStore(KernelContext ctx, FloatArray qkv, FloatArray keys, FloatArray values, FloatArray cos,
                                   FloatArray sin, IntArray meta, IntArray layer, IntArray tokenPos, IntArray tokenSlot,
                                   int heads, int hd, int rot, int slots) {
        int idx = ctx.globalIdx;
        int t = idx / heads;
        int h = idx % heads;
        if (t < meta.get(0)) {
            int d = heads * hd;
            int half = rot / 2;
            int p = tokenPos.get(t);
            int q = t * 3 * d + h * 3 * hd;
            int k = q + hd;
            int v = k + hd;
            for (int i = 0; i < half; i++) {
                float co = cos.get(p * half + i);
                float si = sin.get(p * half + i);
                float qa = qkv.get(q + i);
                float qb = qkv.get(q + half + i);
                qkv.set(q + i, qa * co - qb * si);
                qkv.set(q + half + i, qb * co + qa * si);
                float ka = qkv.get(k + i);
                float kb = qkv.get(k + half + i);
                qkv.set(k + i, ka * co - kb * si);
                qkv.set(k + half + i, kb * co + ka * si);
            }
            int base = (layer.get(0) * slots + tokenSlot.get(t)) * d + h * hd;
            for (int i = 0; i < hd; i++) {
                keys.set(base + i, qkv.get(k + i));
                values.set(base + i, qkv.get(v + i));
            }
        }
    }

    /**
     * Softmax attention of one (token, head) per work-group over the token's row, positions 0..p, through the row's
     * page table ({@code pages[rowStart[row] + j / pageSize]}): scores in local memory, max and sum by tree
     * reduction, then one output dimension per work item.
     */
    public static void attention(KernelContext ctx, FloatArray qkv, FloatArray keys, FloatArray values, FloatArray out,
                                 IntArray meta, IntArray layer, IntArray tokenPos, IntArray tokenRow, IntArray rowStart,
                                 IntArray pages, int heads, int hd, int pageSize, int slots, float scale) {
        int g = ctx.groupIdx;
        int lid = ctx.localIdx;
        int t = g / heads;
        int h = g % heads;
        float[] scores = ctx.allocateFloatLocalArray(MAX_SPAN);
        float[] red = ctx.allocateFloatLocalArray(GROUP);
        // Every work item reaches every barrier: groups past T attend over an empty span.
        boolean live = t < meta.get(0);
        int n = live ? tokenPos.get(t) + 1 : 0;
        int start = live ? rowStart.get(tokenRow.get(t)) : 0;
        int d = heads * hd;
        int layerBase = layer.get(0) * slots * d;
        int q = t * 3 * d + h * 3 * hd;
        float mx = -3.0e38f;
        for (int j = lid; j < n; j += GROUP) {
            int slot = pages.get(start + j / pageSize) * pageSize + j % pageSize;
            int kb = layerBase + slot * d + h * hd;
            float s = 0;
            for (int i = 0; i < hd; i++) {
                s += qkv.get(q + i) * keys.get(kb + i);
            }
            s = s * scale;
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
        int dims = live ? hd : 0;
        for (int i = lid; i < dims; i += GROUP) {
            float acc = 0;
            for (int j = 0; j < n; j++) {
                int slot = pages.get(start + j / pageSize) * pageSize + j % pageSize;
                acc += scores[j] * values.get(layerBase + slot * d + h * hd + i);
            }
            out.set(t * d + h * hd + i, acc * inv);
        }
    }

    /** Exact GELU in place, erf by the Numerical Recipes erfc fit (relative error below 1.2e-7). */
    public static void gelu(KernelContext ctx, FloatArray x, IntArray meta, int width) {
        int i = ctx.globalIdx;
        if (i < meta.get(0) * width) {
            float v = x.get(i);
            float z = TornadoMath.abs(v) * 0.70710678f;
            float t = 1.0f / (1.0f + 0.5f * z);
            // Gelu's constants are compile-time constants: the kernel sees float literals.
            float p = (float) Gelu.E0 + t * ((float) Gelu.E1 + t * ((float) Gelu.E2 + t * ((float) Gelu.E3
                    + t * ((float) Gelu.E4 + t * ((float) Gelu.E5 + t * ((float) Gelu.E6 + t * ((float) Gelu.E7
                    + t * ((float) Gelu.E8 + t * (float) Gelu.E9))))))));
            float erfc = t * TornadoMath.exp(-z * z + p);
            float erf = v >= 0 ? 1.0f - erfc : erfc - 1.0f;
            x.set(i, 0.5f * v * (1.0f + erf));
        }
    }

    /** Parallel residual: {@code x = (a + b) + x}, the reference's association. */
    public static void addTwo(KernelContext ctx, FloatArray a, FloatArray b, FloatArray x, IntArray meta, int width) {
        int i = ctx.globalIdx;
        if (i < meta.get(0) * width) {
            x.set(i, (a.get(i) + b.get(i)) + x.get(i));
        }
    }

    /** Sequential residual: {@code x = a + x}. */
    public static void addOne(KernelContext ctx, FloatArray a, FloatArray x, IntArray meta, int width) {
        int i = ctx.globalIdx;
        if (i < meta.get(0) * width) {
            x.set(i, a.get(i) + x.get(i));
        }
    }

    /** {@code dst[i] = src[i]} for the live tokens. */
    public static void copy(KernelContext ctx, FloatArray src, FloatArray dst, IntArray meta, int width) {
        int i = ctx.globalIdx;
        if (i < meta.get(0) * width) {
            dst.set(i, src.get(i));
        }
    }

    /** Index of the largest of each row's n values (first on ties): one work-group per row. */
    public static void argmax(KernelContext ctx, FloatArray y, IntArray ids, IntArray meta, int n) {
        int r = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] best = ctx.allocateFloatLocalArray(GROUP);
        int[] at = ctx.allocateIntLocalArray(GROUP);
        // Every work item reaches every barrier: rows past the live count scan nothing.
        boolean live = r < meta.get(0);
        int width = live ? n : 0;
        float b = -3.4e38f;
        int bi = n;
        for (int i = lid; i < width; i += GROUP) {
            float v = y.get(r * n + i);
            if (v > b) {
                b = v;
                bi = i;
            }
        }
        best[lid] = b;
        at[lid] = bi;
        ctx.localBarrier();
        for (int stride = GROUP / 2; stride > 0; stride /= 2) {
            if (lid < stride) {
                float o = best[lid + stride];
                int oi = at[lid + stride];
                if (o > best[lid] || (o == best[lid] && oi < at[lid])) {
                    best[lid] = o;
                    at[lid] = oi;
                }
            }
            ctx.localBarrier();
        }
        if (live && lid == 0) {
            ids.set(r, at[0]);
        }
    }
}
