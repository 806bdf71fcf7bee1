package org.blocktransformer.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.enums.MMAShape;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.HalfFloat;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;

/**
 * The Linear layers of many-token calls on NVIDIA tensor cores (TornadoVM's PTX backend lowers these
 * {@code KernelContext} calls to {@code ldmatrix} and warp-level {@code mma.sync.m16n8k16}: float16 operands,
 * float32 accumulation). The same product and epilogues as {@link NeoXKernels#matmul}, with float16 weights and
 * the activations rounded to float16 by a pass of their own ({@link #toHalves}).
 *
 * <p>A work-group of {@link #THREADS} items (four warps, 2 x 2) computes {@link #TILE_T} tokens x {@link #TILE_N}
 * outputs, each warp 64 x 64 in 32 accumulator fragments, over k in steps of {@link #TILE_K} staged in two
 * shared-memory buffers. The activations are the MMA's row-major A operand; the weights are the B operand, which
 * TornadoVM's {@code mmaLoadB} reads k-major ({@code ldmatrix .trans}): {@link #packWeights} stores them on the
 * host in that shared-memory layout, one contiguous 8 KiB block per (output tile, k step), so a step's weights are
 * a straight copy in 8-byte loads (TornadoVM's PTX backend splits wider vector loads into 4-byte ones).
 *
 * <p>Every shared-memory store and ldmatrix phase is bank-conflict-free (the weight and activation layouts, and a
 * swizzle of the activation tile), and each step's global loads are issued before the previous step's products,
 * held in registers, and stored after them. What bounds it now (a profile on an H200 at 4,096 x 8,192 x 2,048):
 * 254 registers a work item (the 128 accumulators, the fragments, the loads in flight), so two work-groups, eight
 * warps, share a multiprocessor, too few to hide the latency of the global loads and the ldmatrix results; the
 * tensor pipe is busy about a quarter of the time.
 *
 * <p>TornadoVM stores a fragment only whole, to a global array ({@code mmaStore}); so each warp stores its
 * fragments to {@code scratch} ({@code [tokens][np]}), and each work item reads back the cells it stored itself
 * (a thread's own writes are visible to it) to add the bias and run the epilogue ({@link NeoXKernels#epilogue}).
 *
 * <p>Shapes: the packed weights and activations are zero beyond n and k, and activation reads clamp their token
 * index into the live range (clamped tokens are never stored), so any n, k and token count is exact, with no
 * bounds checks in the loop.
 */
public final class MmaKernels {
    /** Outputs (weight rows) per work-group. */
    public static final int TILE_N = 128;
    /** Tokens per work-group. */
    public static final int TILE_T = 128;
    /** k per staged step: two m16n8k16 products. */
    public static final int TILE_K = 32;
    /** Work items per work-group: four warps. */
    public static final int THREADS = 128;
    private static final int WARP = 32;
    /** Ints in one buffer of either tile: 128 rows x 32 halves, two halves an int. */
    private static final int STAGE = TILE_N * TILE_K / 2;
    /** Ints of one 16-deep half of a buffer. */
    private static final int HALF_STAGE = STAGE / 2;
    /** Longs of one packed weight block (an output tile's k step). */
    private static final int BLOCK_LONGS = TILE_N * TILE_K / 4;

    private MmaKernels() {
    }

