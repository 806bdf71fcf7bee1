package org.blocktransformer.tornado;

import org.blocktransformer.tornado.kernels.MmaKernels;
import org.blocktransformer.tornado.kernels.NeoXKernels;

/**
 * How a many-token product is split along k (split-k): narrow layers (the attention output and MLP down
 * projections, 1,024 or 2,048 outputs) make too few output tiles to fill a large GPU at decode-sized batches (on the
 * H100, vanilla-410m's down projection ran 64 work-groups of 64 x 64 on 132 multiprocessors and took 3.7x the time
 * of the up projection with the same arithmetic). Each slice's work-groups then sum one range of k into a buffer of
 * partial sums, and {@link NeoXKernels#reduceSlices} adds the slices and runs the epilogue: one more launch and
 * {@code slices x tokens x n} floats of traffic, against a grid the device can fill.
 *
 * <p>The split is fixed per layer (kernels and recorded launches are sized once), chosen for 256 tokens, a large
 * decode batch: enough slices that the tiles x slices reach about 256 work-groups for the tiled kernel (about 132
 * for the tensor-core one, whose work-groups are four times larger), at most 8, and each slice at least 256 of k
 * (8 of the tensor-core kernel's k steps).
 *
 * @param slices    slices of k (1: not split)
 * @param sliceLen  k per slice: tiled kernel, a multiple of its 16-deep k step; tensor-core kernel, in k steps of 32
 */
record KSplit(int slices, int sliceLen) {
    /** Tokens the split is sized for. */
    static final int TOKENS = 256;

    static KSplit none(int k) {
        return new KSplit(1, k);
    }

    /** The split of an {@code n x k} product for {@link NeoXKernels#matmul}. */
    static KSplit tiled(int n, int k) {
        long groups = (long) ceil(n, NeoXKernels.BLOCK) * ceil(TOKENS, NeoXKernels.BLOCK);
        int slices = (int) Math.max(1, Math.min(Math.min(8, ceil(256, groups)), k / 256));
        if (slices == 1) {
            return none(k);
        }
        int len = ceil(ceil(k, slices), NeoXKernels.TILE) * NeoXKernels.TILE;
        return new KSplit(ceil(k, len), len);
    }

    /** The split of an {@code n x k} product for {@link MmaKernels#linear}, {@link #sliceLen} in k steps. */
    static KSplit tensor(int n, int k) {
        int steps = MmaKernels.kSteps(k);
        long groups = (long) ceil(n, MmaKernels.TILE_N) * ceil(TOKENS, MmaKernels.TILE_T);
        int slices = (int) Math.max(1, Math.min(Math.min(8, ceil(132, groups)), steps / 8));
        if (slices == 1 || groups >= 66) {
            return new KSplit(1, steps);
        }
        int len = ceil(steps, slices);
        return new KSplit(ceil(steps, len), len);
    }

    boolean split() {
        return slices > 1;
    }

    private static int ceil(long a, long b) {
        return (int) ((a + b - 1) / b);
    }
}
