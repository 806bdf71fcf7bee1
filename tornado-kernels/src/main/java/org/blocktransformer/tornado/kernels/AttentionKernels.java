package org.blocktransformer.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;

/**
 * Decode attention split across work-groups along the context ("flash decoding"): each (token, head, chunk of
 * {@link #CHUNK} positions) is one work-group of {@link NeoXKernels#GROUP} items, which computes its chunk's scores,
 * their maximum, the sum of their exponentials and the weighted sum of its values; a second launch combines a
 * (token, head)'s chunks with the usual rescaling by {@code exp(max_c - max)}. Where {@link NeoXKernels#attention}
 * has one work-group per (token, head) walk the whole context (16 work-groups for one sequence of a 16-head model,
 * for 132 multiprocessors), this one has that times the chunks, so small batches over long contexts fill the device.
 * The cache layout, page tables and float32 / float16 storage (four halves to a word) are
 * {@link NeoXKernels#attention}'s.
 *
 * <p>Partial results: {@code partial[((t * heads + h) * chunks + c) * (hd + 2) + ...]} = the chunk's maximum score,
 * its sum of exponentials (relative to that maximum), then hd weighted sums; a chunk past the token's context
 * writes a maximum of -3e38 and zeros, which the combine step weighs by zero.
 */
public final class AttentionKernels {
    /** Positions per chunk (each work item scores two). */
    public static final int CHUNK = 256;

    private AttentionKernels() {
    }

    /** The first launch: one chunk of one (token, head) per work-group, {@code chunks} chunks per (token, head). */
    public static void attentionChunks(KernelContext ctx, FloatArray qrot, FloatArray keys, FloatArray values,
                                       LongArray keysPacked, LongArray valuesPacked, FloatArray halfScale,
                                       FloatArray partial, IntArray meta, IntArray layer, IntArray tokenPos,
                                       IntArray tokenRow, IntArray rowStart, IntArray pages, int heads, int hd,
                                       int pageSize, int slots, int chunks, int kvFormat) {
        int g = ctx.groupIdx;
        int lid = ctx.localIdx;
        int c = g % chunks;
        int th = g / chunks;
        int t = th / heads;
        int h = th % heads;
        float[] scores = ctx.allocateFloatLocalArray(CHUNK);
        float[] red = ctx.allocateFloatLocalArray(4 * NeoXKernels.GROUP);
        // Every work item reaches every barrier: work-groups past T, or past the token's context, see an empty span.
        boolean live = t < meta.get(0);
        int n = live ? tokenPos.get(t) + 1 : 0;
        int from = c * CHUNK;
        int to = TornadoMath.min(from + CHUNK, n);
        int span = to > from ? to - from : 0;
        int start = live ? rowStart.get(tokenRow.get(t)) : 0;
        int d = heads * hd;
        int li = layer.get(0);
        int q = t * d + h * hd;
        float scale = 1.0f / TornadoMath.sqrt((float) hd);
        float mx = -3.0e38f;
        for (int j = lid; j < span; j += NeoXKernels.GROUP) {
            int p = from + j;
            int slot = pages.get(start + p / pageSize) * pageSize + p % pageSize;
            float s = NeoXKernels.keyDot(qrot, q, keys, keysPacked, halfScale,
                    NeoXKernels.kvIndex(li, slots, slot, heads, h, hd, kvFormat), hd, kvFormat) * scale;
            scores[j] = s;
            mx = TornadoMath.max(mx, s);
        }
        red[lid] = mx;
        ctx.localBarrier();
        for (int stride = NeoXKernels.GROUP / 2; stride > 0; stride /= 2) {
            if (lid < stride) {
                red[lid] = TornadoMath.max(red[lid], red[lid + stride]);
            }
            ctx.localBarrier();
        }
        mx = red[0];
        ctx.localBarrier();
        float sum = 0;
        for (int j = lid; j < span; j += NeoXKernels.GROUP) {
            float e = TornadoMath.exp(scores[j] - mx);
            scores[j] = e;
            sum += e;
        }
        red[lid] = sum;
        ctx.localBarrier();
        for (int stride = NeoXKernels.GROUP / 2; stride > 0; stride /= 2) {
            if (lid < stride) {
                red[lid] += red[lid + stride];
            }
            ctx.localBarrier();
        }
        sum = red[0];
        ctx.localBarrier();
        int out = (th * chunks + c) * (hd + 2);
        if (kvFormat == NeoXKernels.F16) {
            // Weighted values: each item sums one word's four dimensions, `split` items per word over interleaved
            // positions, their sums then added. Written out as in NeoXKernels.attention, not shared: the loop reads
            // and the sum writes local arrays, which TornadoVM miscompiles in a helper (see NeoXKernels#layerNorm).
            int words = NeoXKernels.halfWords(hd);
            int lanes = words < NeoXKernels.GROUP ? words : NeoXKernels.GROUP;
            int split = NeoXKernels.GROUP / lanes;
            int w0 = lid % lanes;
            int part = lid / lanes;
            int count = part < split ? words : 0;
            float a0 = 0;
            float a1 = 0;
            float a2 = 0;
            float a3 = 0;
            for (int w = w0; w < count; w += lanes) {
                a0 = 0;
                a1 = 0;
                a2 = 0;
                a3 = 0;
                for (int j = part; j < span; j += split) {
                    int p = from + j;
                    int slot = pages.get(start + p / pageSize) * pageSize + p % pageSize;
                    long word = valuesPacked.get(NeoXKernels.kvIndex(li, slots, slot, heads, h, hd, kvFormat) + w);
                    float e = scores[j];
                    a0 += e * NeoXKernels.halfOf(word, 0, halfScale);
                    a1 += e * NeoXKernels.halfOf(word, 1, halfScale);
                    a2 += e * NeoXKernels.halfOf(word, 2, halfScale);
                    a3 += e * NeoXKernels.halfOf(word, 3, halfScale);
                }
                if (split == 1 && live) {
                    NeoXKernels.storeWord(partial, out + 2, w, hd, a0, a1, a2, a3, 1.0f);
                }
            }
            red[4 * lid] = a0;
            red[4 * lid + 1] = a1;
            red[4 * lid + 2] = a2;
            red[4 * lid + 3] = a3;
            ctx.localBarrier();
            if (live && split > 1 && part == 0) {
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
                NeoXKernels.storeWord(partial, out + 2, w0, hd, s0, s1, s2, s3, 1.0f);
            }
        } else {
            // Weighted values: `split` items per dimension over interleaved positions, their sums then added.
            int lanes = hd < NeoXKernels.GROUP ? hd : NeoXKernels.GROUP;
            int split = NeoXKernels.GROUP / lanes;
            int i0 = lid % lanes;
            int part = lid / lanes;
            int dims = part < split ? hd : 0;
            float acc = 0;
            for (int i = i0; i < dims; i += lanes) {
                acc = 0;
                for (int j = part; j < span; j += split) {
                    int p = from + j;
                    int slot = pages.get(start + p / pageSize) * pageSize + p % pageSize;
                    acc += scores[j] * values.get(NeoXKernels.kvIndex(li, slots, slot, heads, h, hd, kvFormat) + i);
                }
                if (split == 1 && live) {
                    partial.set(out + 2 + i, acc);
                }
            }
            red[lid] = acc;
            ctx.localBarrier();
            if (live && split > 1 && part == 0) {
                float total = 0;
                for (int s = 0; s < split; s++) {
                    total += red[s * lanes + i0];
                }
                partial.set(out + 2 + i0, total);
            }
        }
        if (live && lid == 0) {
            partial.set(out, mx);
            partial.set(out + 1, sum);
        }
    }

