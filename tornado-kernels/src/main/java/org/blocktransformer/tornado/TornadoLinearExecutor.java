package org.blocktransformer.tornado;

import org.blocktransformer.model.backend.LinearExecutor;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * A Linear layer on the device (expansion, projection, output head). Greedy decoding runs the argmax there too,
 * so only one id per row comes back; {@link #apply} brings the outputs back on demand.
 */
final class TornadoLinearExecutor implements LinearExecutor {
    private final int in;
    private final int outFeatures;
    private final int maxRows;
    private final FloatArray x;
    private final FloatArray y;
    private final IntArray ids;
    private final IntArray meta = new IntArray(4);
    private final Grids grids = new Grids();
    private final TornadoExecutionPlan plan;
    private final String deviceName;

    TornadoLinearExecutor(Linear linear, TornadoDevice device, int maxRows) {
        this.in = linear.inFeatures();
        this.outFeatures = linear.outFeatures();
        this.maxRows = maxRows;
        this.deviceName = TornadoDevices.describe(device);
        x = new FloatArray(maxRows * in);
        y = new FloatArray(DeviceArrays.checkedSize((long) maxRows * outFeatures));
        ids = new IntArray(maxRows);
        DeviceMatrix w = DeviceMatrix.of(linear.weight());
        FloatArray scale = FloatArray.fromArray(NeoXKernels.bf16Scale());
        FloatArray b = DeviceArrays.bias(linear);
        IntArray layer = new IntArray(1);
        KernelContext ctx = new KernelContext();
        // Two graphs as for the stacks: few rows (decoding) and many (prefill); the second uses the first's weights.
        TaskGraph few = new TaskGraph("linear")
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, w.f32(), w.bf16(), scale, b, layer)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, x, meta)
                .task("matmul", NeoXKernels::linear, ctx, x, w.f32(), w.bf16(), b, x, w.f32(), w.bf16(), b, y, scale,
                        meta, layer, outFeatures, in, 0, 0, LayerTasks.linearRows(outFeatures), NeoXKernels.PLAIN,
                        w.format())
                .task("argmax", NeoXKernels::argmax, ctx, y, ids, meta, outFeatures)
                .persistOnDevice(w.f32(), w.bf16(), scale, b, layer)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, ids)
                .transferToHost(DataTransferMode.UNDER_DEMAND, y);
        grids.fixed("linear.matmul", NeoXKernels.LINEAR_GROUP, LayerTasks.linearItems(outFeatures));
        grids.perToken("linear.argmax", NeoXKernels.GROUP, NeoXKernels.GROUP);
        FloatArray unused = new FloatArray(1);
        TaskGraph many = new TaskGraph("linearMany")
                .consumeFromDevice("linear", w.f32(), w.bf16(), scale, b, layer)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, x, meta)
                .task("matmul", NeoXKernels::matmul, ctx, x, w.f32(), w.bf16(), b, unused, y, scale, meta, layer,
                        outFeatures, in, 0, NeoXKernels.PLAIN, w.format())
                .task("argmax", NeoXKernels::argmax, ctx, y, ids, meta, outFeatures)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, ids)
                .transferToHost(DataTransferMode.UNDER_DEMAND, y);
        DeviceArrays.freedWithPlan(many, unused);
        grids.tiles("linearMany.matmul", outFeatures);
        grids.perToken("linearMany.argmax", NeoXKernels.GROUP, NeoXKernels.GROUP);
        // In family order, so a graph's index in the plan is its family's ordinal.
        plan = new TornadoExecutionPlan(few.snapshot(), many.snapshot());
        plan.withDevice(device);
        // An empty call places the weights, which the many-row graph then finds on the device.
        run(0);
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

    /** Puts {@code rows} rows of {@code input} from row {@code from} into the input buffer. */
    void load(float[] input, int from, int rows) {
        DeviceArrays.put(input, from * in, x, rows * in);
    }

    private TornadoExecutionResult run(int rows) {
        return run(rows, LayerTasks.Family.of(rows));
    }

    /** One execution over the first {@code rows} rows of the input buffer with the given kernel family. */
    TornadoExecutionResult run(int rows, LayerTasks.Family family) {
        meta.set(0, rows);
        grids.resize(rows);
        try {
            return plan.withGraph(family.ordinal())
                    .withGridScheduler(grids.scheduler()).execute();
        } catch (RuntimeException e) {
            throw DeviceErrors.wrap(deviceName, "linear " + outFeatures + "x" + in, e);
        }
    }

    @Override
    public synchronized float[] apply(float[] input, int rows) {
        float[] result = new float[rows * outFeatures];
        for (int r0 = 0; r0 < rows; r0 += maxRows) {
            int n = Math.min(maxRows, rows - r0);
            execute(input, r0, n).transferToHost(y);
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
                result[r0 + i] = ids.get(i);
            }
        }
        return result;
    }

    synchronized void close() {
        try {
            plan.close();
        } catch (Exception e) {
            // Freeing device memory at shutdown: nothing useful to do on failure.
        }
    }
}
