package org.blocktransformer.tornado;

import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.CacheTable;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.neox.Rotary;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.StackWeights;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import uk.ac.manchester.tornado.api.DataRange;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The task graphs of one stack over one page pool, in one execution plan:
 * <ol>
 *   <li>{@code in}: uploads the call's activations, token positions and slots and the rows' page tables;</li>
 *   <li>{@code g0, g1, ...}: one graph per group of layers holding every layer's tasks with the kernels for few
 *       tokens (weights and KV cache are sent when the plan is made and stay on the device);</li>
 *   <li>{@code p0, p1, ...}: the same layers with the kernels for many tokens, on the same device buffers
 *       (consumed from the {@code g} graphs); a call runs one family, chosen by its token count;</li>
 *   <li>{@code out}: the final LayerNorm, the hidden states back to the host.</li>
 * </ol>
 * Layers are grouped because TornadoVM arrays are int-indexed (a group's stacked KV cache must stay under 2^31
 * floats) and a graph's task list and bytecode have size limits; each group is one submission per call. A recorded
 * plan (PTX) captures each graph's launches as a CUDA graph on its first execution and replays them after.
 */
final class StackPlan implements AutoCloseable {
    private final NeoXConfig config;
    private final int maxTokens;
    private final int pageSize;
    /** The KV storage's shape: slots per layer, their format, and the most positions a row holds. */
    private final int slots;
    private final KvFormat kv;
    private final int rowPositions;
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
    private final TornadoExecutionPlan plan;
    private final String deviceName;
    private final int[] scratchPos;
    private final int[] scratchSlot;
    private final int[] scratchRow;
    private final int[] scratchStart;
    private final int[] scratchPages;
    /** Whether the launches are recorded once and replayed (see {@link Grids#fix}). */
    private final boolean recorded;
    /** The family of calls above {@link LayerTasks#FEW_TOKENS}: {@code MANY}, or {@code TENSOR} on tensor cores. */
    private final LayerTasks.Family many;

