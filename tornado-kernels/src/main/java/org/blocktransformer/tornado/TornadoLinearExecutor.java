package org.blocktransformer.tornado;

import org.blocktransformer.model.backend.Candidates;
import org.blocktransformer.model.backend.LinearExecutor;
import org.blocktransformer.model.backend.Logits;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.tornado.kernels.MmaKernels;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import uk.ac.manchester.tornado.api.DataRange;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;

/**
 * A Linear layer on the device (expansion, projection, output head). Token selection runs there too: greedy
 * decoding brings back one id per row, top-k sampling only the candidates ({@link #topK}), each with the row's sum,
 * by which a row holding a NaN or an infinity is found; {@link #apply} brings the outputs back on demand.
 */
final class TornadoLinearExecutor implements LinearExecutor {
    /** Most candidates a row's top-k brings back (ties included); a larger top-k takes the row's logits instead. */
    static final int TOP_K_CAP = 256;

    private final int in;
    private final int outFeatures;
    private final int maxRows;
    private final FloatArray x;
    private final FloatArray y;
    private final IntArray ids;
    /** Per row: the sum of its outputs, finite exactly when they all are (see {@link NeoXKernels#selectTokens}). */
    private final FloatArray sums;
    /** Per row: its top-k, or 0 (greedy rows and plain products); sent with every call. */
    private final IntArray topK;
    private final IntArray candIds;
    private final FloatArray candLogits;
    private final IntArray candCount;
    private final IntArray meta = new IntArray(4);
    private final Grids grids = new Grids();
    private final TornadoExecutionPlan plan;
    private final String deviceName;
    /** Whether the launches are recorded once and replayed (see {@link Grids#fix}). */
    private final boolean recorded;
    /** The family of calls above {@link LayerTasks#FEW_TOKENS}: {@code MANY}, or {@code TENSOR} on tensor cores. */
    private final LayerTasks.Family many;