    /**
     * {@code y[t, j] = epilogue(x[t, :] . W[j, :] + bias[j])} for the live tokens t (see {@link NeoXKernels#matmul}
     * for the modes); {@code w} is the layer group's packed float16 weights ({@link #packWeights}) with
     * {@code kSteps} k steps per output tile, layer {@code layer[0]} when {@code layered} = 1; {@code scratch}
     * holds {@code stride} floats per token. The activations x are float16 in {@code xh} ({@link #toHalves}),
     * one 8-byte load per four values.
     */
    public static void linear(KernelContext ctx, LongArray xh, LongArray w, FloatArray bias,
                              FloatArray other, FloatArray y, FloatArray scratch, IntArray meta, IntArray layer, int n,
                              int k, int kSteps, int stride, int layered, int mode, int sliceSteps, int sliceRows) {
        int tid = ctx.localIdx;
        int warp = tid / WARP;
        int lane = tid % WARP;
        int wt = warp % 2;
        int wn = warp / 2;
        int nTile = ctx.groupIdx;
        int t0 = ctx.groupIdy * TILE_T;
        int tokens = meta.get(0);
        int[] aTile = ctx.allocateIntLocalArray(2 * STAGE);
        int[] bTile = ctx.allocateIntLocalArray(2 * STAGE);

        float[] c00 = ctx.mmaFragment(0.0f);
        float[] c01 = ctx.mmaFragment(0.0f);
        float[] c02 = ctx.mmaFragment(0.0f);
        float[] c03 = ctx.mmaFragment(0.0f);
        float[] c04 = ctx.mmaFragment(0.0f);
        float[] c05 = ctx.mmaFragment(0.0f);
        float[] c06 = ctx.mmaFragment(0.0f);
        float[] c07 = ctx.mmaFragment(0.0f);
        float[] c10 = ctx.mmaFragment(0.0f);
        float[] c11 = ctx.mmaFragment(0.0f);
        float[] c12 = ctx.mmaFragment(0.0f);
        float[] c13 = ctx.mmaFragment(0.0f);
        float[] c14 = ctx.mmaFragment(0.0f);
        float[] c15 = ctx.mmaFragment(0.0f);
        float[] c16 = ctx.mmaFragment(0.0f);
        float[] c17 = ctx.mmaFragment(0.0f);
        float[] c20 = ctx.mmaFragment(0.0f);
        float[] c21 = ctx.mmaFragment(0.0f);
        float[] c22 = ctx.mmaFragment(0.0f);
        float[] c23 = ctx.mmaFragment(0.0f);
        float[] c24 = ctx.mmaFragment(0.0f);
        float[] c25 = ctx.mmaFragment(0.0f);
        float[] c26 = ctx.mmaFragment(0.0f);
        float[] c27 = ctx.mmaFragment(0.0f);
        float[] c30 = ctx.mmaFragment(0.0f);
        float[] c31 = ctx.mmaFragment(0.0f);
        float[] c32 = ctx.mmaFragment(0.0f);
        float[] c33 = ctx.mmaFragment(0.0f);
        float[] c34 = ctx.mmaFragment(0.0f);
        float[] c35 = ctx.mmaFragment(0.0f);
        float[] c36 = ctx.mmaFragment(0.0f);
        float[] c37 = ctx.mmaFragment(0.0f);

        // A work-group past the live tokens (a grid sized for the most tokens) skips the product; its whole
        // work-group takes the same branch, so the barriers stay uniform.
        // Split-k (mode PARTIAL): slice groupIdz runs k steps [sFrom, sTo) and leaves its fragments in scratch
        // rows z * sliceRows + t for NeoXKernels.reduceSlices; one slice runs them all.
        int sFrom = ctx.groupIdz * sliceSteps;
        int sTo = TornadoMath.min(sFrom + sliceSteps, kSteps);
        int last = t0 < tokens ? sTo - 1 : sFrom - 2;
        int nTiles = (n + TILE_N - 1) / TILE_N;
        int wBase = (layer.get(0) * layered * nTiles + nTile) * kSteps * BLOCK_LONGS;
        int lastT = tokens - 1;
        int kWords = activationWords(k);
        boolean adds = mode == NeoXKernels.ADD || mode == NeoXKernels.ADD_PAIR;
        boolean pairs = mode == NeoXKernels.ADD_PAIR;
        // Each item's share of a step (see packWeights and packActivations for the layouts that make every
        // shared-memory store below conflict-free): weight longs tid + 128e, whose low and high ints land 32
        // apart; activations: word r of each k half of tokens hRow + 32f, whose low and high ints are the two 8-k
        // chunks of that half.
        int r = tid % 4;
        int hRow = tid / 4;
        int hRow0 = TornadoMath.min(t0 + hRow, lastT) * kWords;
        int hRow1 = TornadoMath.min(t0 + hRow + 32, lastT) * kWords;
        int hRow2 = TornadoMath.min(t0 + hRow + 64, lastT) * kWords;
        int hRow3 = TornadoMath.min(t0 + hRow + 96, lastT) * kWords;
        // The activation tile swaps the two 16-byte chunks of a token row in every other group of four rows, so
        // the eight rows an ldmatrix phase reads cover all 32 banks; aSwizzle moves this lane's ldmatrix address
        // (TornadoVM's mmaLoadA: lane l reads row l % 16, chunk l / 16) to where its chunk is.
        int aSwizzle = ((lane >> 2) & 1) * (16 - 32 * (lane >> 4));
        int hLow = ((hRow >> 2) & 1) * 4 + r;
        int hHigh = 4 - 8 * ((hRow >> 2) & 1);

        // The next step's operands, held in registers while this step's products run: an iteration stores what
        // the previous one loaded, then loads the next step and multiplies the stored one (so the loads' latency
        // hides under the products; one barrier a step: the buffer a step stores was last read two steps
        // before). The first iteration stores the zeros the registers start with, so its products add nothing (a
        // step of wasted products in k / 32, 3% at k = 1,024, for a loop with no copy of the loads before it).
        // (TornadoVM keeps array reads in program order, so they stay ahead of the products.)
        long w0 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0, w7 = 0;
        long h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0;
        for (int s = sFrom - 1; s <= last; s++) {
            int stage = (s & 1) * STAGE;
            int bAt = stage + warp * 64 + lane;
            int hAt = stage + hRow * 8 + hLow;
            bTile[bAt] = (int) w0;
            bTile[bAt + 32] = (int) (w0 >>> 32);
            bTile[bAt + 256] = (int) w1;
            bTile[bAt + 288] = (int) (w1 >>> 32);
            bTile[bAt + 512] = (int) w2;
            bTile[bAt + 544] = (int) (w2 >>> 32);
            bTile[bAt + 768] = (int) w3;
            bTile[bAt + 800] = (int) (w3 >>> 32);
            bTile[bAt + 1024] = (int) w4;
            bTile[bAt + 1056] = (int) (w4 >>> 32);
            bTile[bAt + 1280] = (int) w5;
            bTile[bAt + 1312] = (int) (w5 >>> 32);
            bTile[bAt + 1536] = (int) w6;
            bTile[bAt + 1568] = (int) (w6 >>> 32);
            bTile[bAt + 1792] = (int) w7;
            bTile[bAt + 1824] = (int) (w7 >>> 32);
            aTile[hAt] = (int) h0;
            aTile[hAt + hHigh] = (int) (h0 >>> 32);
            aTile[hAt + HALF_STAGE] = (int) h1;
            aTile[hAt + HALF_STAGE + hHigh] = (int) (h1 >>> 32);
            aTile[hAt + 256] = (int) h2;
            aTile[hAt + 256 + hHigh] = (int) (h2 >>> 32);
            aTile[hAt + HALF_STAGE + 256] = (int) h3;
            aTile[hAt + HALF_STAGE + 256 + hHigh] = (int) (h3 >>> 32);
            aTile[hAt + 512] = (int) h4;
            aTile[hAt + 512 + hHigh] = (int) (h4 >>> 32);
            aTile[hAt + HALF_STAGE + 512] = (int) h5;
            aTile[hAt + HALF_STAGE + 512 + hHigh] = (int) (h5 >>> 32);
            aTile[hAt + 768] = (int) h6;
            aTile[hAt + 768 + hHigh] = (int) (h6 >>> 32);
            aTile[hAt + HALF_STAGE + 768] = (int) h7;
            aTile[hAt + HALF_STAGE + 768 + hHigh] = (int) (h7 >>> 32);
            ctx.localBarrier();
            int next = TornadoMath.min(s + 1, sTo - 1);
            int block = wBase + next * BLOCK_LONGS;
            int word = next * 8 + r;
            w0 = w.get(block + tid);
            w1 = w.get(block + tid + 128);
            w2 = w.get(block + tid + 256);
            w3 = w.get(block + tid + 384);
            w4 = w.get(block + tid + 512);
            w5 = w.get(block + tid + 640);
            w6 = w.get(block + tid + 768);
            w7 = w.get(block + tid + 896);
            h0 = xh.get(hRow0 + word);
            h1 = xh.get(hRow0 + word + 4);
            h2 = xh.get(hRow1 + word);
            h3 = xh.get(hRow1 + word + 4);
            h4 = xh.get(hRow2 + word);
            h5 = xh.get(hRow2 + word + 4);
            h6 = xh.get(hRow3 + word);
            h7 = xh.get(hRow3 + word + 4);
            for (int kk = 0; kk < 2; kk++) {
                int aByte = (stage + kk * HALF_STAGE) * 4 + wt * 64 * 32 + aSwizzle;
                HalfFloat[] a0 = ctx.mmaLoadA(aTile, 16, aByte);
                HalfFloat[] a1 = ctx.mmaLoadA(aTile, 16, aByte + 512);
                HalfFloat[] a2 = ctx.mmaLoadA(aTile, 16, aByte + 1024);
                HalfFloat[] a3 = ctx.mmaLoadA(aTile, 16, aByte + 1536);
                int bByte = (stage + kk * HALF_STAGE) * 4 + wn * 8 * 256;
                HalfFloat[] b0 = ctx.mmaLoadB(bTile, 16, bByte);
                HalfFloat[] b1 = ctx.mmaLoadB(bTile, 16, bByte + 256);
                HalfFloat[] b2 = ctx.mmaLoadB(bTile, 16, bByte + 512);
                HalfFloat[] b3 = ctx.mmaLoadB(bTile, 16, bByte + 768);
                HalfFloat[] b4 = ctx.mmaLoadB(bTile, 16, bByte + 1024);
                HalfFloat[] b5 = ctx.mmaLoadB(bTile, 16, bByte + 1280);
                HalfFloat[] b6 = ctx.mmaLoadB(bTile, 16, bByte + 1536);
                HalfFloat[] b7 = ctx.mmaLoadB(bTile, 16, bByte + 1792);
                c00 = ctx.mma(a0, b0, c00, MMAShape.M16N8K16);
                c01 = ctx.mma(a0, b1, c01, MMAShape.M16N8K16);
                c02 = ctx.mma(a0, b2, c02, MMAShape.M16N8K16);
                c03 = ctx.mma(a0, b3, c03, MMAShape.M16N8K16);
                c04 = ctx.mma(a0, b4, c04, MMAShape.M16N8K16);
                c05 = ctx.mma(a0, b5, c05, MMAShape.M16N8K16);
                c06 = ctx.mma(a0, b6, c06, MMAShape.M16N8K16);
                c07 = ctx.mma(a0, b7, c07, MMAShape.M16N8K16);
                c10 = ctx.mma(a1, b0, c10, MMAShape.M16N8K16);
                c11 = ctx.mma(a1, b1, c11, MMAShape.M16N8K16);
                c12 = ctx.mma(a1, b2, c12, MMAShape.M16N8K16);
                c13 = ctx.mma(a1, b3, c13, MMAShape.M16N8K16);
                c14 = ctx.mma(a1, b4, c14, MMAShape.M16N8K16);
                c15 = ctx.mma(a1, b5, c15, MMAShape.M16N8K16);
                c16 = ctx.mma(a1, b6, c16, MMAShape.M16N8K16);
                c17 = ctx.mma(a1, b7, c17, MMAShape.M16N8K16);
                c20 = ctx.mma(a2, b0, c20, MMAShape.M16N8K16);
                c21 = ctx.mma(a2, b1, c21, MMAShape.M16N8K16);
                c22 = ctx.mma(a2, b2, c22, MMAShape.M16N8K16);
                c23 = ctx.mma(a2, b3, c23, MMAShape.M16N8K16);
                c24 = ctx.mma(a2, b4, c24, MMAShape.M16N8K16);
                c25 = ctx.mma(a2, b5, c25, MMAShape.M16N8K16);
                c26 = ctx.mma(a2, b6, c26, MMAShape.M16N8K16);
                c27 = ctx.mma(a2, b7, c27, MMAShape.M16N8K16);
                c30 = ctx.mma(a3, b0, c30, MMAShape.M16N8K16);
                c31 = ctx.mma(a3, b1, c31, MMAShape.M16N8K16);
                c32 = ctx.mma(a3, b2, c32, MMAShape.M16N8K16);
                c33 = ctx.mma(a3, b3, c33, MMAShape.M16N8K16);
                c34 = ctx.mma(a3, b4, c34, MMAShape.M16N8K16);
                c35 = ctx.mma(a3, b5, c35, MMAShape.M16N8K16);
                c36 = ctx.mma(a3, b6, c36, MMAShape.M16N8K16);
                c37 = ctx.mma(a3, b7, c37, MMAShape.M16N8K16);
            }
        }

        if (t0 < tokens) {
            // Fragment (i, j) covers tokens tw + 16i .. +15 and outputs nw + 8j .. +7; this item holds tokens
            // tw + 16i + g (and + 8), outputs nw + 8j + c2 (and + 1).
            int tw = t0 + wt * 64 + ctx.groupIdz * sliceRows;
            int nw = nTile * TILE_N + wn * 64;
            int g = lane / 4;
            int c2 = (lane % 4) * 2;
            int bOff = layer.get(0) * layered * n;
            ctx.mmaStore(c00, scratch, tw, nw, stride);
            ctx.mmaStore(c01, scratch, tw, nw + 8, stride);
            ctx.mmaStore(c02, scratch, tw, nw + 16, stride);
            ctx.mmaStore(c03, scratch, tw, nw + 24, stride);
            ctx.mmaStore(c04, scratch, tw, nw + 32, stride);
            ctx.mmaStore(c05, scratch, tw, nw + 40, stride);
            ctx.mmaStore(c06, scratch, tw, nw + 48, stride);
            ctx.mmaStore(c07, scratch, tw, nw + 56, stride);
            ctx.mmaStore(c10, scratch, tw + 16, nw, stride);
            ctx.mmaStore(c11, scratch, tw + 16, nw + 8, stride);
            ctx.mmaStore(c12, scratch, tw + 16, nw + 16, stride);
            ctx.mmaStore(c13, scratch, tw + 16, nw + 24, stride);
            ctx.mmaStore(c14, scratch, tw + 16, nw + 32, stride);
            ctx.mmaStore(c15, scratch, tw + 16, nw + 40, stride);
            ctx.mmaStore(c16, scratch, tw + 16, nw + 48, stride);
            ctx.mmaStore(c17, scratch, tw + 16, nw + 56, stride);
            ctx.mmaStore(c20, scratch, tw + 32, nw, stride);
            ctx.mmaStore(c21, scratch, tw + 32, nw + 8, stride);
            ctx.mmaStore(c22, scratch, tw + 32, nw + 16, stride);
            ctx.mmaStore(c23, scratch, tw + 32, nw + 24, stride);
            ctx.mmaStore(c24, scratch, tw + 32, nw + 32, stride);
            ctx.mmaStore(c25, scratch, tw + 32, nw + 40, stride);
            ctx.mmaStore(c26, scratch, tw + 32, nw + 48, stride);
            ctx.mmaStore(c27, scratch, tw + 32, nw + 56, stride);
            ctx.mmaStore(c30, scratch, tw + 48, nw, stride);
            ctx.mmaStore(c31, scratch, tw + 48, nw + 8, stride);
            ctx.mmaStore(c32, scratch, tw + 48, nw + 16, stride);
            ctx.mmaStore(c33, scratch, tw + 48, nw + 24, stride);
            ctx.mmaStore(c34, scratch, tw + 48, nw + 32, stride);
            ctx.mmaStore(c35, scratch, tw + 48, nw + 40, stride);
            ctx.mmaStore(c36, scratch, tw + 48, nw + 48, stride);
            ctx.mmaStore(c37, scratch, tw + 48, nw + 56, stride);
            // The epilogue reads back the 128 cells this item stored (8 token rows x 8 output pairs; a k slice
            // leaves them for the reduce) 16 at a time, each row's loads issued together: the compiler cannot move a
            // load above a store to another array (they might overlap), so cell-by-cell code waits for memory 128
            // times (a quarter of the kernel's time at 4,096 x 8,192 x 2,048).
            // Outputs and rows past n and the live tokens are read clamped and not stored.
            int o0 = nw + c2;
            int lastN = n - 1;
            float b0 = bias.get(bOff + TornadoMath.min(o0, lastN));
            float b1 = bias.get(bOff + TornadoMath.min(o0 + 1, lastN));
            float b2 = bias.get(bOff + TornadoMath.min(o0 + 8, lastN));
            float b3 = bias.get(bOff + TornadoMath.min(o0 + 9, lastN));
            float b4 = bias.get(bOff + TornadoMath.min(o0 + 16, lastN));
            float b5 = bias.get(bOff + TornadoMath.min(o0 + 17, lastN));
            float b6 = bias.get(bOff + TornadoMath.min(o0 + 24, lastN));
            float b7 = bias.get(bOff + TornadoMath.min(o0 + 25, lastN));
            float b8 = bias.get(bOff + TornadoMath.min(o0 + 32, lastN));
            float b9 = bias.get(bOff + TornadoMath.min(o0 + 33, lastN));
            float b10 = bias.get(bOff + TornadoMath.min(o0 + 40, lastN));
            float b11 = bias.get(bOff + TornadoMath.min(o0 + 41, lastN));
            float b12 = bias.get(bOff + TornadoMath.min(o0 + 48, lastN));
            float b13 = bias.get(bOff + TornadoMath.min(o0 + 49, lastN));
            float b14 = bias.get(bOff + TornadoMath.min(o0 + 56, lastN));
            float b15 = bias.get(bOff + TornadoMath.min(o0 + 57, lastN));
            int rows = mode == NeoXKernels.PARTIAL ? 0 : 8;
            for (int i = 0; i < rows; i++) {
                int t = tw + (i / 2) * 16 + (i % 2) * 8 + g;
                int at = t * stride + o0;
                int yt = TornadoMath.min(t, lastT) * n;
                float s0 = scratch.get(at);
                float s1 = scratch.get(at + 1);
                float s2 = scratch.get(at + 8);
                float s3 = scratch.get(at + 9);
                float s4 = scratch.get(at + 16);
                float s5 = scratch.get(at + 17);
                float s6 = scratch.get(at + 24);
                float s7 = scratch.get(at + 25);
                float s8 = scratch.get(at + 32);
                float s9 = scratch.get(at + 33);
                float s10 = scratch.get(at + 40);
                float s11 = scratch.get(at + 41);
                float s12 = scratch.get(at + 48);
                float s13 = scratch.get(at + 49);
                float s14 = scratch.get(at + 56);
                float s15 = scratch.get(at + 57);
                float y0 = adds ? y.get(yt + TornadoMath.min(o0, lastN)) : 0;
                float y1 = adds ? y.get(yt + TornadoMath.min(o0 + 1, lastN)) : 0;
                float y2 = adds ? y.get(yt + TornadoMath.min(o0 + 8, lastN)) : 0;
                float y3 = adds ? y.get(yt + TornadoMath.min(o0 + 9, lastN)) : 0;
                float y4 = adds ? y.get(yt + TornadoMath.min(o0 + 16, lastN)) : 0;
                float y5 = adds ? y.get(yt + TornadoMath.min(o0 + 17, lastN)) : 0;
                float y6 = adds ? y.get(yt + TornadoMath.min(o0 + 24, lastN)) : 0;
                float y7 = adds ? y.get(yt + TornadoMath.min(o0 + 25, lastN)) : 0;
                float y8 = adds ? y.get(yt + TornadoMath.min(o0 + 32, lastN)) : 0;
                float y9 = adds ? y.get(yt + TornadoMath.min(o0 + 33, lastN)) : 0;
                float y10 = adds ? y.get(yt + TornadoMath.min(o0 + 40, lastN)) : 0;
                float y11 = adds ? y.get(yt + TornadoMath.min(o0 + 41, lastN)) : 0;
                float y12 = adds ? y.get(yt + TornadoMath.min(o0 + 48, lastN)) : 0;
                float y13 = adds ? y.get(yt + TornadoMath.min(o0 + 49, lastN)) : 0;
                float y14 = adds ? y.get(yt + TornadoMath.min(o0 + 56, lastN)) : 0;
                float y15 = adds ? y.get(yt + TornadoMath.min(o0 + 57, lastN)) : 0;
                float p0 = pairs ? other.get(yt + TornadoMath.min(o0, lastN)) : 0;
                float p1 = pairs ? other.get(yt + TornadoMath.min(o0 + 1, lastN)) : 0;
                float p2 = pairs ? other.get(yt + TornadoMath.min(o0 + 8, lastN)) : 0;
                float p3 = pairs ? other.get(yt + TornadoMath.min(o0 + 9, lastN)) : 0;
                float p4 = pairs ? other.get(yt + TornadoMath.min(o0 + 16, lastN)) : 0;
                float p5 = pairs ? other.get(yt + TornadoMath.min(o0 + 17, lastN)) : 0;
                float p6 = pairs ? other.get(yt + TornadoMath.min(o0 + 24, lastN)) : 0;
                float p7 = pairs ? other.get(yt + TornadoMath.min(o0 + 25, lastN)) : 0;
                float p8 = pairs ? other.get(yt + TornadoMath.min(o0 + 32, lastN)) : 0;
                float p9 = pairs ? other.get(yt + TornadoMath.min(o0 + 33, lastN)) : 0;
                float p10 = pairs ? other.get(yt + TornadoMath.min(o0 + 40, lastN)) : 0;
                float p11 = pairs ? other.get(yt + TornadoMath.min(o0 + 41, lastN)) : 0;
                float p12 = pairs ? other.get(yt + TornadoMath.min(o0 + 48, lastN)) : 0;
                float p13 = pairs ? other.get(yt + TornadoMath.min(o0 + 49, lastN)) : 0;
                float p14 = pairs ? other.get(yt + TornadoMath.min(o0 + 56, lastN)) : 0;
                float p15 = pairs ? other.get(yt + TornadoMath.min(o0 + 57, lastN)) : 0;
                if (t < tokens) {
                    put(y, yt, o0, n, NeoXKernels.epilogue(s0 + b0, y0, p0, mode));
                    put(y, yt, o0 + 1, n, NeoXKernels.epilogue(s1 + b1, y1, p1, mode));
                    put(y, yt, o0 + 8, n, NeoXKernels.epilogue(s2 + b2, y2, p2, mode));
                    put(y, yt, o0 + 9, n, NeoXKernels.epilogue(s3 + b3, y3, p3, mode));
                    put(y, yt, o0 + 16, n, NeoXKernels.epilogue(s4 + b4, y4, p4, mode));
                    put(y, yt, o0 + 17, n, NeoXKernels.epilogue(s5 + b5, y5, p5, mode));
                    put(y, yt, o0 + 24, n, NeoXKernels.epilogue(s6 + b6, y6, p6, mode));
                    put(y, yt, o0 + 25, n, NeoXKernels.epilogue(s7 + b7, y7, p7, mode));
                    put(y, yt, o0 + 32, n, NeoXKernels.epilogue(s8 + b8, y8, p8, mode));
                    put(y, yt, o0 + 33, n, NeoXKernels.epilogue(s9 + b9, y9, p9, mode));
                    put(y, yt, o0 + 40, n, NeoXKernels.epilogue(s10 + b10, y10, p10, mode));
                    put(y, yt, o0 + 41, n, NeoXKernels.epilogue(s11 + b11, y11, p11, mode));
                    put(y, yt, o0 + 48, n, NeoXKernels.epilogue(s12 + b12, y12, p12, mode));
                    put(y, yt, o0 + 49, n, NeoXKernels.epilogue(s13 + b13, y13, p13, mode));
                    put(y, yt, o0 + 56, n, NeoXKernels.epilogue(s14 + b14, y14, p14, mode));
                    put(y, yt, o0 + 57, n, NeoXKernels.epilogue(s15 + b15, y15, p15, mode));
                }
            }
        }
    }