    /**
     * With {@code tensorCores} (a PTX device) and float16 weights, calls of many tokens run on the tensor cores
     * ({@link LayerTasks.Family#TENSOR}); otherwise with the float32 tiles ({@link LayerTasks.Family#MANY}).
     */
    StackPlan(NeoXConfig config, StackWeights weights, PagePool pool, TornadoDevice device, int maxTokens,
              boolean recorded, boolean tensorCores) {
        this.recorded = recorded;
        this.config = config;
        this.maxTokens = maxTokens;
        this.deviceName = TornadoDevices.describe(device);
        this.pageSize = pool.pageSize();
        this.slots = pool.slots();
        this.kv = pool.kv();
        this.rowPositions = pool.rowPositions();
        int d = config.hiddenSize();
        int layers = config.numLayers();
        // Elements of one layer's keys (or values): floats, or words of four float16 values.
        long perLayerKv = (long) slots * (kv == KvFormat.F16
                ? (long) config.numHeads() * NeoXKernels.halfWords(config.headSize()) : d);
        int perGroup = (int) Math.max(1, Math.min(Math.min(layers, (Integer.MAX_VALUE - 64) / perLayerKv),
                layersPerGraph(config.parallelResidual())));
        if (perLayerKv > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("one layer's KV cache of " + perLayerKv + " elements exceeds TornadoVM's"
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
        DeviceArrays.freedWithPlan(in, x);
        grids.perToken("in.copy", Grids.ELEMENTWISE, d);
        graphs.add(in.snapshot());

        // The CPU path's rotary tables (angles formed in float32 like the reference), uploaded once.
        Rotary rotary = new Rotary(config);
        LayerTasks.CallArrays call = new LayerTasks.CallArrays(x, meta, tokenPos, tokenSlot, tokenRow, rowStart, pages,
                nonEmpty(rotary.cosTable()), nonEmpty(rotary.sinTable()), FloatArray.fromArray(NeoXKernels.bf16Scale()));
        LayerTasks tasks = new LayerTasks(config, ctx, call, grids, maxTokens, pageSize, slots, pool.rowPositions());
        Object[] perCall = {x, meta, tokenPos, tokenSlot, tokenRow, rowStart, pages};
        boolean f16 = weights.layers().getFirst().qkv().weight() instanceof F16Matrix;
        LayerGroup[] layerGroups = new LayerGroup[groups];
        for (int g = 0; g < groups; g++) {
            layerGroups[g] = LayerGroup.of(weights.layers().subList(groupStart[g], groupStart[g + 1]),
                    config.numHeads(), config.headSize(), config.intermediateSize(), slots, pool.kv(), tensorCores && f16);
        }
        this.many = tensorCores && f16 && layerGroups[0].tensorReady() ? LayerTasks.Family.TENSOR
                : LayerTasks.Family.MANY;
        // Every layer of a group is in one graph, each with its own constant layer index, so a forward call is a
        // few submissions whatever the depth. The few-token graphs own the resident arrays; the many-token graphs
        // use the same device buffers. TornadoVM hands a graph the buffers of the graph executed just before it:
        // each graph therefore names its predecessor in a call (in, g0, g1, ... or in, p0, p1, ...), and a
        // many-token graph also names its few-token twin, which it follows once when the plan is made.
        for (int g = 0; g < groups; g++) {
            String name = LayerTasks.Family.FEW.prefix + g;
            TaskGraph tg = new TaskGraph(name)
                    .consumeFromDevice("in", perCall)
                    .transferToDevice(DataTransferMode.FIRST_EXECUTION, call.cos(), call.sin(), call.bf16Scale())
                    .transferToDevice(DataTransferMode.FIRST_EXECUTION, layerGroups[g].resident());
            tasks.addLayers(tg, name, LayerTasks.Family.FEW, layerGroups[g]);
            tg.persistOnDevice(perCall).persistOnDevice(call.cos(), call.sin(), call.bf16Scale())
                    .persistOnDevice(layerGroups[g].resident());
            graphs.add(tg.snapshot());
        }
        for (int g = 0; g < groups; g++) {
            String name = many.prefix + g;
            String twin = LayerTasks.Family.FEW.prefix + g;
            if (many == LayerTasks.Family.TENSOR) {
                TornadoDevices.sketchOn(name, device);
            }
            TaskGraph tg = new TaskGraph(name)
                    .consumeFromDevice(g == 0 ? "in" : many.prefix + (g - 1), perCall)
                    .consumeFromDevice(twin, perCall)
                    .consumeFromDevice(twin, call.cos(), call.sin(), call.bf16Scale())
                    .consumeFromDevice(twin, layerGroups[g].resident());
            tasks.addLayers(tg, name, many, layerGroups[g]);
            tg.persistOnDevice(perCall);
            graphs.add(tg.snapshot());
            TornadoDevices.sketchDone(name);
        }

        FloatArray finalW = FloatArray.fromArray(weights.finalNorm().weight());
        FloatArray finalB = FloatArray.fromArray(weights.finalNorm().bias());
        IntArray zero = new IntArray(1);
        FloatArray unused = new FloatArray(1);
        TaskGraph fin = new TaskGraph("out")
                .consumeFromDevice("in", x, meta)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, finalW, finalB, zero)
                .task("ln", NeoXKernels::layerNorm, ctx, x, finalW, finalB, out, finalW, finalB, unused, meta,
                        zero, d, (float) config.layerNormEps(), 0, 0)
                .transferToHost(DataTransferMode.UNDER_DEMAND, out);
        DeviceArrays.freedWithPlan(fin, unused);
        grids.perToken("out.ln", NeoXKernels.ROW_GROUP, NeoXKernels.ROW_GROUP);
        graphs.add(fin.snapshot());

        plan = new TornadoExecutionPlan(graphs.toArray(ImmutableTaskGraph[]::new));
        plan.withDevice(device).withGridScheduler(grids.scheduler());
        if (recorded) {
            if (TornadoDevices.isPtx(device)) {
                plan.withCUDAGraph();
            }
            grids.fix(task -> task.startsWith(LayerTasks.Family.FEW.prefix) ? LayerTasks.FEW_TOKENS : maxTokens);
        }
        // An empty call through both families, each many-token graph right after its twin: the few-token graphs
        // send the weights and KV cache, and the many-token graphs take over their buffers.
        meta.set(0, 0);
        resize(0);
        execute(0, "in");
        for (int g = 0; g < groups; g++) {
            execute(graphOf(LayerTasks.Family.FEW, g), LayerTasks.Family.FEW.prefix + g);
            execute(graphOf(many, g), many.prefix + g);
        }
        // The final graph too, so that a recorded plan captures every graph here rather than in the first call.
        execute(1 + 2 * groups, "out");
    }

    /**
     * How many layers' tasks fit one graph. Two TornadoVM buffers bound it: the graph's high-level description
     * (a fixed 8 KiB, {@code 15 + 5 * arguments} bytes per task: up to about 1,000 bytes for a parallel-residual
     * layer's ten tasks, 1,150 for a sequential one's, with split attention's combine step and split-k's reduce
     * steps) and the
     * compiled bytecode ({@code tornado.tvm.maxbytecodesize} bytes, 4096 by default, about two layers), which
     * scripts/bt-tornado raises.
     */
    private static int layersPerGraph(boolean parallelResidual) {
        int bytecode = Integer.getInteger("tornado.tvm.maxbytecodesize", 4096) / BYTECODE_PER_LAYER;
        int highLevel = HIGH_LEVEL_BYTES / (parallelResidual ? 1250 : 1600);
        return Math.max(1, Math.min(bytecode, highLevel));
    }

    /** Bytecode one layer's tasks take, with margin (three layers overflow the default 4096). */
    private static final int BYTECODE_PER_LAYER = 2048;
    /** TornadoVM's fixed buffer for a graph's task list (one layer's share, with margin, is above). */
    private static final int HIGH_LEVEL_BYTES = 8192;

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
        resize(tokens);
        LayerTasks.Family family = LayerTasks.Family.of(tokens, many);
        execute(0, "in");
        for (int g = 0; g < groups; g++) {
            execute(graphOf(family, g), family.prefix + g);
        }
        // Only the live rows come back (the buffer holds the largest call's).
        execute(1 + 2 * groups, "out")
                .transferToHost(new DataRange(out).withSize((long) tokens * d));
        DeviceArrays.get(out, x, xOffset, tokens * d);
    }