    /**
     * With {@code tensorCores} (a PTX device) and float16 weights, calls of many rows run on the tensor cores
     * ({@link MmaKernels#linear}); otherwise with the float32 tiles.
     */
    TornadoLinearExecutor(Linear linear, TornadoDevice device, int maxRows, boolean recorded, boolean tensorCores) {
        this.recorded = recorded;
        this.in = linear.inFeatures();
        this.outFeatures = linear.outFeatures();
        this.maxRows = maxRows;
        this.deviceName = TornadoDevices.describe(device);
        x = new FloatArray(maxRows * in);
        y = new FloatArray(DeviceArrays.checkedSize((long) maxRows * outFeatures));
        ids = new IntArray(maxRows);
        sums = new FloatArray(maxRows);
        topK = new IntArray(maxRows);
        candIds = new IntArray(maxRows * TOP_K_CAP);
        candLogits = new FloatArray(maxRows * TOP_K_CAP);
        candCount = new IntArray(maxRows);
        DeviceMatrix w = DeviceMatrix.of(linear.weight(), tensorCores);
        many = w.hasTensor() ? LayerTasks.Family.TENSOR : LayerTasks.Family.MANY;
        FloatArray scale = FloatArray.fromArray(NeoXKernels.bf16Scale());
        FloatArray b = DeviceArrays.bias(linear);
        IntArray layer = new IntArray(1);
        KernelContext ctx = new KernelContext();
        // Two graphs as for the stacks: few rows (decoding) and many (prefill); the second uses the first's weights.
        TaskGraph few = new TaskGraph("linear")
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, w.arrays())
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, scale, b, layer)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, x, meta, topK);
        LayerTasks.fewTokens(few, grids, ctx, "linear", "matmul", x, w, b, x, w, b, y, scale, meta, layer,
                outFeatures, in, 0, 0, NeoXKernels.PLAIN);
        few.task("selectTokens", NeoXKernels::selectTokens, ctx, y, topK, ids, sums, candIds, candLogits, candCount,
                        meta, outFeatures, TOP_K_CAP)
                .persistOnDevice(w.arrays())
                .persistOnDevice(scale, b, layer)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, ids, sums)
                .transferToHost(DataTransferMode.UNDER_DEMAND, y, candIds, candLogits, candCount);
        grids.perToken("linear.selectTokens", NeoXKernels.ROW_GROUP, NeoXKernels.ROW_GROUP);
        FloatArray unused = new FloatArray(1);
        String name = manyGraphName(many);
        if (many == LayerTasks.Family.TENSOR) {
            TornadoDevices.sketchOn(name, device);
        }
        TaskGraph tg = new TaskGraph(name)
                .consumeFromDevice("linear", w.arrays())
                .consumeFromDevice("linear", scale, b, layer)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, x, meta, topK);
        if (many == LayerTasks.Family.TENSOR) {
            FloatArray fragments = new FloatArray(DeviceArrays.checkedSize((long) MmaKernels.roundUp(maxRows,
                    MmaKernels.TILE_T) * MmaKernels.roundUp(outFeatures, MmaKernels.TILE_N)));
            LongArray halves = new LongArray(DeviceArrays.checkedSize((long) maxRows * MmaKernels.activationWords(in)));
            tg.task("halves", MmaKernels::toHalves, ctx, x, halves, meta, in)
                    .task("matmul", MmaKernels::linear, ctx, halves, w.tensor(), b, unused, y, fragments,
                            meta, layer,
                            outFeatures, in, MmaKernels.kSteps(in), MmaKernels.roundUp(outFeatures, MmaKernels.TILE_N),
                            0, NeoXKernels.PLAIN, MmaKernels.kSteps(in), 0);
            DeviceArrays.freedWithPlan(tg, fragments, halves);
            grids.perToken(name + ".halves", Grids.ELEMENTWISE, MmaKernels.activationWords(in));
            grids.tensorTiles(name + ".matmul", outFeatures, 1);
        } else {
            tg.task("matmul", NeoXKernels::matmul, ctx, x, w.f32(), w.half(), b, unused, y, scale, meta, layer,
                    outFeatures, in, 0, NeoXKernels.PLAIN, w.format(), in, 0);
            grids.tiles(name + ".matmul", outFeatures);
        }
        tg.task("selectTokens", NeoXKernels::selectTokens, ctx, y, topK, ids, sums, candIds, candLogits, candCount,
                        meta, outFeatures, TOP_K_CAP)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, ids, sums)
                .transferToHost(DataTransferMode.UNDER_DEMAND, y, candIds, candLogits, candCount);
        DeviceArrays.freedWithPlan(tg, unused);
        grids.perToken(name + ".selectTokens", NeoXKernels.ROW_GROUP, NeoXKernels.ROW_GROUP);
        // The few-row graph first, then the many-row one (see run).
        plan = new TornadoExecutionPlan(few.snapshot(), tg.snapshot());
        TornadoDevices.sketchDone(name);
        plan.withDevice(device).withGridScheduler(grids.scheduler());
        if (recorded) {
            if (TornadoDevices.isPtx(device)) {
                plan.withCUDAGraph();
            }
            grids.fix(task -> task.startsWith("linear.") ? LayerTasks.FEW_TOKENS : maxRows);
        }
        // Empty calls through both graphs, the few-row one first: it places the weights, which the many-row graph
        // then finds on the device. A recorded plan (PTX) captures each graph on its first execution; capturing both
        // here, in a fixed order, keeps captures out of the decode loop (a block model's first 256-row expansion
        // call on the H200 logged a failed capture and CUDA_ERROR_INVALID_VALUE for every later replay).
        run(0, LayerTasks.Family.FEW);
        run(0, many);
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return outFeatures;
    }

    private TornadoExecutionResult execute(float[] input, int from, int rows) {
        load(input, from, rows);
        return run(rows);
    }

    /** Sets every row's top-k for the following {@link #run} calls (0: argmax only), as {@link #topK} does per call. */
    void selectTopK(int rows, int k) {
        for (int i = 0; i < rows; i++) {
            topK.set(i, k);
        }
    }

    /** Puts {@code rows} rows of {@code input} from row {@code from} into the input buffer. */
    void load(float[] input, int from, int rows) {
        DeviceArrays.put(input, from * in, x, rows * in);
    }

    private TornadoExecutionResult run(int rows) {
        return run(rows, LayerTasks.Family.of(rows, many));
    }

    /** The family of calls above {@link LayerTasks#FEW_TOKENS} (MANY, or TENSOR on tensor cores). */
    LayerTasks.Family manyRowFamily() {
        return many;
    }

    /**
     * One execution over the first {@code rows} rows of the input buffer with the given kernel family: FEW, or
     * this executor's {@link #manyRowFamily}.
     */
    TornadoExecutionResult run(int rows, LayerTasks.Family family) {
        meta.set(0, rows);
        if (!recorded) {
            grids.resize(rows);
        }
        try {
            // The grid scheduler was set once (see StackPlan#execute).
            boolean few = family == LayerTasks.Family.FEW;
            return grids.selecting(few ? "linear" : manyGraphName(manyRowFamily()), () -> plan.withGraph(few ? 0 : 1))
                    .execute();
        } catch (RuntimeException e) {
            throw DeviceErrors.wrap(deviceName, "linear " + outFeatures + "x" + in, e);
        }
    }

    private static String manyGraphName(LayerTasks.Family many) {
        return many == LayerTasks.Family.TENSOR ? "linearTensor" : "linearMany";
    }

    @Override
    public synchronized float[] apply(float[] input, int rows) {
        float[] result = new float[rows * outFeatures];
        for (int r0 = 0; r0 < rows; r0 += maxRows) {
            int n = Math.min(maxRows, rows - r0);
            // Only the live rows come back (the buffer holds maxRows rows: 200 MB for a 50,304-token head).
            execute(input, r0, n).transferToHost(new DataRange(y).withSize((long) n * outFeatures));
            DeviceArrays.get(y, result, r0 * outFeatures, n * outFeatures);
        }
        return result;
    }

    @Override
    public synchronized int[] argmax(float[] input, int rows) {
        int[] result = new int[rows];
        for (int r0 = 0; r0 < rows; r0 += maxRows) {
            int n = Math.min(maxRows, rows - r0);
            execute(input, r0, n);
            for (int i = 0; i < n; i++) {
                result[r0 + i] = finite(i) ? ids.get(i) : Logits.NON_FINITE;
            }
        }
        return result;
    }

    @Override
    public synchronized Candidates[] topK(float[] input, int rows, int[] k) {
        Candidates[] result = new Candidates[rows];
        for (int r0 = 0; r0 < rows; r0 += maxRows) {
            int n = Math.min(maxRows, rows - r0);
            // Rows the device selects for: a top-k that leaves outputs out and whose k fits the buffer.
            boolean[] selected = new boolean[n];
            for (int i = 0; i < n; i++) {
                int kk = k[r0 + i];
                selected[i] = Candidates.restricts(kk, outFeatures) && kk <= TOP_K_CAP;
                topK.set(i, selected[i] ? kk : 0);
            }
            try {
                // Only the call's rows come back (the buffers hold maxRows rows of TOP_K_CAP candidates).
                execute(input, r0, n)
                        .transferToHost(new DataRange(candIds).withSize((long) n * TOP_K_CAP))
                        .transferToHost(new DataRange(candLogits).withSize((long) n * TOP_K_CAP))
                        .transferToHost(new DataRange(candCount).withSize(n));
            } finally {
                for (int i = 0; i < n; i++) {
                    topK.set(i, 0);
                }
            }
            for (int i = 0; i < n; i++) {
                int count = candCount.get(i);
                // A row that is not all finite gets none: the caller's sampler then finds it so in the row.
                if (selected[i] && count >= 0 && finite(i)) {
                    int[] cIds = new int[count];
                    float[] cLogits = new float[count];
                    for (int j = 0; j < count; j++) {
                        cIds[j] = candIds.get(i * TOP_K_CAP + j);
                        cLogits[j] = candLogits.get(i * TOP_K_CAP + j);
                    }
                    result[r0 + i] = new Candidates(cIds, cLogits);
                }
            }
        }
        return result;
    }

    /** Whether every output of row {@code i} of the last call is finite. */
    private boolean finite(int i) {
        return Float.isFinite(sums.get(i));
    }

    /** Device memory TornadoVM counts for this layer's plan. */
    synchronized long deviceMemoryBytes() {
        return plan.getCurrentDeviceMemoryUsage();
    }

    synchronized void close() {
        try {
            plan.close();
        } catch (Exception e) {
            // Freeing device memory at shutdown: nothing useful to do on failure.
        }
    }
}
