package org.blocktransformer.tornado;

import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.CacheTable;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.neox.Rotary;
import org.blocktransformer.model.weights.LayerWeights;
import org.blocktransformer.model.weights.StackWeights;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The task graphs of one stack over one page pool, in one execution plan:
 * <ol>
 *   <li>{@code in}: uploads the call's activations, token positions and slots and the rows' page tables;</li>
 *   <li>{@code g0, g1, ...}: one graph per group of layers holding every layer's tasks (weights and KV cache were
 *       sent on the first run and stay on the device);</li>
 *   <li>{@code out}: the final LayerNorm, the hidden states back to the host.</li>
 * </ol>
 * Layers are grouped because TornadoVM arrays are int-indexed (a group's stacked KV cache must stay under 2^31
 * floats) and a graph's compiled bytecode has a size limit; each group is one submission per call.
 */
final class StackPlan implements AutoCloseable {
    private static final int ELEMENTWISE = 128;

    private final NeoXConfig config;
    private final int maxTokens;
    private final int pageSize;
    private final int[] groupStart;
    private final FloatArray xIn;
    private final FloatArray out;
    private final IntArray meta = new IntArray(4);
    /** Number of layer groups, one task graph each. */
    private final int groups;
    private final IntArray tokenPos;
    private final IntArray tokenSlot;
    private final IntArray tokenRow;
    private final IntArray rowStart;
    private final IntArray pages;
    private final Grids grids = new Grids();
    private final List<Sized> sized = new ArrayList<>();
    private final TornadoExecutionPlan plan;
    private final String deviceName;
    private final int[] scratchPos;
    private final int[] scratchSlot;
    private final int[] scratchRow;
    private final int[] scratchStart;
    private final int[] scratchPages;

    /** A grid and how its size follows the live token count. */
    private record Sized(WorkerGrid grid, long perTokenX, long fixedX, long perTokenY, boolean twoD) {
    }

    StackPlan(NeoXConfig config, StackWeights weights, PagePool pool, TornadoDevice device, int maxTokens) {
        this.config = config;
        this.maxTokens = maxTokens;
        this.deviceName = TornadoDevices.describe(device);
        this.pageSize = pool.pageSize();
        int d = config.hiddenSize();
        int inter = config.intermediateSize();
        int heads = config.numHeads();
        int hd = config.headSize();
        int layers = config.numLayers();
        int slots = pool.slots();
        long perLayerKv = (long) slots * d;
        int perGroup = (int) Math.max(1, Math.min(Math.min(layers, (Integer.MAX_VALUE - 64) / perLayerKv),
                layersPerGraph()));
        if (perLayerKv > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("one layer's KV cache of " + perLayerKv + " floats exceeds TornadoVM's"
                    + " int indexing; lower the cache memory");
        }
        this.groups = (layers + perGroup - 1) / perGroup;
        this.groupStart = new int[groups + 1];
        for (int g = 0; g <= groups; g++) {
            groupStart[g] = Math.min(layers, g * perGroup);
        }

        xIn = new FloatArray(maxTokens * d);
        out = new FloatArray(maxTokens * d);
        FloatArray x = new FloatArray(maxTokens * d);
        tokenPos = new IntArray(maxTokens);
        tokenSlot = new IntArray(maxTokens);
        tokenRow = new IntArray(maxTokens);
        rowStart = new IntArray(maxTokens);
        pages = new IntArray(Math.max(1, pool.pageCount()));
        scratchPos = new int[maxTokens];
        scratchSlot = new int[maxTokens];
        scratchRow = new int[maxTokens];
        scratchStart = new int[maxTokens];
        scratchPages = new int[Math.max(1, pool.pageCount())];
        KernelContext ctx = new KernelContext();

        List<ImmutableTaskGraph> graphs = new ArrayList<>();
        TaskGraph in = new TaskGraph("in")
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, xIn, meta, tokenPos, tokenSlot, tokenRow, rowStart, pages)
                .task("copy", NeoXKernels::copy, ctx, xIn, x, meta, d)
                .persistOnDevice(x, meta, tokenPos, tokenSlot, tokenRow, rowStart, pages);
        elementwise("in.copy", d);
        graphs.add(in.snapshot());

