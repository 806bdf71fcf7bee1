package org.blocktransformer.tornado;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.blocktransformer.tornado.kernels.AttentionKernels;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.enums.ProfilerMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;

/**
 * Decode attention alone on a device: one new token per sequence attending over its whole context, for batches and
 * context lengths of the paper's scenarios, with the one-pass kernel ({@link NeoXKernels#attention}) and the split
 * one ({@link AttentionKernels}), float32 and float16 caches. It reports the keys' and values' bytes over the device
 * kernel time (TornadoVM's profiler) beside a device copy of a large buffer timed the same way, so "% of copy" is the
 * fraction of the bandwidth the card actually delivers. Shape: one layer of vanilla-410m (16 heads of 64).
 *
 * <pre>java @$TORNADOVM_HOME/tornado-argfile -cp ... org.blocktransformer.tornado.AttentionBenchmark --device ptx
 *     [--batches 1,16,64,256,1024] [--contexts 128,512,1152,2176] [--out attention.jsonl]</pre>
 */
public final class AttentionBenchmark {
    private static final int HEADS = 16;
    private static final int HEAD_SIZE = 64;
    private static final int D = HEADS * HEAD_SIZE;
    private static final int PAGE = 16;
    private static final int RUNS = 10;
    /** Most positions of all rows together: keeps the cache under TornadoVM's int indexing (2^31 elements). */
    private static final int MAX_POSITIONS = (Integer.MAX_VALUE - 64) / D / PAGE * PAGE;

