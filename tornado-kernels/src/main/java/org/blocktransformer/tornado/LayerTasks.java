package org.blocktransformer.tornado;

import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.tornado.kernels.AttentionKernels;
import org.blocktransformer.tornado.kernels.MmaKernels;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import org.blocktransformer.tornado.kernels.PackedDecodeKernels;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;

/**
 * Adds the tasks of GPT-NeoX layers to a task graph, in one of two kernel families; a stack call runs the graphs
 * of the family that suits its token count. Within a layer the launches are fused as far as the data allows
 * (both LayerNorms in one, GELU and residuals in the matmuls' epilogues): TornadoVM waits for the device at every
 * launch, so on a GPU a decode step costs about as much per launch as in arithmetic.
 */
final class LayerTasks {
    /** Calls of at most this many tokens use {@link Family#FEW}. */
    static final int FEW_TOKENS = 16;

    /** The kernel families. */
    enum Family {
        /**
         * Decode-sized calls: {@link NeoXKernels#linear} reads each weight once, coalesced, with many work-groups
         * even for one token; where the layer's float16 weights are packed for the tensor cores, {@link
         * PackedDecodeKernels#linear} reads those instead. A parallel-residual layer is six launches.
         */
        FEW("g"),
        /**
         * Prefill and large batches: {@link NeoXKernels#matmul}'s register tiles do 16 multiply-adds per load
         * where {@link NeoXKernels#linear} does about one; seven launches.
         */
        MANY("p"),
        /**
         * Prefill and large batches on NVIDIA tensor cores ({@link MmaKernels#linear}: float16 weights, the
         * activations rounded to float16 by a pass before each product); the layout of {@link #MANY}. PTX devices
         * only.
         */
        TENSOR("t");

        final String prefix;

        Family(String prefix) {
            this.prefix = prefix;
        }

        /** The family for a call of {@code tokens}: few tokens, else {@code many} (MANY or TENSOR). */
        static Family of(int tokens, Family many) {
            return tokens <= FEW_TOKENS ? FEW : many;
        }
    }

    /** The arrays every layer of a call reads: the residual stream, the call's tokens, the rotary tables. */
    record CallArrays(FloatArray x, IntArray meta, IntArray tokenPos, IntArray tokenSlot, IntArray tokenRow,
                      IntArray rowStart, IntArray pages, FloatArray cos, FloatArray sin, FloatArray bf16Scale) {
    }

    /**
     * One graph's intermediates. Each has its own buffer: TornadoVM orders tasks by what they read and write, and
     * a buffer reused by two unrelated tasks (a write-after-read) would be a race.
     */
    private record Scratch(FloatArray normed, FloatArray normed2, FloatArray qkv, FloatArray qrot, FloatArray att,
                           FloatArray attOut, FloatArray hidden, FloatArray unused, Products attention, Products mlp,
                           FloatArray chunks) {
        Scratch(int maxTokens, int d, int inter, Products attention, Products mlp, long chunkFloats) {
            this(new FloatArray(maxTokens * d), new FloatArray(maxTokens * d), new FloatArray(maxTokens * 3 * d),
                    new FloatArray(maxTokens * d), new FloatArray(maxTokens * d), new FloatArray(maxTokens * d),
                    new FloatArray(maxTokens * inter), new FloatArray(1), attention, mlp, floats(chunkFloats));
        }

        Object[] all() {
            return new Object[] {normed, normed2, qkv, qrot, att, attOut, hidden, unused, attention.partials(),
                    attention.halves(), mlp.partials(), mlp.halves(), chunks};
        }
    }

    /**
     * The buffers of one residual path's Linear layers (the attention path's QKV and output projection, or the
     * MLP's), whose tasks are unrelated to the other path's: the partial products (the tensor-core kernel's
     * fragments, or a split-k product's slices, {@link KSplit}) and the tensor-core kernel's float16 inputs;
     * one-element placeholders where one is not needed.
     */
    private record Products(FloatArray partials, LongArray halves) {
        Products(long partialFloats, long halfWords) {
            this(floats(partialFloats), new LongArray(DeviceArrays.checkedSize(Math.max(1, halfWords))));
        }
    }

    private static FloatArray floats(long n) {
        return new FloatArray(DeviceArrays.checkedSize(Math.max(1, n)));
    }

    private final NeoXConfig config;
    private final KernelContext ctx;
    private final CallArrays c;
    private final Grids grids;
    private final int maxTokens;
    private final int pageSize;
    private final int slots;
    /** The longest context a row of the pool reaches: the stack's positions, or a local slot's. */
    private final int rowPositions;