    /**
     * The second launch: one (token, head) per work-group of {@link NeoXKernels#GROUP} items, each output dimension
     * {@code sum_c exp(m_c - m) acc_c / sum_c exp(m_c - m) s_c} over the token's chunks.
     */
    public static void combineChunks(KernelContext ctx, FloatArray partial, FloatArray out, IntArray meta,
                                     IntArray tokenPos, int heads, int hd, int chunks) {
        int th = ctx.groupIdx;
        int lid = ctx.localIdx;
        int t = th / heads;
        int h = th % heads;
        if (t < meta.get(0)) {
            int used = (tokenPos.get(t) + CHUNK) / CHUNK;
            int base = th * chunks * (hd + 2);
            float m = -3.0e38f;
            for (int c = 0; c < used; c++) {
                m = TornadoMath.max(m, partial.get(base + c * (hd + 2)));
            }
            float norm = 0;
            for (int c = 0; c < used; c++) {
                int at = base + c * (hd + 2);
                norm += TornadoMath.exp(partial.get(at) - m) * partial.get(at + 1);
            }
            for (int i = lid; i < hd; i += NeoXKernels.GROUP) {
                float acc = 0;
                for (int c = 0; c < used; c++) {
                    int at = base + c * (hd + 2);
                    acc += TornadoMath.exp(partial.get(at) - m) * partial.get(at + 2 + i);
                }
                out.set(t * heads * hd + h * hd + i, acc / norm);
            }
        }
    }
}
