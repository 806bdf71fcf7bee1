package org.blocktransformer.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.blocktransformer.bench.jmh.PeakBench;

/**
 * What the machine can do at most, the two ceilings a generation step meets: bytes read per second from memory
 * and floating-point operations per second. Measured on the CPU in about a second (all threads reading a
 * 256 MiB array with vector loads; all threads running independent FMA chains: {@link PeakBench}'s probes), or
 * given for a device ({@code bt bench --limits GB/s:TFLOP/s}).
 *
 * @param source where the figures come from, e.g. "measured, 16 threads" or "given"
 */
public record MachineLimits(double bytesPerSecond, double flopsPerSecond, String source) {

    public MachineLimits {
        if (!(bytesPerSecond > 0) || !(flopsPerSecond > 0)) {
            throw new IllegalArgumentException("machine limits must be positive: " + bytesPerSecond + " B/s, "
                    + flopsPerSecond + " FLOP/s");
        }
    }

    /** Parses "GB/s:TFLOP/s", e.g. "4300:790" for an H200's copy bandwidth and 16-bit matrix rate. */
    public static MachineLimits parse(String s) {
        String[] parts = s.split(":");
        try {
            if (parts.length == 2) {
                return new MachineLimits(Double.parseDouble(parts[0]) * 1e9, Double.parseDouble(parts[1]) * 1e12,
                        "given (" + s + ")");
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new IllegalArgumentException("--limits takes GB/s:TFLOP/s, e.g. 4300:790, not '" + s + "'");
    }

    /** Both ceilings of this CPU with {@code threads} threads (0 = all), best of three short runs each. */
    public static MachineLimits measureCpu(int threads) {
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        float[] data = new float[64 << 20];
        java.util.Arrays.fill(data, 1f);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            double best = 0;
            double flops = 0;
            for (int round = 0; round < 3; round++) {
                long t0 = System.nanoTime();
                all(pool, n, i -> PeakBench.read(data, (int) ((long) data.length * i / n),
                        (int) ((long) data.length * (i + 1) / n)));
                best = Math.max(best, (double) data.length * Float.BYTES / ((System.nanoTime() - t0) * 1e-9));
                int reps = 200;
                long t1 = System.nanoTime();
                all(pool, n, i -> {
                    float s = 0;
                    for (int r = 0; r < reps; r++) {
                        s += PeakBench.fma(1.0000001f + s * 1e-30f, 0.9999999f);
                    }
                    return s;
                });
                flops = Math.max(flops, (double) PeakBench.fmaFlops() * reps * n / ((System.nanoTime() - t1) * 1e-9));
            }
            return new MachineLimits(best, flops, String.format(Locale.ROOT, "measured, %d threads", n));
        } finally {
            pool.shutdownNow();
        }
    }

    private interface Work {
        float run(int thread);
    }

    private static void all(ExecutorService pool, int n, Work w) {
        List<Future<Float>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int t = i;
            Callable<Float> c = () -> w.run(t);
            fs.add(pool.submit(c));
        }
        for (Future<Float> f : fs) {
            try {
                f.get();
            } catch (Exception e) {
                throw new IllegalStateException("measuring the machine's limits failed", e);
            }
        }
    }

    /** "21.3 GB/s, 154 GFLOP/s (measured, 2 threads)". */
    public String describe() {
        return String.format(Locale.ROOT, "%.1f GB/s, %.0f GFLOP/s (%s)", bytesPerSecond / 1e9, flopsPerSecond / 1e9,
                source);
    }
}