    LayerTasks(NeoXConfig config, KernelContext ctx, CallArrays c, Grids grids, int maxTokens, int pageSize, int slots,
               int rowPositions) {
        this.rowPositions = Math.min(config.maxPositions(), rowPositions);
        this.config = config;
        this.ctx = ctx;
        this.c = c;
        this.grids = grids;
        this.maxTokens = maxTokens;
        this.pageSize = pageSize;
        this.slots = slots;
    }

    /** Adds every layer of {@code g} to {@code tg} (named {@code graph}) with the kernels of {@code family}. */
    void addLayers(TaskGraph tg, String graph, Family family, LayerGroup g) {
        int d = config.hiddenSize();
        int inter = config.intermediateSize();
        boolean tensor = family == Family.TENSOR;
        Products attention = new Products(Math.max(partialFloats(family, 3 * d, d), partialFloats(family, d, d)),
                tensor ? (long) maxTokens * MmaKernels.activationWords(d) : 0);
        Products mlp = new Products(Math.max(partialFloats(family, inter, d), partialFloats(family, d, inter)),
                tensor ? (long) maxTokens * MmaKernels.activationWords(Math.max(d, inter)) : 0);
        Scratch s = new Scratch(maxTokens, d, inter, attention, mlp,
                chunked() ? (long) maxTokens * config.numHeads() * chunks() * (config.headSize() + 2) : 0);
        for (int l = 0; l < g.layers(); l++) {
            addLayer(tg, graph, "_" + l, family, g, g.layerOf()[l], s);
        }
        DeviceArrays.freedWithPlan(tg, s.all());
    }

    private void addLayer(TaskGraph tg, String graph, String t, Family family, LayerGroup g, IntArray li, Scratch s) {
        int d = config.hiddenSize();
        int inter = config.intermediateSize();
        int heads = config.numHeads();
        int hd = config.headSize();
        float eps = (float) config.layerNormEps();
        boolean parallel = config.parallelResidual();
        if (parallel) {
            tg.task("ln" + t, NeoXKernels::layerNorm, ctx, c.x(), g.ln1w(), g.ln1b(), s.normed(), g.ln2w(), g.ln2b(),
                    s.normed2(), c.meta(), li, d, eps, 1, 1);
        } else {
            tg.task("ln" + t, NeoXKernels::layerNorm, ctx, c.x(), g.ln1w(), g.ln1b(), s.normed(), g.ln1w(), g.ln1b(),
                    s.unused(), c.meta(), li, d, eps, 1, 0);
        }
        grids.perToken(graph + ".ln" + t, NeoXKernels.ROW_GROUP, NeoXKernels.ROW_GROUP);
        linear(tg, graph, "qkv" + t, family, s.normed(), g.qkvW(), g.qkvB(), s.unused(), s.qkv(), s.attention(), li,
                3 * d, d, NeoXKernels.PLAIN);
        tg.task("rope" + t, NeoXKernels::rotaryStore, ctx, s.qkv(), s.qrot(), g.keys(), g.values(), g.keysPacked(),
                        g.valuesPacked(), c.bf16Scale(), c.cos(), c.sin(), c.meta(), li, c.tokenPos(), c.tokenSlot(),
                heads, hd, config.rotaryDims(), slots, g.kvFormat());
        grids.perToken(graph + ".rope" + t, Grids.ELEMENTWISE, d);
        if (chunked()) {
            tg.task("attn" + t, AttentionKernels::attentionChunks, ctx, s.qrot(), g.keys(), g.values(), g.keysPacked(),
                            g.valuesPacked(), c.bf16Scale(), s.chunks(), c.meta(), li, c.tokenPos(), c.tokenRow(),
                            c.rowStart(), c.pages(), heads, hd, pageSize, slots, chunks(), g.kvFormat())
                    .task("comb" + t, AttentionKernels::combineChunks, ctx, s.chunks(), s.att(), c.meta(),
                            c.tokenPos(), heads, hd, chunks());
            grids.perToken(graph + ".attn" + t, NeoXKernels.GROUP, (long) heads * chunks() * NeoXKernels.GROUP);
            grids.perToken(graph + ".comb" + t, NeoXKernels.GROUP, (long) heads * NeoXKernels.GROUP);
        } else {
            tg.task("attn" + t, NeoXKernels::attention, ctx, s.qrot(), g.keys(), g.values(), g.keysPacked(),
                    g.valuesPacked(), c.bf16Scale(), s.att(), c.meta(), li, c.tokenPos(), c.tokenRow(), c.rowStart(),
                    c.pages(), heads, hd, pageSize, slots, (float) (1.0 / Math.sqrt(hd)), g.kvFormat());
            grids.perToken(graph + ".attn" + t, NeoXKernels.GROUP, (long) heads * NeoXKernels.GROUP);
        }
        if (parallel) {
            // x = (mlp + attention) + x, the MLP reading the second LayerNorm of the same x.
            linear(tg, graph, "up" + t, family, s.normed2(), g.upW(), g.upB(), s.unused(), s.hidden(), s.mlp(),
                    li, inter, d, NeoXKernels.GELU);
            if (family == Family.FEW) {
                fewTokens(tg, grids, ctx, graph, "out" + t, s.att(), g.outW(), g.outB(), s.hidden(), g.downW(),
                        g.downB(), c.x(), c.bf16Scale(), c.meta(), li, d, d, inter, 1, NeoXKernels.ADD_PAIR);
            } else {
                linear(tg, graph, "dense" + t, family, s.att(), g.outW(), g.outB(), s.unused(), s.attOut(),
                        s.attention(), li, d, d, NeoXKernels.PLAIN);
                linear(tg, graph, "down" + t, family, s.hidden(), g.downW(), g.downB(), s.attOut(), c.x(),
                        s.mlp(), li, d, inter, NeoXKernels.ADD_PAIR);
            }
        } else {
            linear(tg, graph, "dense" + t, family, s.att(), g.outW(), g.outB(), s.unused(), c.x(), s.attention(), li,
                    d, d, NeoXKernels.ADD);
            tg.task("ln2" + t, NeoXKernels::layerNorm, ctx, c.x(), g.ln2w(), g.ln2b(), s.normed2(), g.ln2w(), g.ln2b(),
                    s.unused(), c.meta(), li, d, eps, 1, 0);
            grids.perToken(graph + ".ln2" + t, NeoXKernels.ROW_GROUP, NeoXKernels.ROW_GROUP);
            linear(tg, graph, "up" + t, family, s.normed2(), g.upW(), g.upB(), s.unused(), s.hidden(),
                    s.mlp(), li, inter, d, NeoXKernels.GELU);
            linear(tg, graph, "down" + t, family, s.hidden(), g.downW(), g.downB(), s.unused(), c.x(),
                    s.mlp(), li, d, inter, NeoXKernels.ADD);
        }
    }

