package org.blocktransformer.bench.jmh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.blocktransformer.bench.Hardware;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the kernel benchmarks with JMH and prints each as a fraction of the limit measured by {@link PeakBench} on
 * the same machine: compute-bound numbers (GFLOP/s) against the FMA peak, memory-bound ones (GB/s) against the read
 * or copy bandwidth, with one-thread kernels against one-thread limits and multi-threaded ones against all-thread
 * limits.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar org.blocktransformer.bench.jmh.KernelReport [--quick] [--out DIR] [REGEX]
 * </pre>
 *
 * {@code --quick}: short iterations and fewer shapes (a few minutes); {@code --out DIR}: also write
 * {@code kernels.csv}, {@code kernels.md} and JMH's own {@code jmh.json}; REGEX: only benchmarks matching it (the
 * peak benchmarks always run).
 */
public final class KernelReport {

    /** One measured benchmark with its derived rates. */
    record Row(String benchmark, String params, double opsPerSecond, double gflops, double gbps, String limit,
               double fraction, String note) {
    }

    private KernelReport() {
    }

    public static void main(String[] args) throws RunnerException, IOException {
        boolean quick = false;
        Path out = null;
        String include = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--out" -> out = Path.of(args[++i]);
                case "-h", "--help" -> {
                    System.out.println("usage: KernelReport [--quick] [--out DIR] [REGEX]");
                    return;
                }
                default -> include = args[i];
            }
        }
        String pkg = KernelReport.class.getPackageName().replace(".", "\\.") + "\\.";
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(pkg + "PeakBench\\.")
                .include(pkg + (include == null ? "(MatmulBench|LayerStepBench|NormBench)\\." : ".*" + include))
                .forks(1)
                .shouldFailOnError(true);
        if (quick) {
            options.warmupIterations(2).warmupTime(TimeValue.milliseconds(300))
                    .measurementIterations(3).measurementTime(TimeValue.milliseconds(400))
                    .param("shape", "1536x512", "50304x512")
                    .param("context", "1", "5", "2048")
                    .param("hidden", "512");
            // Parameters shared by several benchmarks: the quick subset of each.
            options.param("batch", "1", "32");
            options.param("rows", "1", "256");
        } else {
            options.warmupIterations(3).warmupTime(TimeValue.seconds(1))
                    .measurementIterations(5).measurementTime(TimeValue.seconds(1));
        }
        if (out != null) {
            Files.createDirectories(out);
            options.resultFormat(ResultFormatType.JSON).result(out.resolve("jmh.json").toString());
        }
        Collection<RunResult> results = new Runner(options.build()).run();
        List<RunResult> ordered = new ArrayList<>(results);
        ordered.sort(java.util.Comparator.comparing(r -> name(r).startsWith("PeakBench") ? 0 : 1));
        List<Row> rows = rows(ordered);
        String table = markdown(rows, quick);
        System.out.println();
        System.out.println(table);
        if (out != null) {
            Files.writeString(out.resolve("kernels.md"), table);
            Files.writeString(out.resolve("kernels.csv"), csv(rows));
            System.out.println("wrote " + out.resolve("kernels.md") + ", " + out.resolve("kernels.csv") + ", "
                    + out.resolve("jmh.json"));
        }
    }

    static String name(RunResult r) {
        String full = r.getParams().getBenchmark();
        String[] parts = full.split("\\.");
        return parts[parts.length - 2] + "." + parts[parts.length - 1];
    }

    static int threads(RunResult r) {
        return r.getParams().getThreads();
    }

    static String param(RunResult r, String key) {
        return r.getParams().getParam(key);
    }

    static List<Row> rows(Collection<RunResult> results) {
        Map<String, Double> peaks = new LinkedHashMap<>();
        for (RunResult r : results) {
            String n = name(r);
            double ops = r.getPrimaryResult().getScore();
            switch (n) {
                case "PeakBench.fmaOneThread" -> peaks.put("fma1", ops * PeakBench.fmaFlops() / 1e9);
                case "PeakBench.fmaAllThreads" -> peaks.put("fmaN", ops * PeakBench.fmaFlops() / 1e9);
                case "PeakBench.copyOneThread" -> peaks.put("copy1", ops * PeakBench.copyBytes(1) / 1e9);
                case "PeakBench.copyAllThreads" -> peaks.put("copyN", ops * PeakBench.copyBytes(threads(r)) / 1e9);
                case "PeakBench.readOneThread" -> peaks.put("read1", ops * PeakBench.readBytes(1) / 1e9);
                case "PeakBench.readAllThreads" -> peaks.put("readN", ops * PeakBench.readBytes(threads(r)) / 1e9);
                default -> {
                }
            }
        }
        // Layer steps without attention (context 1), to isolate the attention's time.
        Map<String, Double> baseline = new LinkedHashMap<>();
        for (RunResult r : results) {
            if (name(r).equals("LayerStepBench.step") && param(r, "context").equals("1")) {
                baseline.put(param(r, "hidden") + "/" + param(r, "batch"), 1 / r.getPrimaryResult().getScore());
            }
        }
        List<Row> rows = new ArrayList<>();
        for (RunResult r : results) {
            String n = name(r);
            double ops = r.getPrimaryResult().getScore();
            String params = r.getParams().getParamsKeys().stream()
                    .map(k -> k + "=" + r.getParams().getParam(k)).reduce((a, b) -> a + " " + b).orElse("");
            switch (n) {
                case "PeakBench.fmaOneThread", "PeakBench.fmaAllThreads" -> {
                    double g = ops * PeakBench.fmaFlops() / 1e9;
                    rows.add(new Row(n, "", ops, g, Double.NaN, "limit", 1, "FMA peak, "
                            + PeakBench.S.length() + " float lanes, " + threads(r) + " thread(s)"));
                }
                case "PeakBench.copyOneThread", "PeakBench.copyAllThreads" -> rows.add(new Row(n, "", ops, Double.NaN,
                        ops * PeakBench.copyBytes(threads(r)) / 1e9, "limit", 1, "512 MiB arraycopy, read + write, "
                        + threads(r) + " thread(s)"));
                case "PeakBench.readOneThread", "PeakBench.readAllThreads" -> rows.add(new Row(n, "", ops, Double.NaN,
                        ops * PeakBench.readBytes(threads(r)) / 1e9, "limit", 1, "512 MiB vector sum, " + threads(r)
                        + " thread(s)"));
                case "MatmulBench.kernel", "MatmulBench.parallel" -> {
                    String shape = param(r, "shape");
                    int batch = Integer.parseInt(param(r, "batch"));
                    double g = ops * MatmulBench.flops(shape, batch) / 1e9;
                    double b = ops * MatmulBench.bytes(shape, batch, param(r, "dtype")) / 1e9;
                    boolean one = n.endsWith("kernel");
                    double fmaPeak = peaks.getOrDefault(one ? "fma1" : "fmaN", Double.NaN);
                    double readPeak = peaks.getOrDefault(one ? "read1" : "readN", Double.NaN);
                    // Small batches stream the weights (memory-bound); large ones are compute-bound.
                    double fFma = g / fmaPeak;
                    double fMem = b / readPeak;
                    boolean memory = fMem > fFma;
                    rows.add(new Row(n, params, ops, g, b, memory ? (one ? "read 1T" : "read all") : (one ? "FMA 1T"
                            : "FMA all"), memory ? fMem : fFma, String.format(Locale.ROOT,
                            "%.0f%% of FMA peak, %.0f%% of read bandwidth", 100 * fFma, 100 * fMem)));
                }
                case "LayerStepBench.step" -> {
                    int hidden = Integer.parseInt(param(r, "hidden"));
                    int context = Integer.parseInt(param(r, "context"));
                    int batch = Integer.parseInt(param(r, "batch"));
                    double t = 1 / ops;
                    double g = LayerStepBench.matmulFlops(hidden, batch) / t / 1e9;
                    Double t1 = baseline.get(hidden + "/" + batch);
                    if (context == 1 || t1 == null) {
                        rows.add(new Row(n, params, ops, g, Double.NaN, "FMA all", g / peaks.getOrDefault("fmaN",
                                Double.NaN), "layer without attention: matmuls, norms, GELU"));
                    } else {
                        double attention = t - t1;
                        if (attention < 0.05 * t) {
                            rows.add(new Row(n, params, ops, g, Double.NaN, "", Double.NaN, String.format(Locale.ROOT,
                                    "attention below the measurement's noise (step %.3f ms, without attention"
                                    + " %.3f ms)", t * 1e3, t1 * 1e3)));
                        } else {
                            double gbps = LayerStepBench.kvBytes(hidden, context, batch) / attention / 1e9;
                            rows.add(new Row(n, params, ops, g, gbps, "read all", gbps / peaks.getOrDefault("readN",
                                    Double.NaN), String.format(Locale.ROOT, "attention %.0f%% of the step (%.3f ms);"
                                    + " GB/s = KV bytes / attention time", 100 * attention / t, attention * 1e3)));
                        }
                    }
                }
                case "NormBench.layerNorm", "NormBench.gelu" -> {
                    int hidden = Integer.parseInt(param(r, "hidden"));
                    int rowsN = Integer.parseInt(param(r, "rows"));
                    double bytes = n.endsWith("gelu") ? NormBench.geluBytes(hidden, rowsN)
                            : NormBench.normBytes(hidden, rowsN);
                    double gbps = ops * bytes / 1e9;
                    rows.add(new Row(n, params, ops, Double.NaN, gbps, "copy 1T",
                            gbps / peaks.getOrDefault("copy1", Double.NaN),
                            "bytes read + written; small sizes run from the caches"));
                }
                default -> rows.add(new Row(n, params, ops, Double.NaN, Double.NaN, "", Double.NaN, ""));
            }
        }
        return rows;
    }

    static String fmt(double v, String pattern) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, pattern, v);
    }

    static String markdown(List<Row> rows, boolean quick) {
        StringBuilder sb = new StringBuilder();
        sb.append("Kernel benchmarks (JMH").append(quick ? ", quick mode" : "").append(") on ")
                .append(Hardware.describe()).append(", Java ").append(Runtime.version()).append("\n\n");
        sb.append("| benchmark | parameters | ops/s | GFLOP/s | GB/s | compared with | fraction | note |\n");
        sb.append("| --- | --- | ---: | ---: | ---: | --- | ---: | --- |\n");
        for (Row r : rows) {
            sb.append("| ").append(r.benchmark()).append(" | ").append(r.params()).append(" | ")
                    .append(fmt(r.opsPerSecond(), "%,.1f")).append(" | ").append(fmt(r.gflops(), "%.1f"))
                    .append(" | ").append(fmt(r.gbps(), "%.1f")).append(" | ").append(r.limit()).append(" | ")
                    .append(fmt(100 * r.fraction(), "%.0f%%")).append(" | ").append(r.note()).append(" |\n");
        }
        return sb.toString();
    }

    static String csv(List<Row> rows) {
        StringBuilder sb = new StringBuilder("benchmark,params,ops_per_s,gflops,gbps,limit,fraction,note\n");
        for (Row r : rows) {
            sb.append(r.benchmark()).append(',').append(r.params()).append(',').append(fmt(r.opsPerSecond(), "%.3f"))
                    .append(',').append(fmt(r.gflops(), "%.3f")).append(',').append(fmt(r.gbps(), "%.3f"))
                    .append(',').append(r.limit()).append(',').append(fmt(r.fraction(), "%.4f")).append(",\"")
                    .append(r.note().replace("\"", "\"\"")).append("\"\n");
        }
        return sb.toString();
    }
}
