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

    /** A grid whose size follows the live token count. */
    private record Sized(WorkerGrid grid, long perToken) {
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
                layersPerGraph(config.parallelResidual())));
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
            FloatArray qrot = new FloatArray(maxTokens * d);
            FloatArray att = new FloatArray(maxTokens * d);
            FloatArray hidden = new FloatArray(maxTokens * inter);
            // The second output of a single LayerNorm, never written.
            FloatArray unused = new FloatArray(1);
            float eps = (float) config.layerNormEps();
            float scale = (float) (1.0 / Math.sqrt(hd));
            int qkvRows = linearRows(3 * d);
            int upRows = linearRows(inter);
            int outRows = linearRows(d);

            // Every layer of the group is in this one graph, each with its own constant layer index, so a forward
            // call is a few submissions whatever the depth. Within a layer the launches are fused as far as the
            // data allows (both LayerNorms in one, GELU and residuals in the matmuls' epilogues): TornadoVM
            // synchronises with the device at every launch, so on a GPU a decode step costs about as much per
            // launch as in arithmetic.
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
                if (config.parallelResidual()) {
                    tg.task("ln" + t, NeoXKernels::layerNorm, ctx, x, ln1w, ln1b, normed, ln2w, ln2b, normed2, meta, li,
                            d, eps, 1, 1);
                } else {
                    tg.task("ln" + t, NeoXKernels::layerNorm, ctx, x, ln1w, ln1b, normed, ln1w, ln1b, unused, meta, li,
                            d, eps, 1, 0);
                }
                layerNormGrid(name + ".ln" + t);
                tg.task("qkv" + t, NeoXKernels::linear, ctx, normed, qkvW, qkvB, normed, qkvW, qkvB, qkv, meta, li,
                                3 * d, d, 0, 1, qkvRows, NeoXKernels.PLAIN)
                        .task("rope" + t, NeoXKernels::rotaryStore, ctx, qkv, qrot, keys, values, cos, sin, meta, li,
                                tokenPos, tokenSlot, heads, hd, rot, slots)
                        .task("attn" + t, NeoXKernels::attention, ctx, qrot, keys, values, att, meta, li, tokenPos,
                                tokenRow, rowStart, pages, heads, hd, pageSize, slots, scale);
                linearGrid(name + ".qkv" + t, 3 * d, qkvRows);
                elementwise(name + ".rope" + t, d);
                perToken1D(name + ".attn" + t, (long) heads * NeoXKernels.GROUP, NeoXKernels.GROUP);
                if (config.parallelResidual()) {
                    // x = (mlp + attention) + x, the MLP reading the second LayerNorm of the same x.
                    tg.task("up" + t, NeoXKernels::linear, ctx, normed2, upW, upB, normed2, upW, upB, hidden, meta, li,
                                    inter, d, 0, 1, upRows, NeoXKernels.GELU)
                            .task("out" + t, NeoXKernels::linear, ctx, att, outW, outB, hidden, downW, downB, x, meta,
                                    li, d, d, inter, 1, outRows, NeoXKernels.ADD_PAIR);
                    linearGrid(name + ".up" + t, inter, upRows);
                    linearGrid(name + ".out" + t, d, outRows);
                } else {
                    tg.task("dense" + t, NeoXKernels::linear, ctx, att, outW, outB, att, outW, outB, x, meta, li, d, d,
                                    0, 1, outRows, NeoXKernels.ADD)
                            .task("ln2" + t, NeoXKernels::layerNorm, ctx, x, ln2w, ln2b, normed2, ln2w, ln2b, unused,
                                    meta, li, d, eps, 1, 0)
                            .task("up" + t, NeoXKernels::linear, ctx, normed2, upW, upB, normed2, upW, upB, hidden, meta,
                                    li, inter, d, 0, 1, upRows, NeoXKernels.GELU)
                            .task("down" + t, NeoXKernels::linear, ctx, hidden, downW, downB, hidden, downW, downB, x,
                                    meta, li, d, inter, 0, 1, outRows, NeoXKernels.ADD);
                    linearGrid(name + ".dense" + t, d, outRows);
                    layerNormGrid(name + ".ln2" + t);
                    linearGrid(name + ".up" + t, inter, upRows);
                    linearGrid(name + ".down" + t, d, outRows);
                }
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
                .task("ln", NeoXKernels::layerNorm, ctx, x, finalW, finalB, out, finalW, finalB, new FloatArray(1), meta,
                        zero, d, (float) config.layerNormEps(), 0, 0)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        layerNormGrid("out.ln");
        graphs.add(fin.snapshot());

        plan = new TornadoExecutionPlan(graphs.toArray(ImmutableTaskGraph[]::new));
        plan.withDevice(device);
    }

    /**
     * How many layers' tasks fit one graph. Two TornadoVM buffers bound it: the graph's high-level description
     * (a fixed 8 KiB, {@code 15 + 5 * arguments} bytes per task: 565 bytes for a parallel-residual layer's six
     * tasks, 745 for a sequential one's eight) and the
     * compiled bytecode ({@code tornado.tvm.maxbytecodesize} bytes, 4096 by default, about two layers), which
     * scripts/bt-tornado raises.
     */
    private static int layersPerGraph(boolean parallelResidual) {
        int bytecode = Integer.getInteger("tornado.tvm.maxbytecodesize", 4096) / BYTECODE_PER_LAYER;
        int highLevel = HIGH_LEVEL_BYTES / (parallelResidual ? 600 : 820);
        return Math.max(1, Math.min(bytecode, highLevel));
    }

    /** Bytecode one layer's tasks take, with margin (three layers overflow the default 4096). */
    private static final int BYTECODE_PER_LAYER = 2048;
    /** TornadoVM's fixed buffer for a graph's task list (one layer's share, with margin, is above). */
    private static final int HIGH_LEVEL_BYTES = 8192;

    private void layerNormGrid(String task) {
        sized.add(new Sized(grids.oneD(task, NeoXKernels.GROUP), NeoXKernels.GROUP));
    }

    /** {@link NeoXKernels#linear} runs one work-group per {@code rows} outputs, whatever the token count. */
    private void linearGrid(String task, int outputs, int rows) {
        WorkerGrid g = grids.oneD(task, NeoXKernels.LINEAR_GROUP);
        Grids.size1D(g, (long) (outputs + rows - 1) / rows * NeoXKernels.LINEAR_GROUP);
    }

    /**
     * Outputs per {@link NeoXKernels#linear} work-group: enough work-groups to fill a large GPU (about 512) while
     * each output keeps at least 32 work items along k.
     */
    static int linearRows(int outputs) {
        return Math.max(1, Math.min(8, Integer.highestOneBit(Math.max(1, outputs / 512))));
    }

    private void elementwise(String task, int width) {
        sized.add(new Sized(grids.oneD(task, ELEMENTWISE), width));
    }

    private void perToken1D(String task, long perToken, int local) {
        sized.add(new Sized(grids.oneD(task, local), perToken));
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
            Grids.size1D(s.grid(), (long) tokens * s.perToken());
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

    @Override
    public void close() {
        try {
            plan.close();
        } catch (Exception e) {
            // Freeing device memory at shutdown: nothing useful to do on failure.
        }
    }
}
