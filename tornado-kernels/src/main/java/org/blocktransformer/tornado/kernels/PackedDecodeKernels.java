package org.blocktransformer.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;

/**
 * The Linear layers of few-token calls (decoding) on the tensor-core path, reading the float16 weights the tensor-core
 * kernel reads ({@link MmaKernels#packWeights}), so a model on the tensor-core path holds its weights once. The
 * same product and epilogues as {@link NeoXKernels#linear}, including its fused {@link NeoXKernels#ADD_PAIR} of two
 * products; the activations stay float32 (only the weights are float16, as in {@link NeoXKernels#linear}).
 *
 * <p>Why not {@link NeoXKernels#linear} over the row-major copy: at one token it spends its time in its reduction
 * tree (16 sums, a barrier a level) and in activation loads (eight per weight), not on the weights (an H200 at one
 * token: 3,072 x 1,024 in ~27 us, 0.25 TB/s). Here a work item takes one 8-byte word of weights per load and uses
 * each activation it loads for two outputs and each weight for up to {@link #TOKENS} tokens; the partial sums meet
 * once, in local memory, after the loop.
 *
 * <p>The packed layout, per 128-output tile and 32-k step, in two 16-k halves: the word of (8-output group g, k row
 * kr &lt; 8, column pair c2) at {@code (half * 16 + g) * 32 + kr * 4 + c2} holds outputs {@code 8g + 2c2} and
 * {@code + 1} at k {@code kr} (its low int) and {@code kr + 8} (its high int). A work item owns a column pair and
 * two adjacent k rows {@code 2r, 2r + 1} (words 4 apart): four k and two outputs, eight products per token for two
 * weight loads and four activation loads; a half-warp covers the group's (k step, half) unit, 256 contiguous bytes.
 * A work-group of {@link #GROUP} items computes one group ({@link #OUTPUTS} outputs): its sixteen half-warps take
 * every sixteenth unit, so even a 1,024-output layer has 128 work-groups of eight warps spread over the card, and
 * the 64 partial sums of an output (16 half-warps x 4 k-row pairs) are added in two steps after the loop. Tokens go
 * {@link #TOKENS} at a time, the second four only when one of them is live (a branch the whole work-group takes
 * alike); rows past the last live token read the last one and store nothing.
 *
 * <p>The widening is {@link NeoXKernels#half}'s table, not {@code Float.float16ToFloat}: TornadoVM 5.2's PTX backend
 * emits that as {@code cvt.f32.f16} of a 32-bit register, which ptxas refuses ("Arguments mismatch for instruction
 * 'cvt'"), for a value shifted out of a word. So the kernel is plain TornadoVM and runs on OpenCL too (tested there).
 *
 * <p>Shapes: the packed weights are zero beyond n and k (whole tiles), and activation reads clamp k into the row,
 * so any n and k is exact.
 */
public final class PackedDecodeKernels {
    /** Work items per work-group: eight warps, sixteen half-warps. */
    public static final int GROUP = 256;
    /** Outputs per work-group: one 8-output group of the packed layout. */
    public static final int OUTPUTS = 8;
    /** Tokens accumulated per pass over the weights (the second four only when one is live). */
    public static final int TOKENS = 8;
    /** Half-warps of a work-group, each taking every sixteenth (k step, half) unit. */
    private static final int SLICES = 16;
    /** Partial sums of one output and token: the slices x the four k-row pairs. */
    private static final int PARTIALS = 64;
    /** Cells of one token tile: tokens x outputs. */
    private static final int CELLS = TOKENS * OUTPUTS;
    /** Work items that add up one cell's partials in the first of the two summing steps. */
    private static final int QUARTERS = GROUP / CELLS;
    /** Words of one 16-k half of a packed block ({@link MmaKernels#packWeights}: 1,024 a 32-k step). */
    private static final int HALF_BLOCK = 512;
    private static final int BLOCK = 2 * HALF_BLOCK;

    private PackedDecodeKernels() {
    }