    /**
     * The packed weights {@link #linear} reads, from float16 bits of matrices {@code [n][k]} (row-major, stacked
     * layer by layer): for each layer, output tile and k step, a block whose shared-memory image is {@code [16-deep
     * k half][8-output group][16 k][8 outputs]} halves (zero beyond n and k), two halves an int; long i of a block
     * holds ints {@code 64 (i / 32) + i % 32} (low) and that + 32 (high), so the 32 items of a warp, loading 32
     * consecutive longs, store 32 consecutive ints twice.
     */
    public static long[] packWeights(short[][] matrices, int n, int k) {
        int nTiles = (n + TILE_N - 1) / TILE_N;
        int kSteps = (k + TILE_K - 1) / TILE_K;
        long[] out = new long[matrices.length * nTiles * kSteps * BLOCK_LONGS];
        for (int m = 0; m < matrices.length; m++) {
            short[] h = matrices[m];
            for (int j = 0; j < n; j++) {
                int nt = j / TILE_N;
                int group = (j % TILE_N) / 8;
                int col = j % 8;
                for (int c = 0; c < k; c++) {
                    int ks = c / TILE_K;
                    int half = (c % TILE_K) / 16;
                    int kr = c % 16;
                    int at = half * 2048 + group * 128 + kr * 8 + col;
                    int slot = at / 2;
                    int inBlock = slot / 64 * 32 + slot % 32;
                    int shift = 16 * (2 * (slot % 64 / 32) + at % 2);
                    long block = ((long) m * nTiles + nt) * kSteps + ks;
                    out[(int) (block * BLOCK_LONGS + inBlock)] |= (long) (h[j * k + c] & 0xFFFF) << shift;
                }
            }
        }
        return out;
    }

