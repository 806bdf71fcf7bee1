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
 * the activations rounded to float16 as they are staged.
 *
 * <p>A work-group of {@link #THREADS} items (four warps, 2 x 2) computes {@link #TILE_T} tokens x {@link #TILE_N}
 * outputs, each warp 64 x 64 in 32 accumulator fragments, over k in steps of {@link #TILE_K} staged in two
 * shared-memory buffers (one barrier per step: the buffer a step writes was last read two steps before). The
 * activations are the MMA's row-major A operand, converted pairwise as they are copied. The weights are the B
 * operand, which TornadoVM's {@code mmaLoadB} reads k-major ({@code ldmatrix .trans}): {@link #packWeights}
 * stores them on the host already in that shared-memory layout, one contiguous 8 KiB block per (output tile, k
 * step), so a step's weights are a straight copy in 8-byte loads (TornadoVM's PTX backend splits wider vector loads
 * into 4-byte ones).
 *
 * <p>TornadoVM stores a fragment only whole, to a global array ({@code mmaStore}); so each warp stores its
 * fragments to {@code scratch} ({@code [tokens][np]}), and each work item reads back the cells it stored itself
 * (a thread's own writes are visible to it) to add the bias and run the epilogue ({@link NeoXKernels#finish}).
 *
 * <p>Shapes: the packed weights are zero beyond n and k; activation reads clamp their token and k indices into the
 * live range (finite values times zero weights; clamped tokens are never stored), so any n, k and token count is
 * exact, with no bounds checks on the weights.
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
     * holds {@code stride} floats per token. With {@code xHalf} = 1 the activations are read from {@code xh},
     * already float16 ({@link #packActivations}'s layout), one 8-byte load per four values and no conversion
     * in the loop (each value is staged once per output tile); else from {@code x}, rounded as they are staged.
     */
    public static void linear(KernelContext ctx, FloatArray x, LongArray xh, int xHalf, LongArray w, FloatArray bias,
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
        int steps = t0 < tokens ? sTo : sFrom;
        int nTiles = (n + TILE_N - 1) / TILE_N;
        int wBase = (layer.get(0) * layered * nTiles + nTile) * kSteps * BLOCK_LONGS;
        int lastT = tokens - 1;
        int lastK = k - 1;
        // This item's share of the activations: pairs p of k (16 a row) of tokens tRow + 8e, two rows per warp
        // load (coalesced along k).
        int p = tid % 16;
        int tRow = tid / 16;
        // With float16 input: words q of k (8 a step) of tokens hRow + 16e, one 8-byte load each.
        int q = tid % 8;
        int hRow = tid / 8;
        int kWords = halfWords(k);
        for (int s = sFrom; s < steps; s++) {
            int stage = (s % 2) * STAGE;
            int kBase = s * TILE_K;
            // Weights: the step's packed block, a straight copy.
            int block = wBase + s * BLOCK_LONGS;
            for (int e = 0; e < 8; e++) {
                int i = tid + e * THREADS;
                long v = w.get(block + i);
                bTile[stage + 2 * i] = (int) v;
                bTile[stage + 2 * i + 1] = (int) (v >>> 32);
            }
            // Activations: 128 tokens x 32 k into [k half][token][16 k], two halves an int.
            if (xHalf == 1) {
                // Already float16, four to a word: word q of the step (k 4q .. 4q + 3) of tokens hRow + 16e.
                int wq = TornadoMath.min(kBase / 4 + q, kWords - 1);
                int hAt = stage + (q / 4) * HALF_STAGE + hRow * 8 + (2 * q) % 8;
                for (int e = 0; e < 8; e++) {
                    long v = xh.get(TornadoMath.min(t0 + hRow + 16 * e, lastT) * kWords + wq);
                    aTile[hAt + 128 * e] = (int) v;
                    aTile[hAt + 128 * e + 1] = (int) (v >>> 32);
                }
            } else {
                // Rounded to float16 in pairs as they are copied.
                int kc0 = TornadoMath.min(kBase + 2 * p, lastK);
                int kc1 = TornadoMath.min(kBase + 2 * p + 1, lastK);
                int at = stage + (p / 8) * HALF_STAGE + tRow * 8 + p % 8;
                for (int e = 0; e < 16; e++) {
                    int row = TornadoMath.min(t0 + tRow + 8 * e, lastT) * k;
                    int lo = new HalfFloat(x.get(row + kc0)).getHalfFloatValue() & 0xFFFF;
                    int hi = new HalfFloat(x.get(row + kc1)).getHalfFloatValue() & 0xFFFF;
                    aTile[at + 64 * e] = lo | (hi << 16);
                }
            }
            ctx.localBarrier();
            for (int kk = 0; kk < 2; kk++) {
                int aByte = (stage + kk * HALF_STAGE) * 4 + wt * 64 * 32;
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
            // The 128 cells this item stored: 8 token rows x 8 output pairs (a k slice leaves them for the reduce).
            int cells = mode == NeoXKernels.PARTIAL ? 0 : 8;
            for (int i = 0; i < cells; i++) {
                int t = tw + (i / 2) * 16 + (i % 2) * 8 + g;
                for (int j = 0; j < 8; j++) {
                    int o = nw + j * 8 + c2;
                    NeoXKernels.finish(y, bias, other, bOff, n, tokens, t, o, scratch.get(t * stride + o), mode, 0);
                    NeoXKernels.finish(y, bias, other, bOff, n, tokens, t, o + 1, scratch.get(t * stride + o + 1),
                            mode, 0);
                }
            }
        }
    }

    /**
     * The packed weights {@link #linear} reads, from float16 bits of matrices {@code [n][k]} (row-major, stacked
     * layer by layer): for each layer, output tile and k step, a block of {@code [16-deep k half][8-output
     * group][16 k][8 outputs]} halves (zero beyond n and k), four halves a long, the lowest first.
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
                    long at = (((long) m * nTiles + nt) * kSteps + ks) * (BLOCK_LONGS * 4L)
                            + half * 2048 + group * 128 + kr * 8 + col;
                    out[(int) (at / 4)] |= (long) (h[j * k + c] & 0xFFFF) << (16 * (at % 4));
                }
            }
        }
        return out;
    }

    /** Words of float16 activations per token row for {@link #linear}'s {@code xh}: four halves a word, zero-padded. */
    public static int halfWords(int k) {
        return (k + 3) / 4;
    }

    /**
     * Activations {@code [tokens][k]} as {@link #linear} reads them with {@code xHalf} = 1: each row's float16 bits
     * four to a word (the lowest first), zero beyond k.
     */
    public static long[] packActivations(float[] x, int tokens, int k) {
        int kw = halfWords(k);
        long[] out = new long[tokens * kw];
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < k; c++) {
                long bits = Float.floatToFloat16(x[t * k + c]) & 0xFFFFL;
                out[t * kw + c / 4] |= bits << (16 * (c % 4));
            }
        }
        return out;
    }

    /** k steps of a packed matrix with {@code k} columns. */
    public static int kSteps(int k) {
        return (k + TILE_K - 1) / TILE_K;
    }

    public static int roundUp(int v, int multiple) {
        return (v + multiple - 1) / multiple * multiple;
    }
}