        // The CPU path's rotary tables (angles formed in float32 like the reference), uploaded once.
        int rot = config.rotaryDims();
        Rotary rotary = new Rotary(config);
        FloatArray cos = nonEmpty(rotary.cosTable());
        FloatArray sin = nonEmpty(rotary.sinTable());

        for (int g = 0; g < groups; g++) {
            List<LayerWeights> ls = weights.layers().subList(groupStart[g], groupStart[g + 1]);
            int n = ls.size();
            String name = "g" + g;
            FloatArray ln1w = DeviceArrays.stackVectors(ls.stream().map(l -> l.inputNorm().weight()).toList(), d);
            FloatArray ln1b = DeviceArrays.stackVectors(ls.stream().map(l -> l.inputNorm().bias()).toList(), d);
            FloatArray ln2w = DeviceArrays.stackVectors(ls.stream().map(l -> l.postAttentionNorm().weight()).toList(), d);
            FloatArray ln2b = DeviceArrays.stackVectors(ls.stream().map(l -> l.postAttentionNorm().bias()).toList(), d);
            FloatArray qkvW = DeviceArrays.stack(ls.stream().map(l -> l.qkv().weight()).toList());
            FloatArray qkvB = DeviceArrays.stackVectors(ls.stream().map(l -> l.qkv().bias()).toList(), 3 * d);
            FloatArray outW = DeviceArrays.stack(ls.stream().map(l -> l.attentionOut().weight()).toList());
            FloatArray outB = DeviceArrays.stackVectors(ls.stream().map(l -> l.attentionOut().bias()).toList(), d);
            FloatArray upW = DeviceArrays.stack(ls.stream().map(l -> l.mlpUp().weight()).toList());
            FloatArray upB = DeviceArrays.stackVectors(ls.stream().map(l -> l.mlpUp().bias()).toList(), inter);
            FloatArray downW = DeviceArrays.stack(ls.stream().map(l -> l.mlpDown().weight()).toList());
            FloatArray downB = DeviceArrays.stackVectors(ls.stream().map(l -> l.mlpDown().bias()).toList(), d);
            FloatArray keys = new FloatArray(DeviceArrays.checkedSize((long) n * slots * d));
            FloatArray values = new FloatArray(DeviceArrays.checkedSize((long) n * slots * d));
            // Each intermediate has its own buffer: TornadoVM orders tasks by what they read and write, and a buffer
            // reused by two unrelated tasks (a write-after-read) would be a race.
            FloatArray normed = new FloatArray(maxTokens * d);
            FloatArray normed2 = new FloatArray(maxTokens * d);
            FloatArray qkv = new FloatArray(maxTokens * 3 * d);
            FloatArray att = new FloatArray(maxTokens * d);
            FloatArray attOut = new FloatArray(maxTokens * d);
            FloatArray hidden = new FloatArray(maxTokens * inter);
            FloatArray mlpOut = new FloatArray(maxTokens * d);
            float eps = (float) config.layerNormEps();
            float scale = (float) (1.0 / Math.sqrt(hd));

            // Every layer of the group is in this one graph, each with its own constant layer index, so a forward
            // call is three submissions (in, layers, out) whatever the depth: launch overhead, not arithmetic, is
            // what a decode step pays for on a GPU.
            IntArray[] layerOf = new IntArray[n];
            for (int l = 0; l < n; l++) {
                layerOf[l] = IntArray.fromElements(l);
            }
            TaskGraph tg = new TaskGraph(name)
                    .consumeFromDevice("in", x, meta, tokenPos, tokenSlot, tokenRow, rowStart, pages)
                    .transferToDevice(DataTransferMode.FIRST_EXECUTION, ln1w, ln1b, ln2w, ln2b, qkvW, qkvB, outW, outB,
                            upW, upB, downW, downB, keys, values, cos, sin)
                    .transferToDevice(DataTransferMode.FIRST_EXECUTION, (Object[]) layerOf);
            for (int l = 0; l < n; l++) {
                IntArray li = layerOf[l];
                String t = "_" + l;
                tg.task("ln1" + t, NeoXKernels::layerNorm, ctx, x, ln1w, ln1b, normed, meta, li, d, eps, 1)
                        .task("qkv" + t, NeoXKernels::matmul, ctx, normed, qkvW, qkvB, qkv, meta, li, 3 * d, d, 1)
                        .task("rope" + t, NeoXKernels::rotaryStore, ctx, qkv, keys, values, cos, sin, meta, li, tokenPos,
                                tokenSlot, heads, hd, rot, slots)
                        .task("attn" + t, NeoXKernels::attention, ctx, qkv, keys, values, att, meta, li, tokenPos,
                                tokenRow, rowStart, pages, heads, hd, pageSize, slots, scale)
                        .task("dense" + t, NeoXKernels::matmul, ctx, att, outW, outB, attOut, meta, li, d, d, 1);
                layerNormGrid(name + ".ln1" + t);
                matmulGrid(name + ".qkv" + t, 3 * d);
                perToken1D(name + ".rope" + t, heads, 64);
                perToken1D(name + ".attn" + t, (long) heads * NeoXKernels.GROUP, NeoXKernels.GROUP);
                matmulGrid(name + ".dense" + t, d);
                if (config.parallelResidual()) {
                    tg.task("ln2" + t, NeoXKernels::layerNorm, ctx, x, ln2w, ln2b, normed2, meta, li, d, eps, 1)
                            .task("up" + t, NeoXKernels::matmul, ctx, normed2, upW, upB, hidden, meta, li, inter, d, 1)
                            .task("gelu" + t, NeoXKernels::gelu, ctx, hidden, meta, inter)
                            .task("down" + t, NeoXKernels::matmul, ctx, hidden, downW, downB, mlpOut, meta, li, d, inter, 1)
                            .task("residual" + t, NeoXKernels::addTwo, ctx, mlpOut, attOut, x, meta, d);
                } else {
                    tg.task("attnResidual" + t, NeoXKernels::addOne, ctx, attOut, x, meta, d)
                            .task("ln2" + t, NeoXKernels::layerNorm, ctx, x, ln2w, ln2b, normed2, meta, li, d, eps, 1)
                            .task("up" + t, NeoXKernels::matmul, ctx, normed2, upW, upB, hidden, meta, li, inter, d, 1)
                            .task("gelu" + t, NeoXKernels::gelu, ctx, hidden, meta, inter)
                            .task("down" + t, NeoXKernels::matmul, ctx, hidden, downW, downB, mlpOut, meta, li, d, inter, 1)
                            .task("residual" + t, NeoXKernels::addOne, ctx, mlpOut, x, meta, d);
                    elementwise(name + ".attnResidual" + t, d);
                }
                layerNormGrid(name + ".ln2" + t);
                matmulGrid(name + ".up" + t, inter);
                elementwise(name + ".gelu" + t, inter);
                matmulGrid(name + ".down" + t, d);
                elementwise(name + ".residual" + t, d);
            }
            tg.persistOnDevice(x);
            graphs.add(tg.snapshot());
        }