    /**
     * Words of float16 activations per token row for {@link #linear}'s {@code xh}: four halves a word, the row
     * padded to whole k steps (so the product reads its last step without bounds checks).
     */
    public static int activationWords(int k) {
        return (k + TILE_K - 1) / TILE_K * TILE_K / 4;
    }

    /**
     * Activations {@code [tokens][k]} as {@link #linear} reads them ({@link #toHalves} on the device): each row's
     * float16 bits (zero beyond k, {@link #activationWords} words) in groups of 16 k, four words a group; word r of a
     * group holds k {@code 2r, 2r + 1} (its low int) and {@code 8 + 2r, 9 + 2r} (its high int), the same pair of each
     * 8-k chunk, lowest half first.
     */
    public static long[] packActivations(float[] x, int tokens, int k) {
        int kw = activationWords(k);
        long[] out = new long[tokens * kw];
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < k; c++) {
                int j = c % 16;
                int word = c / 16 * 4 + (j % 8) / 2;
                int shift = 16 * (2 * (j / 8) + j % 2);
                long bits = Float.floatToFloat16(x[t * k + c]) & 0xFFFFL;
                out[t * kw + word] |= bits << shift;
            }
        }
        return out;
    }

    /**
     * The float16 activations {@link #linear} reads ({@link #packActivations}'s layout), one
     * word per work item, for the live tokens of {@code x} ({@code [tokens][k]}): a pass of 6 bytes per value that
     * saves the product a float32 load and a rounding of each value for every 128 outputs (measured on an H200:
     * the product alone 20-35% faster at 256-4,096 tokens than rounding as it stages).
     */
    public static void toHalves(KernelContext ctx, FloatArray x, LongArray xh, IntArray meta, int k) {
        int i = ctx.globalIdx;
        int words = activationWords(k);
        int t = i / words;
        if (t < meta.get(0)) {
            int word = i % words;
            int c = word / 4 * 16 + word % 4 * 2;
            int row = t * k;
            int last = k - 1;
            long h0 = new HalfFloat(x.get(row + TornadoMath.min(c, last))).getHalfFloatValue() & 0xFFFFL;
            long h1 = new HalfFloat(x.get(row + TornadoMath.min(c + 1, last))).getHalfFloatValue() & 0xFFFFL;
            long h2 = new HalfFloat(x.get(row + TornadoMath.min(c + 8, last))).getHalfFloatValue() & 0xFFFFL;
            long h3 = new HalfFloat(x.get(row + TornadoMath.min(c + 9, last))).getHalfFloatValue() & 0xFFFFL;
            // Past k the weights are zero, but a value must not be Inf or NaN there: zero it.
            xh.set(i, (c < k ? h0 : 0) | (c + 1 < k ? h1 : 0) << 16 | (c + 8 < k ? h2 : 0) << 32
                    | (c + 9 < k ? h3 : 0) << 48);
        }
    }

    /** Stores output column o of the row that starts at {@code yt}, if the column exists. */
    private static void put(FloatArray y, int yt, int o, int n, float v) {
        if (o < n) {
            y.set(yt + o, v);
        }
    }

    /** k steps of a packed matrix with {@code k} columns. */
    public static int kSteps(int k) {
        return (k + TILE_K - 1) / TILE_K;
    }

    public static int roundUp(int v, int multiple) {
        return (v + multiple - 1) / multiple * multiple;
    }
}
