package org.blocktransformer.tornado;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.tornado.kernels.MmaKernels;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import org.blocktransformer.tornado.kernels.PackedDecodeKernels;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.enums.ProfilerMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * Times the many-token Linear kernels alone on a device, in TFLOP/s of {@code 2 M N K} over the device's kernel
 * time (TornadoVM's profiler: CUDA or OpenCL events), and checks each against a float64 product of the operands
 * the kernel saw (float16-rounded activations and weights for the tensor-core kernel, float32 for the tiled one) on
 * sampled cells. One JSON object per line (shape, M, kernel, median and best time, TFLOP/s, max error) goes to
 * {@code --out}; {@code scripts/gemm-gpu} runs it beside cuBLAS (PyTorch) and prints the fractions. The decode kernel
 * ({@code few-f32}, {@code few-f16}: what calls of up to {@link LayerTasks#FEW_TOKENS} tokens use; {@code
 * few-packed}: the same calls on the tensor-core path, {@link PackedDecodeKernels}) is there to
 * measure where the many-token kernels start to pay.
 *
 * <pre>java @$TORNADOVM_HOME/tornado-argfile -cp gpu-benchmarks.jar org.blocktransformer.tornado.GemmBenchmark
 *     --device 1:0 [--shapes 3072x1024,...] [--tokens 64,256,1024,4096] [--kernels mma,tiled-f32,tiled-f16,few-f32,few-f16,few-packed]
 *     [--out gemm.jsonl]</pre>
 */
public final class GemmBenchmark {
    /** The Linear layers of vanilla-410m and block-b4-1.2b, outputs x inputs. */
    static final String SHAPES = "3072x1024,4096x1024,1024x4096,1024x1024,50304x1024,"
            + "6144x2048,8192x2048,2048x8192,2048x2048,50304x2048";
    private static final int WARMUP = 3;
    private static final int RUNS = 10;
    private static final int CHECKED_CELLS = 1024;

    private GemmBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        String device = "";
        String shapes = SHAPES;
        String tokens = "64,256,1024,4096";
        String kernels = "mma,tiled-f32,tiled-f16";
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = args[++i];
                case "--shapes" -> shapes = args[++i];
                case "--tokens" -> tokens = args[++i];
                case "--kernels" -> kernels = args[++i];
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--device B:D --shapes NxK,... --tokens M,... --kernels mma,tiled-f32,tiled-f16,few-f32,few-f16,few-packed"
                                + " --out F)");
            }
        }
        TornadoDevice chosen = TornadoDevices.choose(device);
        int[] ms = Arrays.stream(tokens.split(",")).mapToInt(Integer::parseInt).toArray();
        List<String> lines = new ArrayList<>();
        System.out.printf(Locale.ROOT, "device %s%n%-12s %5s %-10s %10s %9s %10s%n", TornadoDevices.describe(chosen),
                "shape", "M", "kernel", "median us", "TFLOP/s", "max err");
        for (String shape : shapes.split(",")) {
            String[] nk = shape.split("x");
            int n = Integer.parseInt(nk[0]);
            int k = Integer.parseInt(nk[1]);
            for (String kernel : kernels.split(",")) {
                try (Case c = new Case(chosen, kernel, n, k, Arrays.stream(ms).max().orElseThrow())) {
                    for (int m : ms) {
                        String line = c.measure(m);
                        lines.add(line);
                    }
                }
            }
        }
        if (out != null) {
            Files.write(out, lines);
        }
    }

    /** One kernel on one weight shape, buffers sized for the most tokens. */
    private static final class Case implements AutoCloseable {
        private final String kernel;
        private final int n;
        private final int k;
        private final float[] xHost;
        private final float[] wHost;
        private final float[] biasHost;
        private final FloatArray x;
        private final FloatArray y;
        private final IntArray meta = new IntArray(4);
        private final TornadoExecutionPlan plan;
        private final WorkerGrid2D grid;
        private final GridScheduler scheduler;
        private final WorkerGrid1D poisonGrid;
        private final WorkerGrid1D halvesGrid = new WorkerGrid1D(128);
        private final boolean mma;
        private final boolean few;

        Case(TornadoDevice device, String kernel, int n, int k, int maxTokens) {
            this.kernel = kernel;
            this.n = n;
            this.k = k;
            SplittableRandom r = new SplittableRandom(31L * n + k);
            xHost = new float[maxTokens * k];
            for (int i = 0; i < xHost.length; i++) {
                xHost[i] = (float) r.nextGaussian();
            }
            wHost = new float[n * k];
            double std = 1 / Math.sqrt(k);
            for (int i = 0; i < wHost.length; i++) {
                wHost[i] = (float) (std * r.nextGaussian());
            }
            biasHost = new float[n];
            for (int i = 0; i < n; i++) {
                biasHost[i] = (float) (0.1 * r.nextGaussian());
            }
            mma = kernel.equals("mma");
            few = kernel.startsWith("few-");
            short[] half = null;
            if (mma || kernel.endsWith("-f16") || kernel.equals("few-packed")) {
                half = new short[wHost.length];
                for (int i = 0; i < half.length; i++) {
                    half[i] = F16Matrix.fromFloat(wHost[i]);
                    wHost[i] = F16Matrix.toFloat(half[i]);
                }
            }
            x = FloatArray.fromArray(xHost);
            y = new FloatArray(DeviceArrays.checkedSize((long) maxTokens * n));
            FloatArray bias = FloatArray.fromArray(biasHost);
            IntArray layer = new IntArray(1);
            FloatArray unused = new FloatArray(1);
            KernelContext ctx = new KernelContext();
            String name = "gemm" + kernel.replace("-", "") + n + "x" + k;
            TaskGraph poison = new TaskGraph("poison" + name)
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, meta)
                    .task("k", GemmBenchmark::poison, ctx, y, meta, n)
                    .persistOnDevice(y, meta);
            poisonGrid = new WorkerGrid1D(256);
            poisonGrid.setLocalWork(256, 1, 1);
            TaskGraph tg;
            if (mma) {
                LongArray w = LongArray.fromArray(MmaKernels.packWeights(new short[][] {half}, n, k));
                int stride = MmaKernels.roundUp(n, MmaKernels.TILE_N);
                FloatArray scratch = new FloatArray(DeviceArrays.checkedSize(
                        (long) MmaKernels.roundUp(maxTokens, MmaKernels.TILE_T) * stride));
                TornadoDevices.sketchOn(name, device);
                // Timed with the pass that rounds the activations to float16, as a model pays it.
                LongArray xh = new LongArray(DeviceArrays.checkedSize(
                        (long) maxTokens * MmaKernels.activationWords(k)));
                tg = new TaskGraph(name)
                        .consumeFromDevice(poison.getTaskGraphName(), y, meta)
                        .transferToDevice(DataTransferMode.FIRST_EXECUTION, x, w, bias, layer, unused)
                        .task("h", MmaKernels::toHalves, ctx, x, xh, meta, k)
                        .task("k", MmaKernels::linear, ctx, xh, w, bias, unused, y, scratch, meta, layer, n, k,
                                MmaKernels.kSteps(k), stride, 0, NeoXKernels.PLAIN, MmaKernels.kSteps(k), 0);
                DeviceArrays.freedWithPlan(tg, y, scratch, xh);
                halvesGrid.setLocalWork(128, 1, 1);
                grid = new WorkerGrid2D(MmaKernels.THREADS, 1);
                grid.setLocalWork(MmaKernels.THREADS, 1, 1);
            } else if (kernel.equals("few-packed")) {
                // The decode kernel of the tensor-core path (calls of up to LayerTasks.FEW_TOKENS tokens there).
                LongArray w = LongArray.fromArray(MmaKernels.packWeights(new short[][] {half}, n, k));
                FloatArray scale = FloatArray.fromArray(NeoXKernels.bf16Scale());
                tg = new TaskGraph(name)
                        .consumeFromDevice(poison.getTaskGraphName(), y, meta)
                        .transferToDevice(DataTransferMode.FIRST_EXECUTION, x, w, bias, layer, scale)
                        .task("k", PackedDecodeKernels::linear, ctx, x, w, bias, x, w, bias, y, scale, meta, layer, n,
                                k, 0, 0, NeoXKernels.PLAIN);
                DeviceArrays.freedWithPlan(tg, y);
                grid = new WorkerGrid2D(Math.toIntExact(PackedDecodeKernels.items(n)), 1);
                grid.setLocalWork(PackedDecodeKernels.GROUP, 1, 1);
            } else if (few) {
                // The decode kernel the model routes calls of up to LayerTasks.FEW_TOKENS tokens to elsewhere.
                boolean f16 = kernel.endsWith("-f16");
                FloatArray wf = f16 ? new FloatArray(1) : FloatArray.fromArray(wHost);
                ShortArray wh = f16 ? ShortArray.fromArray(half) : new ShortArray(1);
                FloatArray scale = FloatArray.fromArray(NeoXKernels.bf16Scale());
                tg = new TaskGraph(name)
                        .consumeFromDevice(poison.getTaskGraphName(), y, meta)
                        .transferToDevice(DataTransferMode.FIRST_EXECUTION, x, wf, wh, bias, layer, scale)
                        .task("k", NeoXKernels::linear, ctx, x, wf, wh, bias, x, wf, wh, bias, y, scale, meta, layer,
                                n, k, 0, 0, LayerTasks.linearRows(n), NeoXKernels.PLAIN,
                                f16 ? NeoXKernels.F16 : NeoXKernels.F32);
                DeviceArrays.freedWithPlan(tg, y);
                grid = new WorkerGrid2D(Math.toIntExact(LayerTasks.linearItems(n)), 1);
                grid.setLocalWork(NeoXKernels.LINEAR_GROUP, 1, 1);
            } else {
                boolean f16 = kernel.equals("tiled-f16");
                FloatArray wf = f16 ? new FloatArray(1) : FloatArray.fromArray(wHost);
                ShortArray wh = f16 ? ShortArray.fromArray(half) : new ShortArray(1);
                FloatArray scale = FloatArray.fromArray(NeoXKernels.bf16Scale());
                tg = new TaskGraph(name)
                        .consumeFromDevice(poison.getTaskGraphName(), y, meta)
                        .transferToDevice(DataTransferMode.FIRST_EXECUTION, x, wf, wh, bias, layer, unused, scale)
                        .task("k", NeoXKernels::matmul, ctx, x, wf, wh, bias, unused, y, scale, meta, layer, n, k, 0,
                                NeoXKernels.PLAIN, f16 ? NeoXKernels.F16 : NeoXKernels.F32, k, 0);
                DeviceArrays.freedWithPlan(tg, y);
                grid = new WorkerGrid2D(NeoXKernels.TILE, NeoXKernels.TILE);
                grid.setLocalWork(NeoXKernels.TILE, NeoXKernels.TILE, 1);
            }
            scheduler = new GridScheduler(name + ".k", grid);
            if (mma) {
                scheduler.addWorkerGrid(name + ".h", halvesGrid);
            }
            scheduler.addWorkerGrid(poison.getTaskGraphName() + ".k", poisonGrid);
            plan = new TornadoExecutionPlan(poison.snapshot(), tg.snapshot());
            TornadoDevices.sketchDone(name);
            plan.withDevice(device).withGridScheduler(scheduler).withProfiler(ProfilerMode.SILENT);
        }

        String measure(int m) {
            meta.set(0, m);
            if (mma) {
                grid.setGlobalWork((long) (n + MmaKernels.TILE_N - 1) / MmaKernels.TILE_N * MmaKernels.THREADS,
                        (m + MmaKernels.TILE_T - 1) / MmaKernels.TILE_T, 1);
                halvesGrid.setGlobalWork(((long) m * MmaKernels.activationWords(k) + 127) / 128 * 128, 1, 1);
            } else if (!few) {
                long blocks = (n + NeoXKernels.BLOCK - 1) / NeoXKernels.BLOCK;
                grid.setGlobalWork(blocks * NeoXKernels.TILE, (long) (m + NeoXKernels.BLOCK - 1) / NeoXKernels.BLOCK
                        * NeoXKernels.TILE, 1);
            }
            poisonGrid.setGlobalWork(((long) m * n + 255) / 256 * 256, 1, 1);
            plan.withGridScheduler(scheduler);
            long[] times = new long[RUNS];
            for (int i = 0; i < WARMUP + RUNS; i++) {
                plan.withGraph(0).execute();
                long t = plan.withGraph(1).execute().getProfilerResult().getDeviceKernelTime();
                if (i >= WARMUP) {
                    times[i - WARMUP] = t;
                }
            }
            // Poisoned, then one product: every live cell must be written by it.
            plan.withGraph(0).execute();
            plan.withGraph(1).execute().transferToHost(y);
            double err = check(m);
            Arrays.sort(times);
            double median = times[RUNS / 2] / 1e3;
            double tflops = 2.0 * m * n * k / (median * 1e-6) / 1e12;
            String json = String.format(Locale.ROOT, "{\"n\":%d,\"k\":%d,\"m\":%d,\"kernel\":\"%s\",\"median_us\":%.2f,"
                    + "\"best_us\":%.2f,\"tflops\":%.2f,\"max_err\":%.3g}", n, k, m, kernel, median, times[0] / 1e3,
                    tflops, err);
            System.out.printf(Locale.ROOT, "%-12s %5d %-10s %10.1f %9.2f %10.2e%n", n + "x" + k, m, kernel, median,
                    tflops, err);
            return json;
        }

        /** Largest |device - reference| over sampled cells (every cell must have been written). */
        private double check(int m) {
            SplittableRandom r = new SplittableRandom(m);
            double worst = 0;
            for (int c = 0; c < CHECKED_CELLS; c++) {
                int t = c == 0 ? m - 1 : r.nextInt(m);
                int j = c == 1 ? n - 1 : r.nextInt(n);
                double want = biasHost[j];
                for (int i = 0; i < k; i++) {
                    float xv = xHost[t * k + i];
                    if (mma) {
                        xv = Float.float16ToFloat(Float.floatToFloat16(xv));
                    }
                    want += (double) xv * wHost[j * k + i];
                }
                double got = y.get(t * n + j);
                double diff = Math.abs(got - want);
                if (!(diff <= worst)) {
                    worst = Double.isNaN(diff) ? Double.NaN : diff;
                    if (Double.isNaN(diff)) {
                        return Double.NaN;
                    }
                }
            }
            return worst;
        }

        @Override
        public void close() {
            try {
                plan.close();
            } catch (Exception e) {
                // Freeing device memory at the end of a case: nothing to do on failure.
            }
        }
    }

    /** {@code y[i] = NaN} for the live tokens' cells: outputs a kernel leaves unwritten then fail the check. */
    public static void poison(KernelContext ctx, FloatArray y, IntArray meta, int width) {
        int i = ctx.globalIdx;
        if (i < meta.get(0) * width) {
            y.set(i, Float.NaN);
        }
    }
}