    /**
     * {@code y = epilogue(x . W^T + b)} of one layer with the family's kernel ({@code other}: the finished second
     * product of {@link NeoXKernels#ADD_PAIR} in the many-token families; {@code p}: the path's partial products and
     * float16 inputs). Arguments a kernel does not use repeat read-only ones, or name {@code unused}: TornadoVM
     * waits forever on a task that names an array it writes twice. The few-token family's ADD_PAIR is one fused
     * task of two products (above).
     */
    private void linear(TaskGraph tg, String graph, String task, Family family, FloatArray x, DeviceMatrix w,
                        FloatArray b, FloatArray other, FloatArray y, Products p, IntArray li, int n, int k,
                        int mode) {
        switch (family) {
            case FEW -> fewTokens(tg, grids, ctx, graph, task, x, w, b, x, w, b, y, c.bf16Scale(), c.meta(), li, n, k,
                    0, 1, mode);
            case MANY -> {
                KSplit split = KSplit.tiled(n, k);
                if (split.split()) {
                    tg.task(task, NeoXKernels::matmul, ctx, x, w.f32(), w.half(), b, other, p.partials(),
                                    c.bf16Scale(), c.meta(), li, n, k, 1, NeoXKernels.PARTIAL, w.format(),
                                    split.sliceLen(), maxTokens * n)
                            .task(task + "r", NeoXKernels::reduceSlices, ctx, p.partials(), b, other, y, c.meta(), li,
                                    n, split.slices(), n, maxTokens * n, 1, mode);
                    grids.perToken(graph + "." + task + "r", Grids.ELEMENTWISE, n);
                } else {
                    tg.task(task, NeoXKernels::matmul, ctx, x, w.f32(), w.half(), b, other, y, c.bf16Scale(),
                            c.meta(), li, n, k, 1, mode, w.format(), k, 0);
                }
                grids.tiles(graph + "." + task, n, split.slices());
            }
            case TENSOR -> {
                KSplit split = KSplit.tensor(n, k);
                int np = MmaKernels.roundUp(n, MmaKernels.TILE_N);
                int rows = MmaKernels.roundUp(maxTokens, MmaKernels.TILE_T);
                // The activations rounded to float16 in a pass of their own, which the product then reads whole.
                tg.task(task + "h", MmaKernels::toHalves, ctx, x, p.halves(), c.meta(), k)
                        .task(task, MmaKernels::linear, ctx, p.halves(), w.tensor(), b, other, y, p.partials(),
                                c.meta(), li, n, k, MmaKernels.kSteps(k), np, 1,
                                split.split() ? NeoXKernels.PARTIAL : mode, split.sliceLen(), rows);
                grids.perToken(graph + "." + task + "h", Grids.ELEMENTWISE, MmaKernels.activationWords(k));
                if (split.split()) {
                    tg.task(task + "r", NeoXKernels::reduceSlices, ctx, p.partials(), b, other, y, c.meta(), li, n,
                            split.slices(), np, rows * np, 1, mode);
                    grids.perToken(graph + "." + task + "r", Grids.ELEMENTWISE, n);
                }
                grids.tensorTiles(graph + "." + task, n, split.slices());
            }
        }
    }

