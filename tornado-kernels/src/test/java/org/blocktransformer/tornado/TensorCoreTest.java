package org.blocktransformer.tornado;

import static org.blocktransformer.tornado.TornadoTestSupport.assertClose;
import static org.blocktransformer.tornado.TornadoTestSupport.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.blocktransformer.loader.Checkpoints;
import org.blocktransformer.loader.Golden;
import org.blocktransformer.loader.safetensors.SafetensorsFile;
import org.blocktransformer.model.cpu.CpuBackend;
import org.blocktransformer.model.neox.Gelu;
import org.blocktransformer.model.runtime.BlockRunner;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.WeightFormat;
import org.blocktransformer.tornado.kernels.MmaKernels;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid3D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;

/**
 * The tensor-core family on a PTX device (TornadoVM lowers its MMA intrinsics there only; elsewhere these tests are
 * skipped, saying so).
 *
 * <p>The kernel alone against plain Java on random data of awkward sizes (n, k and the token count not multiples
 * of the tiles; layer 1 of 2 stacked), every epilogue: the reference multiplies the float16-rounded activations by
 * the float16 weights in float64, so the kernel's only freedom is its float32 summation order (tolerance 1e-4).
 *
 * <p>Whole golden block models with float16 weights, teacher-forced with enough rows that every stack call and the
 * head run the tensor-core family, against the CPU's float16-weights path (float32 activations): the difference is
 * the rounding of the activations to float16, {@link #TENSOR_LOGIT_TOLERANCE}.
 */
class TensorCoreTest {
    /**
     * Largest |logit difference| allowed between the tensor-core path and the CPU's float16-weights path on the
     * golden block models (logits up to about 8.6): the activations are rounded to float16 (relative 2^-11) at
     * every Linear layer's input. Measured on an H200: 0.0034 for bt-summation-l4 (the other models not yet run
     * there); tested with a margin of about 3x.
     */
    static final double TENSOR_LOGIT_TOLERANCE = 0.01;

    private static TornadoDevice device;

    @BeforeAll
    static void open() {
        String reason = TornadoDevices.unavailableReason();
        assumeTrue(reason == null, "SKIPPED: " + reason);
        device = TornadoDevices.choose(System.getProperty("bt.tornado.device", ""));
        assumeTrue(TornadoDevices.isPtx(device), "SKIPPED: the tensor-core kernels need a PTX device (TornadoVM"
                + " lowers mma.sync only there); " + TornadoDevices.describe(device) + " is not one");
    }

