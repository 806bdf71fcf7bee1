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
 * of the tiles; layer 1 of 2 stacked), every epilogue, the activations rounded by {@code toHalves} on the device:
 * the reference multiplies the float16-rounded activations by the float16 weights in float64, so the kernel's only
 * freedom is its float32 summation order (tolerance 1e-4). The rounding pass alone, bit for bit against the host's.
 *
 * <p>Whole golden block models with float16 weights, teacher-forced with enough rows that every stack call and the
 * head run the tensor-core family, against the CPU's float16-weights path (float32 activations): the difference is
 * the rounding of the activations to float16, {@link #TENSOR_LOGIT_TOLERANCE}.
 */
class TensorCoreTest {
    /**
     * Largest |logit difference| allowed between the tensor-core path and the CPU's float16-weights path on the
     * golden block models (logits up to about 8.6): the activations are rounded to float16 (relative 2^-11) at
     * every Linear layer's input. Measured on an H200, one model per process: 0.0041 (bt-prefix-l4), 0.0034
     * (bt-summation-l4), 0.0051 (bt-projection-l4), 0.0043 (bt-prefix-l2-r1); tested with a margin of about 2x.
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

    @ParameterizedTest(name = "mode {0}, n {1}, k {2}, {3} tokens, {4} k steps a slice")
    @CsvSource({"0,1025,37,3,0", "1,300,64,130,0", "2,128,96,257,0", "3,1000,200,129,0", "0,50,1030,17,0",
            "3,64,33,1,0", "0,200,1030,140,8", "3,130,300,20,3", "1,70,96,129,1", "3,1000,202,129,0",
            "2,384,2048,300,0"})
    void kernelMatchesFloat16Products(int mode, int n, int k, int tokens, int sliceSteps) {
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
        // The activations rounded on the device, as the model does (toHalves has its own test below).
        LongArray dxh = new LongArray(rows * MmaKernels.activationWords(k));
        TaskGraph g = new TaskGraph("mma")
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, dx, dw, db, dOther, y, meta, layer)
                .task("h", MmaKernels::toHalves, ctx, dx, dxh, meta, k)
                .task("k", MmaKernels::linear, ctx, dxh, dw, db, dOther, y, fragments, meta, layer, n, k,
                        steps, stride, 1, slices > 1 ? NeoXKernels.PARTIAL : mode, slices > 1 ? sliceSteps : steps,
                        sliceRows);
        if (slices > 1) {
            g.task("r", NeoXKernels::reduceSlices, ctx, fragments, db, dOther, y, meta, layer, n, slices, stride,
                    sliceRows * stride, 1, mode);
        }
        g.transferToHost(DataTransferMode.EVERY_EXECUTION, y);
        DeviceArrays.freedWithPlan(g, fragments, dxh);
        TornadoDevices.sketchDone("mma");
        WorkerGrid3D grid = new WorkerGrid3D(stride / MmaKernels.TILE_N * MmaKernels.THREADS,
                (tokens + MmaKernels.TILE_T - 1) / MmaKernels.TILE_T, slices);
        grid.setLocalWork(MmaKernels.THREADS, 1, 1);
        GridScheduler scheduler = new GridScheduler("mma.k", grid);
        WorkerGrid1D reduce = new WorkerGrid1D((tokens * n + 127) / 128 * 128);
        reduce.setLocalWork(128, 1, 1);
        scheduler.addWorkerGrid("mma.r", reduce);
        WorkerGrid1D halves = new WorkerGrid1D((tokens * MmaKernels.activationWords(k) + 127) / 128 * 128);
        halves.setLocalWork(128, 1, 1);
        scheduler.addWorkerGrid("mma.h", halves);
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

    @ParameterizedTest(name = "{0} tokens, k {1}")
    @CsvSource({"3,37", "130,1030", "1,16", "17,2048"})
    void halvesMatchTheHostPacking(int tokens, int k) {
        SplittableRandom r = new SplittableRandom(tokens * 31L + k);
        int rows = tokens + 2;
        float[] x = random(r, rows * k, 4);
        // Values float16 rounds up (ties, its largest finite value, past it to infinity) and subnormals.
        x[0] = 65504f;
        x[1 % k] = 1e-6f;
        x[2 % k] = -7e5f;
        x[(3 % k)] = 1.0009765625f + 0.00048828125f;
        int words = MmaKernels.activationWords(k);
        FloatArray dx = FloatArray.fromArray(x);
        LongArray xh = new LongArray(rows * words);
        IntArray meta = IntArray.fromElements(tokens);
        KernelContext ctx = new KernelContext();
        TaskGraph g = new TaskGraph("halves").transferToDevice(DataTransferMode.EVERY_EXECUTION, dx, meta)
                .task("h", MmaKernels::toHalves, ctx, dx, xh, meta, k)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, xh);
        WorkerGrid1D grid = new WorkerGrid1D((tokens * words + 127) / 128 * 128);
        grid.setLocalWork(128, 1, 1);
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot())) {
            plan.withDevice(device).withGridScheduler(new GridScheduler("halves.h", grid)).execute();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        long[] want = MmaKernels.packActivations(x, tokens, k);
        long[] got = xh.toHeapArray();
        // The live rows only: TornadoVM does not copy an array the kernel only writes to the device, so what the
        // rows past them hold there is not the host's.
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], "word " + i + " (token " + i / words + ")");
        }
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