    /**
     * {@code y[t, j] = epilogue(xa[t, :] . Wa[j, :] + ba[j])} for the live tokens t (the modes of {@link
     * NeoXKernels#linear}); with {@link NeoXKernels#ADD_PAIR}, {@code y = (b + a) + y} where b is the product of
     * {@code xb} ({@code kb} wide) and {@code wb}; other modes pass {@code kb} = 0. Weights packed by {@link
     * MmaKernels#packWeights}, layer {@code layer[0]} when {@code layered} = 1, widened exactly by {@link
     * NeoXKernels#half} ({@code scale} is {@link NeoXKernels#bf16Scale()}).
     */
    public static void linear(KernelContext ctx, FloatArray xa, LongArray wa, FloatArray ba, FloatArray xb,
                              LongArray wb, FloatArray bb, FloatArray y, FloatArray scale, IntArray meta,
                              IntArray layer, int n, int ka, int kb, int layered, int mode) {
        int lid = ctx.localIdx;
        int c2 = lid % 4;
        int r = lid / 4 % 4;
        int slice = lid / 16;
        int group = ctx.groupIdx;
        int nTiles = (n + MmaKernels.TILE_N - 1) / MmaKernels.TILE_N;
        int tile = layer.get(0) * layered * nTiles + group / 16;
        int word = group % 16 * 32 + 8 * r + c2;
        int stepsA = MmaKernels.kSteps(ka);
        int stepsB = MmaKernels.kSteps(kb);
        int baseA = tile * stepsA * BLOCK + word;
        int baseB = tile * stepsB * BLOCK + word;
        int bOff = layer.get(0) * layered * n;
        int tokens = meta.get(0);
        int lastT = tokens - 1;
        int lastA = ka - 1;
        int lastB = kb - 1;
        boolean pairs = mode == NeoXKernels.ADD_PAIR;
        // red[p * CELLS + i * OUTPUTS + o]: partial p of output o, token i of the tile (b's after a's);
        // sums[q * CELLS + cell]: quarter q of a cell's partials (b's after a's).
        float[] red = ctx.allocateFloatLocalArray(2 * PARTIALS * CELLS);
        float[] sums = ctx.allocateFloatLocalArray(2 * GROUP);
        int cell = 2 * c2;
        int part = (slice * 4 + r) * CELLS;
        for (int t0 = 0; t0 < tokens; t0 += TOKENS) {
            // The tile's second four tokens only when one of them is live: one branch for the whole work-group.
            boolean wide = t0 + 4 < tokens;
            int row0 = TornadoMath.min(t0 + 0, lastT);
            int row1 = TornadoMath.min(t0 + 1, lastT);
            int row2 = TornadoMath.min(t0 + 2, lastT);
            int row3 = TornadoMath.min(t0 + 3, lastT);
            int row4 = TornadoMath.min(t0 + 4, lastT);
            int row5 = TornadoMath.min(t0 + 5, lastT);
            int row6 = TornadoMath.min(t0 + 6, lastT);
            int row7 = TornadoMath.min(t0 + 7, lastT);
            // e: the group's even output 2c2, o: the odd one; digit: the token of the tile.
            float e0 = 0, e1 = 0, e2 = 0, e3 = 0, e4 = 0, e5 = 0, e6 = 0, e7 = 0;
            float o0 = 0, o1 = 0, o2 = 0, o3 = 0, o4 = 0, o5 = 0, o6 = 0, o7 = 0;
            int a0 = row0 * ka;
            int a1 = row1 * ka;
            int a2 = row2 * ka;
            int a3 = row3 * ka;
            int a4 = row4 * ka;
            int a5 = row5 * ka;
            int a6 = row6 * ka;
            int a7 = row7 * ka;
            // lo holds k c (its low int) and c + 8 (its high int), hi holds c + 1 and c + 9.
            for (int u = slice; u < 2 * stepsA; u += SLICES) {
                long lo = wa.get(baseA + u * HALF_BLOCK);
                long hi = wa.get(baseA + u * HALF_BLOCK + 4);
                float l0 = NeoXKernels.half((int) lo, scale);
                float l1 = NeoXKernels.half((int) (lo >>> 16), scale);
                float l2 = NeoXKernels.half((int) (lo >>> 32), scale);
                float l3 = NeoXKernels.half((int) (lo >>> 48), scale);
                float h0 = NeoXKernels.half((int) hi, scale);
                float h1 = NeoXKernels.half((int) (hi >>> 16), scale);
                float h2 = NeoXKernels.half((int) (hi >>> 32), scale);
                float h3 = NeoXKernels.half((int) (hi >>> 48), scale);
                int c = u * 16 + 2 * r;
                int k0 = TornadoMath.min(c, lastA);
                int k1 = TornadoMath.min(c + 1, lastA);
                int k8 = TornadoMath.min(c + 8, lastA);
                int k9 = TornadoMath.min(c + 9, lastA);
                float x00 = xa.get(a0 + k0);
                float x10 = xa.get(a0 + k1);
                float x80 = xa.get(a0 + k8);
                float x90 = xa.get(a0 + k9);
                e0 += l0 * x00 + h0 * x10 + l2 * x80 + h2 * x90;
                o0 += l1 * x00 + h1 * x10 + l3 * x80 + h3 * x90;
                float x01 = xa.get(a1 + k0);
                float x11 = xa.get(a1 + k1);
                float x81 = xa.get(a1 + k8);
                float x91 = xa.get(a1 + k9);
                e1 += l0 * x01 + h0 * x11 + l2 * x81 + h2 * x91;
                o1 += l1 * x01 + h1 * x11 + l3 * x81 + h3 * x91;
                float x02 = xa.get(a2 + k0);
                float x12 = xa.get(a2 + k1);
                float x82 = xa.get(a2 + k8);
                float x92 = xa.get(a2 + k9);
                e2 += l0 * x02 + h0 * x12 + l2 * x82 + h2 * x92;
                o2 += l1 * x02 + h1 * x12 + l3 * x82 + h3 * x92;
                float x03 = xa.get(a3 + k0);
                float x13 = xa.get(a3 + k1);
                float x83 = xa.get(a3 + k8);
                float x93 = xa.get(a3 + k9);
                e3 += l0 * x03 + h0 * x13 + l2 * x83 + h2 * x93;
                o3 += l1 * x03 + h1 * x13 + l3 * x83 + h3 * x93;
                if (wide) {
                    float x04 = xa.get(a4 + k0);
                    float x14 = xa.get(a4 + k1);
                    float x84 = xa.get(a4 + k8);
                    float x94 = xa.get(a4 + k9);
                    e4 += l0 * x04 + h0 * x14 + l2 * x84 + h2 * x94;
                    o4 += l1 * x04 + h1 * x14 + l3 * x84 + h3 * x94;
                    float x05 = xa.get(a5 + k0);
                    float x15 = xa.get(a5 + k1);
                    float x85 = xa.get(a5 + k8);
                    float x95 = xa.get(a5 + k9);
                    e5 += l0 * x05 + h0 * x15 + l2 * x85 + h2 * x95;
                    o5 += l1 * x05 + h1 * x15 + l3 * x85 + h3 * x95;
                    float x06 = xa.get(a6 + k0);
                    float x16 = xa.get(a6 + k1);
                    float x86 = xa.get(a6 + k8);
                    float x96 = xa.get(a6 + k9);
                    e6 += l0 * x06 + h0 * x16 + l2 * x86 + h2 * x96;
                    o6 += l1 * x06 + h1 * x16 + l3 * x86 + h3 * x96;
                    float x07 = xa.get(a7 + k0);
                    float x17 = xa.get(a7 + k1);
                    float x87 = xa.get(a7 + k8);
                    float x97 = xa.get(a7 + k9);
                    e7 += l0 * x07 + h0 * x17 + l2 * x87 + h2 * x97;
                    o7 += l1 * x07 + h1 * x17 + l3 * x87 + h3 * x97;
                }
            }
            red[part + 0 * OUTPUTS + cell] = e0;
            red[part + 0 * OUTPUTS + cell + 1] = o0;
            red[part + 1 * OUTPUTS + cell] = e1;
            red[part + 1 * OUTPUTS + cell + 1] = o1;
            red[part + 2 * OUTPUTS + cell] = e2;
            red[part + 2 * OUTPUTS + cell + 1] = o2;
            red[part + 3 * OUTPUTS + cell] = e3;
            red[part + 3 * OUTPUTS + cell + 1] = o3;
            red[part + 4 * OUTPUTS + cell] = e4;
            red[part + 4 * OUTPUTS + cell + 1] = o4;
            red[part + 5 * OUTPUTS + cell] = e5;
            red[part + 5 * OUTPUTS + cell + 1] = o5;
            red[part + 6 * OUTPUTS + cell] = e6;
            red[part + 6 * OUTPUTS + cell + 1] = o6;
            red[part + 7 * OUTPUTS + cell] = e7;
            red[part + 7 * OUTPUTS + cell + 1] = o7;
            // The second product (ADD_PAIR only; kb = 0 runs no step): the same loop over xb and wb. (Written
            // out twice: TornadoVM has no array-valued selects, and a helper cannot return the 16 sums.)
            e0 = 0;
            o0 = 0;
            e1 = 0;
            o1 = 0;
            e2 = 0;
            o2 = 0;
            e3 = 0;
            o3 = 0;
            e4 = 0;
            o4 = 0;
            e5 = 0;
            o5 = 0;
            e6 = 0;
            o6 = 0;
            e7 = 0;
            o7 = 0;
            a0 = row0 * kb;
            a1 = row1 * kb;
            a2 = row2 * kb;
            a3 = row3 * kb;
            a4 = row4 * kb;
            a5 = row5 * kb;
            a6 = row6 * kb;
            a7 = row7 * kb;
            for (int u = slice; u < 2 * stepsB; u += SLICES) {
                long lo = wb.get(baseB + u * HALF_BLOCK);
                long hi = wb.get(baseB + u * HALF_BLOCK + 4);
                float l0 = NeoXKernels.half((int) lo, scale);
                float l1 = NeoXKernels.half((int) (lo >>> 16), scale);
                float l2 = NeoXKernels.half((int) (lo >>> 32), scale);
                float l3 = NeoXKernels.half((int) (lo >>> 48), scale);
                float h0 = NeoXKernels.half((int) hi, scale);
                float h1 = NeoXKernels.half((int) (hi >>> 16), scale);
                float h2 = NeoXKernels.half((int) (hi >>> 32), scale);
                float h3 = NeoXKernels.half((int) (hi >>> 48), scale);
                int c = u * 16 + 2 * r;
                int k0 = TornadoMath.min(c, lastB);
                int k1 = TornadoMath.min(c + 1, lastB);
                int k8 = TornadoMath.min(c + 8, lastB);
                int k9 = TornadoMath.min(c + 9, lastB);
                float x00 = xb.get(a0 + k0);
                float x10 = xb.get(a0 + k1);
                float x80 = xb.get(a0 + k8);
                float x90 = xb.get(a0 + k9);
                e0 += l0 * x00 + h0 * x10 + l2 * x80 + h2 * x90;
                o0 += l1 * x00 + h1 * x10 + l3 * x80 + h3 * x90;
                float x01 = xb.get(a1 + k0);
                float x11 = xb.get(a1 + k1);
                float x81 = xb.get(a1 + k8);
                float x91 = xb.get(a1 + k9);
                e1 += l0 * x01 + h0 * x11 + l2 * x81 + h2 * x91;
                o1 += l1 * x01 + h1 * x11 + l3 * x81 + h3 * x91;
                float x02 = xb.get(a2 + k0);
                float x12 = xb.get(a2 + k1);
                float x82 = xb.get(a2 + k8);
                float x92 = xb.get(a2 + k9);
                e2 += l0 * x02 + h0 * x12 + l2 * x82 + h2 * x92;
                o2 += l1 * x02 + h1 * x12 + l3 * x82 + h3 * x92;
                float x03 = xb.get(a3 + k0);
                float x13 = xb.get(a3 + k1);
                float x83 = xb.get(a3 + k8);
                float x93 = xb.get(a3 + k9);
                e3 += l0 * x03 + h0 * x13 + l2 * x83 + h2 * x93;
                o3 += l1 * x03 + h1 * x13 + l3 * x83 + h3 * x93;
                if (wide) {
                    float x04 = xb.get(a4 + k0);
                    float x14 = xb.get(a4 + k1);
                    float x84 = xb.get(a4 + k8);
                    float x94 = xb.get(a4 + k9);
                    e4 += l0 * x04 + h0 * x14 + l2 * x84 + h2 * x94;
                    o4 += l1 * x04 + h1 * x14 + l3 * x84 + h3 * x94;
                    float x05 = xb.get(a5 + k0);
                    float x15 = xb.get(a5 + k1);
                    float x85 = xb.get(a5 + k8);
                    float x95 = xb.get(a5 + k9);
                    e5 += l0 * x05 + h0 * x15 + l2 * x85 + h2 * x95;
                    o5 += l1 * x05 + h1 * x15 + l3 * x85 + h3 * x95;
                    float x06 = xb.get(a6 + k0);
                    float x16 = xb.get(a6 + k1);
                    float x86 = xb.get(a6 + k8);
                    float x96 = xb.get(a6 + k9);
                    e6 += l0 * x06 + h0 * x16 + l2 * x86 + h2 * x96;
                    o6 += l1 * x06 + h1 * x16 + l3 * x86 + h3 * x96;
                    float x07 = xb.get(a7 + k0);
                    float x17 = xb.get(a7 + k1);
                    float x87 = xb.get(a7 + k8);
                    float x97 = xb.get(a7 + k9);
                    e7 += l0 * x07 + h0 * x17 + l2 * x87 + h2 * x97;
                    o7 += l1 * x07 + h1 * x17 + l3 * x87 + h3 * x97;
                }
            }
            int second = PARTIALS * CELLS + part;
            red[second + 0 * OUTPUTS + cell] = e0;
            red[second + 0 * OUTPUTS + cell + 1] = o0;
            red[second + 1 * OUTPUTS + cell] = e1;
            red[second + 1 * OUTPUTS + cell + 1] = o1;
            red[second + 2 * OUTPUTS + cell] = e2;
            red[second + 2 * OUTPUTS + cell + 1] = o2;
            red[second + 3 * OUTPUTS + cell] = e3;
            red[second + 3 * OUTPUTS + cell + 1] = o3;
            red[second + 4 * OUTPUTS + cell] = e4;
            red[second + 4 * OUTPUTS + cell + 1] = o4;
            red[second + 5 * OUTPUTS + cell] = e5;
            red[second + 5 * OUTPUTS + cell + 1] = o5;
            red[second + 6 * OUTPUTS + cell] = e6;
            red[second + 6 * OUTPUTS + cell + 1] = o6;
            red[second + 7 * OUTPUTS + cell] = e7;
            red[second + 7 * OUTPUTS + cell + 1] = o7;
            ctx.localBarrier();
            // Two summing steps, the partials in order: item i adds quarter i / CELLS of cell i % CELLS ...
            int mine = lid % CELLS;
            int q = lid / CELLS;
            float sa = 0;
            float sb = 0;
            for (int p = q * (PARTIALS / QUARTERS); p < (q + 1) * (PARTIALS / QUARTERS); p++) {
                sa += red[p * CELLS + mine];
                sb += red[PARTIALS * CELLS + p * CELLS + mine];
            }
            sums[lid] = sa;
            sums[GROUP + lid] = sb;
            ctx.localBarrier();
            // ... then item c < CELLS finishes cell c: token t0 + c / OUTPUTS, output c % OUTPUTS of the group.
            int t = t0 + lid / OUTPUTS;
            int j = group * OUTPUTS + lid % OUTPUTS;
            if (lid < CELLS && t < tokens && j < n) {
                float a = 0;
                float b = 0;
                for (int h = 0; h < QUARTERS; h++) {
                    a += sums[h * CELLS + lid];
                    b += sums[GROUP + h * CELLS + lid];
                }
                int at = t * n + j;
                float first = a + ba.get(bOff + j);
                float yv = mode == NeoXKernels.ADD || pairs ? y.get(at) : 0;
                if (pairs) {
                    y.set(at, NeoXKernels.epilogue(b + bb.get(bOff + j), yv, first, mode));
                } else {
                    y.set(at, NeoXKernels.epilogue(first, yv, 0, mode));
                }
            }
            ctx.localBarrier();
        }
    }

    /** Work items of a launch for {@code outputs} outputs (any token count). */
    public static long items(int outputs) {
        return (long) (outputs + OUTPUTS - 1) / OUTPUTS * GROUP;
    }
}