    @ParameterizedTest(name = "mode {0}, n {1}, k {2}, {3} tokens, {4} k steps a slice, float16 input {5}")
    @CsvSource({"0,1025,37,3,0,0", "1,300,64,130,0,0", "2,128,96,257,0,0", "3,1000,200,129,0,0", "0,50,1030,17,0,0",
            "3,64,33,1,0,0", "0,200,1030,140,8,0", "3,130,300,20,3,0", "1,70,96,129,1,0", "0,1025,37,3,0,1",
            "3,1000,202,129,0,1", "0,200,1030,140,8,1", "2,128,96,257,0,1"})
    void kernelMatchesFloat16Products(int mode, int n, int k, int tokens, int sliceSteps, int halfInput) {
        SplittableRandom r = new SplittableRandom(mode * 131L + n + k + tokens);
        int layers = 2;
        int rows = tokens + 3;
        float[] x = random(r, rows * k, 1);
        float[] w = random(r, layers * n * k, 1 / Math.sqrt(k));
        float[] bias = random(r, layers * n, 0.1);
        float[] other = random(r, rows * n, 1);
        float[] y0 = random(r, rows * n, 1);
        short[][] bits = new short[layers][n * k];
        float[] wf = new float[w.length];
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < n * k; i++) {
                bits[l][i] = Float.floatToFloat16(w[l * n * k + i]);
                wf[l * n * k + i] = Float.float16ToFloat(bits[l][i]);
            }
        }
        int stride = MmaKernels.roundUp(n, MmaKernels.TILE_N);
        FloatArray dx = FloatArray.fromArray(x);
        LongArray dw = LongArray.fromArray(MmaKernels.packWeights(bits, n, k));
        FloatArray db = FloatArray.fromArray(bias);
        FloatArray dOther = FloatArray.fromArray(other);
        FloatArray y = FloatArray.fromArray(y0);
        FloatArray fragments = new FloatArray(MmaKernels.roundUp(rows, MmaKernels.TILE_T) * stride);
        IntArray meta = IntArray.fromElements(tokens);
        IntArray layer = IntArray.fromElements(1);
        // sliceSteps > 0: split-k, slices of that many k steps into the fragment buffer, then the reduce step.
        int steps = MmaKernels.kSteps(k);
        int slices = sliceSteps > 0 ? (steps + sliceSteps - 1) / sliceSteps : 1;
        int sliceRows = MmaKernels.roundUp(rows, MmaKernels.TILE_T);
        if (slices > 1) {
            fragments = new FloatArray(slices * sliceRows * stride);
        }
        KernelContext ctx = new KernelContext();
        TornadoDevices.sketchOn("mma", device);
        // halfInput = 1: the kernel reads the activations already float16, four to a word (the same rounding).
        LongArray dxh = halfInput == 1 ? LongArray.fromArray(MmaKernels.packActivations(x, rows, k)) : dw;
        TaskGraph g = new TaskGraph("mma")
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, dx, dw, db, dOther, y, meta, layer);
        if (halfInput == 1) {
            g.transferToDevice(DataTransferMode.EVERY_EXECUTION, dxh);
        }
        g.task("k", MmaKernels::linear, ctx, dx, dxh, halfInput, dw, db, dOther, y, fragments, meta, layer, n, k,
                steps, stride, 1, slices > 1 ? NeoXKernels.PARTIAL : mode, slices > 1 ? sliceSteps : steps,
                sliceRows);
        if (slices > 1) {
            g.task("r", NeoXKernels::reduceSlices, ctx, fragments, db, dOther, y, meta, layer, n, slices, stride,
                    sliceRows * stride, 1, mode);
        }
        g.transferToHost(DataTransferMode.EVERY_EXECUTION, y);
        DeviceArrays.freedWithPlan(g, fragments);
        TornadoDevices.sketchDone("mma");
        WorkerGrid3D grid = new WorkerGrid3D(stride / MmaKernels.TILE_N * MmaKernels.THREADS,
                (tokens + MmaKernels.TILE_T - 1) / MmaKernels.TILE_T, slices);
        grid.setLocalWork(MmaKernels.THREADS, 1, 1);
        GridScheduler scheduler = new GridScheduler("mma.k", grid);
        WorkerGrid1D reduce = new WorkerGrid1D((tokens * n + 127) / 128 * 128);
        reduce.setLocalWork(128, 1, 1);
        scheduler.addWorkerGrid("mma.r", reduce);
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot())) {
            plan.withDevice(device).withGridScheduler(scheduler).execute();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }

        float[] want = y0.clone();
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int c = 0; c < k; c++) {
                    s += (double) Float.float16ToFloat(Float.floatToFloat16(x[t * k + c])) * wf[(n + j) * k + c];
                }
                float a = (float) s + bias[n + j];
                int at = t * n + j;
                want[at] = switch (mode) {
                    case NeoXKernels.GELU -> Gelu.apply(a);
                    case NeoXKernels.ADD -> a + y0[at];
                    case NeoXKernels.ADD_PAIR -> (a + other[at]) + y0[at];
                    default -> a;
                };
            }
        }
        // Rows past the live tokens must be untouched.
        assertClose("tensor-core linear, mode " + mode, want, y.toHeapArray(), 1e-4);
        assertEquals(want.length, y.getSize());
    }

    @ParameterizedTest
    @ValueSource(strings = {"bt-prefix-l4", "bt-summation-l4", "bt-projection-l4", "bt-prefix-l2-r1"})
    void goldenLogitsStayNearTheCpuFloat16Path(String model) {
        Path p = Golden.path(model);
        BlockWeights weights = (BlockWeights) Checkpoints.load(p, WeightFormat.F16);
        try (var data = SafetensorsFile.open(p.resolve("golden.safetensors"));
             var backend = TornadoTestSupport.backend(); var cpu = new CpuBackend(1)) {
            long[] shape = data.info("fwd_input_ids").shape();
            int[] ids = Arrays.stream(data.longs("fwd_input_ids",
                    Arrays.stream(shape).mapToInt(Math::toIntExact).toArray())).mapToInt(Math::toIntExact).toArray();
            // 24 rows: the block decoder and the token decoder each see more than 16 positions per call.
            int[][] rows = new int[24][];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = ids;
            }
            var expected = new BlockRunner(weights, cpu).teacherForced(rows);
            var actual = new BlockRunner(weights, backend).teacherForced(rows);
            double worst = 0;
            for (int i = 0; i < expected.logits().length; i++) {
                worst = Math.max(worst, Math.abs(expected.logits()[i] - actual.logits()[i]));
            }
            System.out.printf("%s: tensor cores vs the CPU's float16 path: max |logit diff| %.4g%n", model, worst);
            assertClose(model + " logits", expected.logits(), actual.logits(), TENSOR_LOGIT_TOLERANCE);
        }
    }
}