    private AttentionBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        String device = "";
        int[] batches = {1, 16, 64, 256, 1024};
        int[] contexts = {128, 512, 1152, 2176};
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = args[++i];
                case "--batches" -> batches = ints(args[++i]);
                case "--contexts" -> contexts = ints(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--device B:D --batches B,... --contexts N,... --out F)");
            }
        }
        TornadoDevice chosen = TornadoDevices.choose(device);
        int positions = 0;
        for (int b : batches) {
            for (int c : contexts) {
                if ((long) b * roundUp(c) <= MAX_POSITIONS) {
                    positions = Math.max(positions, b * roundUp(c));
                }
            }
        }
        List<String> lines = new ArrayList<>();
        double copy = copyBandwidth(chosen, (long) positions * D);
        System.out.printf(Locale.ROOT, "device %s: copy %.0f GB/s (bytes read + written)%n%-8s %6s %7s %-7s %10s %9s %7s%n",
                TornadoDevices.describe(chosen), copy, "kernel", "batch", "context", "cache", "median us", "GB/s",
                "% copy");
        lines.add(String.format(Locale.ROOT, "{\"kernel\":\"copy\",\"gb_per_s\":%.1f}", copy));
        for (String kernel : new String[] {"one-pass", "split"}) {
            for (int format : new int[] {NeoXKernels.F32, NeoXKernels.F16}) {
                try (Case c = new Case(chosen, kernel.equals("split"), format, positions, Arrays.stream(batches).max()
                        .orElseThrow())) {
                    for (int b : batches) {
                        for (int n : contexts) {
                            if ((long) b * roundUp(n) > MAX_POSITIONS) {
                                continue;
                            }
                            double us = c.measure(b, n);
                            double bytes = 2.0 * b * n * D * (format == NeoXKernels.F16 ? 2 : 4);
                            double gbs = bytes / (us * 1e-6) / 1e9;
                            String cache = format == NeoXKernels.F16 ? "f16" : "f32";
                            System.out.printf(Locale.ROOT, "%-8s %6d %7d %-7s %10.1f %9.0f %6.1f%%%n", kernel, b, n,
                                    cache, us, gbs, 100 * gbs / copy);
                            lines.add(String.format(Locale.ROOT, "{\"kernel\":\"%s\",\"batch\":%d,\"context\":%d,"
                                    + "\"cache\":\"%s\",\"median_us\":%.2f,\"gb_per_s\":%.1f,\"copy_fraction\":%.3f}",
                                    kernel, b, n, cache, us, gbs, gbs / copy));
                        }
                    }
                }
            }
        }
        if (out != null) {
            Files.write(out, lines);
        }
    }

    private static int roundUp(int n) {
        return (n + PAGE - 1) / PAGE * PAGE;
    }

    private static int[] ints(String s) {
        return Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    /** GB/s of a device copy of {@code floats} floats (bytes read plus written), median of {@link #RUNS}. */
    private static double copyBandwidth(TornadoDevice device, long floats) {
        int n = DeviceArrays.checkedSize(Math.min(floats, 1L << 28));
        FloatArray src = new FloatArray(n);
        FloatArray dst = new FloatArray(n);
        IntArray meta = IntArray.fromElements(1);
        TaskGraph g = new TaskGraph("copybw")
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, src, meta)
                .task("k", NeoXKernels::copy, new KernelContext(), src, dst, meta, n);
        DeviceArrays.freedWithPlan(g, dst);
        WorkerGrid1D grid = new WorkerGrid1D(n);
        grid.setLocalWork(256, 1, 1);
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot())) {
            plan.withDevice(device).withGridScheduler(new GridScheduler("copybw.k", grid))
                    .withProfiler(ProfilerMode.SILENT);
            long[] t = new long[RUNS];
            for (int i = 0; i < RUNS + 2; i++) {
                long k = plan.execute().getProfilerResult().getDeviceKernelTime();
                if (i >= 2) {
                    t[i - 2] = k;
                }
            }
            Arrays.sort(t);
            return 2.0 * n * Float.BYTES / (t[RUNS / 2] * 1e-9) / 1e9;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** One kernel and cache format, the cache sized for the largest case, filled once with pseudo-random values. */
    private static final class Case implements AutoCloseable {
        private final boolean split;
        private final int chunks;
        private final IntArray meta = new IntArray(4);
        private final IntArray tokenPos;
        private final IntArray tokenRow;
        private final IntArray rowStart;
        private final IntArray pages;
        private final WorkerGrid1D attn = new WorkerGrid1D(NeoXKernels.GROUP);
        private final WorkerGrid1D comb = new WorkerGrid1D(NeoXKernels.GROUP);
        private final TornadoExecutionPlan plan;

        Case(TornadoDevice device, boolean split, int format, int positions, int maxBatch) {
            this.split = split;
            this.chunks = (2176 + AttentionKernels.CHUNK - 1) / AttentionKernels.CHUNK;
            int slots = Math.max(PAGE, positions);
            boolean half = format == NeoXKernels.F16;
            int size = DeviceArrays.checkedSize((long) slots * D);
            int words = DeviceArrays.checkedSize((long) slots * HEADS * NeoXKernels.halfWords(HEAD_SIZE));
            FloatArray keys = new FloatArray(half ? 1 : size);
            FloatArray values = new FloatArray(half ? 1 : size);
            LongArray keysPacked = new LongArray(half ? words : 1);
            LongArray valuesPacked = new LongArray(half ? words : 1);
            // Values in [-1, 1) from a hash of the index: not zeros, and cheap for gigabytes.
            IntStream.range(0, half ? words : size).parallel().forEach(i -> {
                if (half) {
                    int[] b = new int[4];
                    for (int k = 0; k < 4; k++) {
                        b[k] = Float.floatToFloat16(hashed(4 * i + k));
                    }
                    keysPacked.set(i, NeoXKernels.packHalves(b[0], b[1], b[2], b[3]));
                    valuesPacked.set(i, NeoXKernels.packHalves(b[3], b[2], b[1], b[0]));
                } else {
                    keys.set(i, hashed(i));
                    values.set(i, -hashed(i));
                }
            });
            FloatArray q = new FloatArray(maxBatch * D);
            for (int i = 0; i < q.getSize(); i++) {
                q.set(i, (float) Math.sin(i));
            }
            FloatArray out = new FloatArray(maxBatch * D);
            FloatArray partial = new FloatArray(maxBatch * HEADS * chunks * (HEAD_SIZE + 2));
            FloatArray scale = FloatArray.fromArray(NeoXKernels.bf16Scale());
            IntArray layer = new IntArray(1);
            tokenPos = new IntArray(maxBatch);
            tokenRow = new IntArray(maxBatch);
            rowStart = new IntArray(maxBatch);
            pages = new IntArray(Math.max(1, slots / PAGE));
            KernelContext ctx = new KernelContext();
            String name = "attnbench" + (split ? "s" : "o") + format;
            TaskGraph g = new TaskGraph(name)
                    .transferToDevice(DataTransferMode.FIRST_EXECUTION, keys, values, keysPacked, valuesPacked, q, scale,
                            layer)
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, meta, tokenPos, tokenRow, rowStart, pages);
            GridScheduler scheduler = new GridScheduler();
            attn.setLocalWork(NeoXKernels.GROUP, 1, 1);
            comb.setLocalWork(NeoXKernels.GROUP, 1, 1);
            if (split) {
                g.task("a", AttentionKernels::attentionChunks, ctx, q, keys, values, keysPacked, valuesPacked, scale,
                                partial, meta, layer, tokenPos, tokenRow, rowStart, pages, HEADS, HEAD_SIZE, PAGE, slots,
                                chunks, format)
                        .task("c", AttentionKernels::combineChunks, ctx, partial, out, meta, tokenPos, HEADS,
                                HEAD_SIZE, chunks);
                scheduler.addWorkerGrid(name + ".c", comb);
            } else {
                g.task("a", NeoXKernels::attention, ctx, q, keys, values, keysPacked, valuesPacked, scale, out, meta, layer,
                        tokenPos, tokenRow, rowStart, pages, HEADS, HEAD_SIZE, PAGE, slots,
                        (float) (1 / Math.sqrt(HEAD_SIZE)), format);
            }
            scheduler.addWorkerGrid(name + ".a", attn);
            DeviceArrays.freedWithPlan(g, out, partial);
            plan = new TornadoExecutionPlan(g.snapshot());
            plan.withDevice(device).withGridScheduler(scheduler).withProfiler(ProfilerMode.SILENT);
        }

        /** A value in [-1, 1) from a hash of {@code i}. */
        private static float hashed(int i) {
            return ((i * 0x9E3779B1) >>> 8) / (float) (1 << 23) - 1f;
        }

        /** Median kernel time in microseconds of {@code batch} sequences at context {@code n}. */
        double measure(int batch, int n) {
            int perRow = roundUp(n) / PAGE;
            for (int r = 0; r < batch; r++) {
                tokenPos.set(r, n - 1);
                tokenRow.set(r, r);
                rowStart.set(r, r * perRow);
            }
            // Rows' pages interleaved across the cache, as a paged pool scatters them.
            for (int p = 0; p < batch * perRow; p++) {
                pages.set(p, (p % batch) * perRow + p / batch);
            }
            meta.set(0, batch);
            attn.setGlobalWork((long) batch * HEADS * (split ? chunks : 1) * NeoXKernels.GROUP, 1, 1);
            comb.setGlobalWork((long) batch * HEADS * NeoXKernels.GROUP, 1, 1);
            long[] t = new long[RUNS];
            for (int i = 0; i < RUNS + 2; i++) {
                long k = plan.execute().getProfilerResult().getDeviceKernelTime();
                if (i >= 2) {
                    t[i - 2] = k;
                }
            }
            Arrays.sort(t);
            return t[RUNS / 2] / 1e3;
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
}