    private void resize(int tokens) {
        if (!recorded) {
            grids.resize(tokens);
        }
    }

    /** The plan's index of group {@code g}'s graph in {@code family}: in, the few-token groups, the others, out. */
    private int graphOf(LayerTasks.Family family, int g) {
        return 1 + (family == LayerTasks.Family.FEW ? 0 : groups) + g;
    }

    /**
     * Whether {@code pool}'s pages address this plan's KV storage (the same page size, format and row length, no
     * more slots): the kernels take the page size, the row length chooses them, and slots index the storage.
     */
    boolean fits(PagePool pool) {
        return pool.pageSize() == pageSize && pool.kv() == kv && pool.rowPositions() == rowPositions
                && pool.slots() <= slots;
    }

    /** Device memory TornadoVM counts for this plan (the graphs that share a buffer each count it). */
    long deviceMemoryBytes() {
        return plan.getCurrentDeviceMemoryUsage();
    }

    /** The kernel family of calls above {@link LayerTasks#FEW_TOKENS}. */
    LayerTasks.Family manyTokenFamily() {
        return many;
    }

    private TornadoExecutionResult execute(int graph, String name) {
        try {
            // The grid scheduler is the plan's since construction (its grids are resized in place): naming it again
            // per call would make TornadoVM print every grid into the call's trace string, a fifth of the host
            // time of a batch-256 decode step. Selecting a graph still checks the scheduler's names (Grids).
            return grids.selecting(name, () -> plan.withGraph(graph)).execute();
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