        FloatArray finalW = FloatArray.fromArray(weights.finalNorm().weight());
        FloatArray finalB = FloatArray.fromArray(weights.finalNorm().bias());
        IntArray zero = new IntArray(1);
        TaskGraph fin = new TaskGraph("out")
                .consumeFromDevice("in", x, meta)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, finalW, finalB, zero)
                .task("ln", NeoXKernels::layerNorm, ctx, x, finalW, finalB, out, meta, zero, d,
                        (float) config.layerNormEps(), 0)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        layerNormGrid("out.ln");
        graphs.add(fin.snapshot());

        plan = new TornadoExecutionPlan(graphs.toArray(ImmutableTaskGraph[]::new));
        plan.withDevice(device);
    }

    /**
     * How many layers' tasks fit one graph: TornadoVM compiles a graph into a bytecode buffer of
     * {@code tornado.tvm.maxbytecodesize} bytes (4096 by default, about two layers); scripts/bt-tornado raises it.
     */
    private static int layersPerGraph() {
        int bytes = Integer.getInteger("tornado.tvm.maxbytecodesize", 4096);
        return Math.max(1, bytes / BYTECODE_PER_LAYER);
    }

    /** Bytecode one layer's tasks take, with margin (three layers overflow the default 4096). */
    private static final int BYTECODE_PER_LAYER = 2048;

    private void layerNormGrid(String task) {
        sized.add(new Sized(grids.oneD(task, NeoXKernels.GROUP), NeoXKernels.GROUP, 0, 0, false));
    }

    private void matmulGrid(String task, int outputs) {
        sized.add(new Sized(grids.twoD(task, NeoXKernels.TILE, NeoXKernels.TILE), 0, outputs, 1, true));
    }

    private void elementwise(String task, int width) {
        sized.add(new Sized(grids.oneD(task, ELEMENTWISE), width, 0, 0, false));
    }

    private void perToken1D(String task, long perToken, int local) {
        sized.add(new Sized(grids.oneD(task, local), perToken, 0, 0, false));
    }

    /** Runs {@code tokens} new positions of {@code rows} from {@code x[xOffset...]}; writes the hidden states back. */
    void run(float[] x, int xOffset, List<StackRow> rows, int tokens) {
        int d = config.hiddenSize();
        int t = 0;
        int pageCursor = 0;
        for (int r = 0; r < rows.size(); r++) {
            CacheTable c = rows.get(r).cache();
            scratchStart[r] = pageCursor;
            for (int i = 0; i < c.pagesHeld(); i++) {
                scratchPages[pageCursor++] = c.page(i);
            }
            for (int i = 0; i < rows.get(r).count(); i++, t++) {
                int p = c.length() + i;
                scratchPos[t] = p;
                scratchSlot[t] = c.slot(p);
                scratchRow[t] = r;
            }
        }
        DeviceArrays.put(x, xOffset, xIn, tokens * d);
        DeviceArrays.put(scratchPos, tokenPos, tokens);
        DeviceArrays.put(scratchSlot, tokenSlot, tokens);
        DeviceArrays.put(scratchRow, tokenRow, tokens);
        DeviceArrays.put(scratchStart, rowStart, rows.size());
        DeviceArrays.put(scratchPages, pages, pageCursor);
        meta.set(0, tokens);
        for (Sized s : sized) {
            if (s.twoD()) {
                Grids.size2D(s.grid(), tileGroups(s.fixedX()) * NeoXKernels.TILE, tileGroups((long) tokens * s.perTokenY()) * NeoXKernels.TILE);
            } else {
                Grids.size1D(s.grid(), (long) tokens * s.perTokenX() + s.fixedX());
            }
        }
        execute(0, "in");
        for (int g = 0; g < groups; g++) {
            execute(1 + g, "g" + g);
        }
        execute(1 + groups, "out");
        DeviceArrays.get(out, x, xOffset, tokens * d);
    }

    private void execute(int graph, String name) {
        try {
            plan.withGraph(graph).withGridScheduler(grids.scheduler()).execute();
        } catch (RuntimeException e) {
            throw DeviceErrors.wrap(deviceName, name, e);
        }
    }

    /** TornadoVM arrays cannot be empty; a model without rotary dims gets one unused value. */
    private static FloatArray nonEmpty(float[] values) {
        return values.length == 0 ? new FloatArray(1) : FloatArray.fromArray(values);
    }

    /** Matmul work-groups needed along a dimension of {@code size} (each covers {@link NeoXKernels#BLOCK}). */
    static long tileGroups(long size) {
        return (size + NeoXKernels.BLOCK - 1) / NeoXKernels.BLOCK;
    }

    @Override
    public void close() {
        try {
            plan.close();
        } catch (Exception e) {
            // Freeing device memory at shutdown: nothing useful to do on failure.
        }
    }
}