    /**
     * Adds task {@code task} of graph {@code graph}: the few-token product {@code y = epilogue(xa . Wa + ba)} (with
     * {@link NeoXKernels#ADD_PAIR}, {@code y = (xb . Wb + bb + a) + y}; other modes pass {@code kb} = 0 and repeat
     * the first product's arrays) and its launch grid. The kernel follows the weights: {@link PackedDecodeKernels}
     * where they are packed for the tensor cores (the only copy there), else {@link NeoXKernels#linear}.
     */
    static void fewTokens(TaskGraph tg, Grids grids, KernelContext ctx, String graph, String task, FloatArray xa,
                          DeviceMatrix wa, FloatArray ba, FloatArray xb, DeviceMatrix wb, FloatArray bb, FloatArray y,
                          FloatArray scale, IntArray meta, IntArray layer, int n, int ka, int kb, int layered,
                          int mode) {
        if (wa.hasTensor() && wb.hasTensor()) {
            tg.task(task, PackedDecodeKernels::linear, ctx, xa, wa.tensor(), ba, xb, wb.tensor(), bb, y, scale, meta,
                    layer, n, ka, kb, layered, mode);
            grids.fixed(graph + "." + task, PackedDecodeKernels.GROUP, PackedDecodeKernels.items(n));
        } else {
            tg.task(task, NeoXKernels::linear, ctx, xa, wa.f32(), wa.half(), ba, xb, wb.f32(), wb.half(), bb, y, scale,
                    meta, layer, n, ka, kb, layered, linearRows(n), mode, wa.format());
            grids.fixed(graph + "." + task, NeoXKernels.LINEAR_GROUP, linearItems(n));
        }
    }

    /**
     * Outputs per {@link NeoXKernels#linear} work-group: enough work-groups to fill a large GPU (about 512) while
     * each output keeps at least 32 work items along k.
     */
    static int linearRows(int outputs) {
        return Math.max(1, Math.min(8, Integer.highestOneBit(Math.max(1, outputs / 512))));
    }

    /**
     * Whether attention is split along the context ({@link AttentionKernels}): for rows that can exceed one chunk
     * (the global caches; a block model's token decoder attends over a few local positions and keeps the one-pass
     * kernel).
     */
    boolean chunked() {
        return rowPositions > AttentionKernels.CHUNK;
    }

    /** Chunks of {@link AttentionKernels#CHUNK} positions that cover the longest context. */
    int chunks() {
        return (rowPositions + AttentionKernels.CHUNK - 1) / AttentionKernels.CHUNK;
    }

    /** Floats of partial products a many-token {@code n x k} product of {@code family} needs (0: none). */
    private long partialFloats(Family family, int n, int k) {
        return switch (family) {
            case FEW -> 0;
            case MANY -> {
                KSplit split = KSplit.tiled(n, k);
                yield split.split() ? (long) split.slices() * maxTokens * n : 0;
            }
            case TENSOR -> (long) KSplit.tensor(n, k).slices() * MmaKernels.roundUp(maxTokens, MmaKernels.TILE_T)
                    * MmaKernels.roundUp(n, MmaKernels.TILE_N);
        };
    }

    /** Work items of a {@link NeoXKernels#linear} launch for {@code outputs} outputs (any token count). */
    static long linearItems(int outputs) {
        int rows = linearRows(outputs);
        return (long) (outputs + rows - 1) / rows * NeoXKernels.LINEAR_GROUP;
    }
}
