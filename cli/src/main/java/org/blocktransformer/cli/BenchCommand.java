package org.blocktransformer.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.blocktransformer.bench.BenchPlan;
import org.blocktransformer.bench.BenchRunner;
import org.blocktransformer.bench.Hardware;
import org.blocktransformer.bench.ModelPair;
import org.blocktransformer.bench.MachineLimits;
import org.blocktransformer.bench.Ratio;
import org.blocktransformer.bench.ResultFiles;
import org.blocktransformer.bench.Scenario;
import org.blocktransformer.bench.ThroughputHarness;
import org.blocktransformer.bench.ThroughputResult;
import org.blocktransformer.model.backend.BackendOptions;
import org.blocktransformer.model.backend.Backends;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.engine.Batching;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code bt bench}: generation throughput of models in the paper's scenarios, with block/vanilla ratios. */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Measure generation throughput (the paper's scenarios) and block/vanilla ratios.",
        description = {
                "Measure batched generation the way the Block Transformer paper does: a batch of random prompts of"
                        + " one length, a fixed number of new tokens each (greedy, EOS ignored), throughput = generated"
                        + " tokens / wall time from the moment the whole batch is queued to the last token (prefill"
                        + " included). Every model runs every scenario at every batch size; a vanilla/block pair's"
                        + " throughput ratio is reported side by side. Each run gets its own engine with a KV cache"
                        + " sized to the run, and warm-up batches of the same shape before it is timed (until two take"
                        + " the same time).",
                "",
                "Without options it compares the smallest equal-perplexity pair (" + "vanilla-31m:block-b4-19m) on"
                        + " random-weight presets in both scenarios at 1/8 of the paper's lengths, batch 1 and 16:"
                        + " under a minute on two CPU cores.",
                ""},
        footerHeading = "%nOutput:%n",
        footer = {
                "Text format prints a table of runs and of ratios; --format json prints one JSON object per run"
                        + " (JSON Lines) as each finishes, with: model, kind, weights, backend, device, scenario,"
                        + " prompt_len, new_tokens, batch_size, batching, requests, generated_tokens, seconds,"
                        + " tokens_per_s, ttft_ms (mean time to first token), ttft_p99_ms, latency_p50_ms and"
                        + " latency_p99_ms (gap between consecutive tokens of a sequence), cache_bytes (KV cache"
                        + " allocated), weight_bytes (weights held: as loaded plus the CPU backend's packed copies),"
                        + " peak_memory_bytes (cache + weights), heap_used_bytes (Java heap after the run, after a"
                        + " GC), max_batch_in_budget, threads.",
                "Files in --out: results.csv, ratios.csv, results.json (machine, command, runs, ratios) and PNG"
                        + " charts: throughput-SCENARIO.png (tokens/s against batch size per model) and ratio.png."
                        + " Progress goes to standard error.",
                "",
                "Examples:",
                "  bt bench",
                "  bt bench --pair vanilla-70m:block-b4-85m --scenario decode-heavy/4 \\",
                "      --batch-sizes 1,8,32",
                "  bt bench --models vanilla-70m,block-b4-85m --prompt-len 128 --new-tokens 128 \\",
                "      --batch-sizes 1,32 --format json",
                "  bt bench --pair vanilla-410m:block-b4-1.2b \\",
                "      --scenario prefill-heavy,decode-heavy \\",
                "      --batch-sizes 1,max --memory 8g --out results/h100"})
public final class BenchCommand implements Callable<Integer> {

    static final List<String> DEFAULT_SCENARIOS = List.of("prefill-heavy/8", "decode-heavy/8");
    static final List<String> DEFAULT_BATCHES = List.of("1", "16");

    @ParentCommand
    BtCommand parent;

    @Spec
    CommandSpec spec;

    @Mixin
    LoggingMixin logging;

    @Mixin
    ComputeOptions compute;

    @Mixin
    WeightOptions weightOptions;

    @Option(names = "--pair", paramLabel = "VANILLA:BLOCK", split = ",",
            description = "A vanilla and a block model compared side by side (repeatable), e.g."
                    + " vanilla-410m:block-b4-1.2b. Default (with no --models): " + "vanilla-31m:block-b4-19m."
                    + " Equal-perplexity pairs after the paper: vanilla-31m:block-b4-19m, vanilla-70m:block-b4-85m,"
                    + " vanilla-160m:block-b4-300m, vanilla-410m:block-b4-1.2b.")
    List<String> pairs = new ArrayList<>();

    @Option(names = "--models", paramLabel = "MODEL", split = ",",
            description = "Models to run (presets or checkpoint directories), comma-separated. Ratios are reported"
                    + " for the paper's pairs among them, or for the two when one is vanilla and one block.")
    List<String> models = new ArrayList<>();

    @Option(names = "--scenario", paramLabel = "SCENARIO", split = ",",
            description = "prefill-heavy (prompt 2048, 128 new), decode-heavy (prompt 128, 2048 new), their"
                    + " versions within 2048 positions (what the vanilla presets allow) prefill-heavy-2k (1920, 128)"
                    + " and decode-heavy-2k (128, 1920), each with /K to divide both lengths by K; or PROMPT:NEW, or"
                    + " NAME=PROMPT:NEW. Comma-separated or repeated."
                    + " Default: " + "prefill-heavy/8,decode-heavy/8 (unless --prompt-len/--new-tokens are given).")
    List<String> scenarios = new ArrayList<>();

    @Option(names = "--prompt-len", paramLabel = "N",
            description = "Prompt length of a custom scenario (with --new-tokens; 128 if only that is given).")
    Integer promptLength;

    @Option(names = "--new-tokens", paramLabel = "N",
            description = "New tokens per sequence of a custom scenario (with --prompt-len; 128 if only that is"
                    + " given).")
    Integer newTokens;

    @Option(names = "--batch-sizes", paramLabel = "B", split = ",",
            description = "Batch sizes to run, comma-separated; 'max' = the largest batch whose KV cache fits"
                    + " --memory (at most --max-batch). Default: 1,16.")
    List<String> batchSizes = new ArrayList<>();

    @Option(names = "--batching", paramLabel = "MODE", defaultValue = "static",
            description = "static (the paper's: a batch starts and ends together) or continuous (finished rows"
                    + " leave and waiting requests join; use with --rounds > 1). Default: ${DEFAULT-VALUE}.")
    Batching batching;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0",
            description = "Sample each token from the K most likely (temperature 1, each request its own seed)"
                    + " instead of greedy decoding: what sampling costs. 0 = greedy. Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--rounds", paramLabel = "R", defaultValue = "1",
            description = "Requests per run = batch size x R. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "0", converter = ByteSizeConverter.class,
            description = "KV-cache memory budget for 'max' batches and the reported max_batch_in_budget, e.g. 4g"
                    + " (0 = on a GPU its memory less the weights' copies there and a 4 GiB reserve, as the paper"
                    + " keeps 2 GiB free; on the CPU half of the heap free after loading the model). Each run's"
                    + " engine still gets only the cache its batch needs. Default: ${DEFAULT-VALUE}.")
    long memory;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "1024",
            description = "Upper bound of a 'max' batch. Default: ${DEFAULT-VALUE}.")
    int maxBatchCap;

    @Option(names = "--prompt-seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of the random prompt ids (the same prompts for every model). Default:"
                    + " ${DEFAULT-VALUE}.")
    long promptSeed;

    @Option(names = "--warmup-tokens", paramLabel = "N", defaultValue = "16",
            description = "New tokens per sequence of the untimed warm-up batch run before each measurement (same"
                    + " batch size and prompt length; 0 = no warm-up). Default: ${DEFAULT-VALUE}.")
    int warmupTokens;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Directory for results.csv, ratios.csv, results.json and the PNG charts."
                    + " Default: bench-results (with --replot: the directory of its file).")
    Path out;

    @Option(names = "--replot", paramLabel = "FILE",
            description = "Run nothing: redraw the PNG charts (and print the tables) of a results.json written"
                    + " earlier.")
    Path replot;

    @Option(names = "--limits", paramLabel = "GB/s:TFLOP/s",
            description = "The machine's memory bandwidth and arithmetic rate for the expected ratios beside the"
                    + " measured ones (e.g. 4300:790 for an H200's copy bandwidth and 16-bit matrix rate). Default:"
                    + " measured on the CPU when the backend is the CPU; none for other backends.")
    String limits;

    @Option(names = "--no-files", description = "Write no files (only standard output).")
    boolean noFiles;

    @Option(names = "--no-charts", description = "Write the CSV and JSON files but no PNG charts.")
    boolean noCharts;

    @Option(names = "--format", paramLabel = "FMT", defaultValue = "text",
            description = "Standard output: text (tables) or json (one object per run, JSON Lines)."
                    + " Default: ${DEFAULT-VALUE}.")
    OutputFormat format;

    @Option(names = {"-q", "--quiet"}, description = "No progress on standard error.")
    boolean quiet;

    @Override
    public Integer call() {
        if (replot != null) {
            return replot();
        }
        validateNumbers();
        List<Scenario> scenarioList = scenarios();
        List<Integer> sizes = new ArrayList<>();
        boolean max = batchSizes(sizes);
        List<ModelPair> pairList = new ArrayList<>();
        for (String p : pairs) {
            try {
                pairList.add(ModelPair.parse(p));
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
        }
        if (pairList.isEmpty() && models.isEmpty()) {
            pairList.add(ModelPair.CPU_DEFAULT);
        }
        DeviceMemory device = checkBackend();

        List<String> named = new ArrayList<>();
        pairList.forEach(p -> {
            named.add(p.vanilla());
            named.add(p.block());
        });
        named.addAll(models);
        Map<String, ModelConfig> configs = BenchRunner.checkedConfigs(named.stream().distinct().toList(), scenarioList);
        BenchPlan.Resolved resolved = BenchPlan.resolve(pairList, models, configs);
        var runOptions = new ThroughputHarness.Options(batching, rounds, compute.backend, compute.device, compute.threads,
                warmupTokens, promptSeed, memory, topK, compute.kvCache(), compute.tensorCores());
        BenchPlan plan = new BenchPlan(resolved.models(), resolved.pairs(), scenarioList, sizes, max, maxBatchCap,
                device.bytes(), device.weightCopies(), weightOptions.weights, weightOptions.initSeed, runOptions);

        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        double loadBefore = Hardware.loadAverage();
        OffsetDateTime started = OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS);
        List<ThroughputResult> results;
        try (Progress progress = new Progress(err, quiet, StatusLine.onTerminal())) {
            results = BenchRunner.run(plan, new BenchRunner.Listener() {
                @Override
                public void modelLoading(String model) {
                    progress.message("loading " + model + " ...");
                }

                @Override
                public void modelLoaded(String model, double seconds) {
                    progress.message(String.format(Locale.ROOT, "loaded %s in %.1f s", model, seconds));
                }

                @Override
                public void runStarting(int index, int total, String model, Scenario scenario, int batch,
                                        ThroughputHarness.Progress p) {
                    progress.start(index, total, model + "  " + scenario.name() + "  batch " + batch, p);
                }

                @Override
                public void runFinished(int index, int total, ThroughputResult r) {
                    progress.finish(String.format(Locale.ROOT, "%.1f tok/s, ttft %.0f ms, %.1f s", r.tokensPerSecond(),
                            r.ttftMillis(), r.seconds()));
                    if (format == OutputFormat.json) {
                        out.println(ResultFiles.jsonLine(r.fields()));
                        out.flush();
                    }
                }
            });
        } catch (OutOfMemoryError e) {
            throw new CliException(Errors.describe(e), e);
        }
        List<Ratio> ratios = Ratio.compute(results, plan.pairs());
        MachineLimits machine = machineLimits(results);
        if (machine != null) {
            ratios = Ratio.withExpectations(ratios, results, configs, machine);
        }
        if (format == OutputFormat.text) {
            printTables(out, results, ratios);
        }
        if (!noFiles) {
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("command", "bt " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
            meta.put("started", started.toString());
            meta.put("bt_version", VersionProvider.version());
            meta.put("load_average_1m_before", loadBefore);
            meta.put("load_average_1m_after", Hardware.loadAverage());
            meta.put("scenarios", scenarioList.stream().map(s -> Map.of("name", s.name(), "prompt_len",
                    s.promptLength(), "new_tokens", s.newTokens())).toList());
            meta.put("pairs", plan.pairs().stream().map(ModelPair::toString).toList());
            if (machine != null) {
                meta.put("machine_limits", machine.describe());
            }
            try {
                List<Path> files = ResultFiles.write(out(), meta, results, ratios, !noCharts);
                err.println("wrote " + String.join(", ", files.stream().map(Path::toString).toList()));
            } catch (ResultFiles.ChartException e) {
                err.println("wrote " + String.join(", ", e.written().stream().map(Path::toString).toList()));
                err.println("warning: " + e.getMessage());
            } catch (IOException e) {
                throw new CliException("cannot write the results to " + out() + ": " + e.getMessage(), e);
            }
        }
        err.flush();
        return 0;
    }

    /** The limits for the expected ratios: given, measured on the CPU when it ran the models, or none. */
    private MachineLimits machineLimits(List<ThroughputResult> results) {
        if (limits != null) {
            return MachineLimits.parse(limits);
        }
        if (results.isEmpty() || !results.getFirst().backend().equals("cpu")) {
            return null;
        }
        return MachineLimits.measureCpu(compute.threads);
    }

    private Path out() {
        return out != null ? out : Path.of("bench-results");
    }

    private int replot() {
        ResultFiles.Saved saved;
        try {
            saved = ResultFiles.read(replot);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CliException("results file not found: " + replot);
        } catch (IOException e) {
            throw new CliException("cannot read " + replot + ": " + e.getMessage(), e);
        }
        List<Ratio> ratios = Ratio.compute(saved.runs(), saved.pairs());
        PrintWriter stdout = spec.commandLine().getOut();
        if (format == OutputFormat.json) {
            saved.runs().forEach(r -> stdout.println(ResultFiles.jsonLine(r.fields())));
            stdout.flush();
        } else {
            printTables(stdout, saved.runs(), ratios);
        }
        if (!noFiles && !noCharts && !saved.runs().isEmpty()) {
            Path dir = out != null ? out : replot.toAbsolutePath().getParent();
            try {
                java.nio.file.Files.createDirectories(dir);
                List<Path> files = org.blocktransformer.bench.Charts.writeAll(dir, saved.runs(), ratios,
                        ResultFiles.subtitle(saved.runs()));
                spec.commandLine().getErr().println("wrote " + String.join(", ",
                        files.stream().map(Path::toString).toList()));
            } catch (IOException e) {
                throw new CliException("cannot write the charts to " + dir + ": " + e.getMessage(), e);
            }
        }
        spec.commandLine().getErr().flush();
        return 0;
    }

    private void validateNumbers() {
        if (rounds < 1) {
            throw usage("--rounds must be at least 1, got " + rounds);
        }
        if (compute.problem() != null) {
            throw usage(compute.problem());
        }
        if (limits != null) {
            try {
                MachineLimits.parse(limits);
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
        }
        if (warmupTokens < 0) {
            throw usage("--warmup-tokens must be >= 0, got " + warmupTokens);
        }
        if (maxBatchCap < 1) {
            throw usage("--max-batch must be at least 1, got " + maxBatchCap);
        }
        if (promptLength != null && promptLength < 1) {
            throw usage("--prompt-len must be at least 1, got " + promptLength);
        }
        if (newTokens != null && newTokens < 1) {
            throw usage("--new-tokens must be at least 1, got " + newTokens);
        }
    }

    private List<Scenario> scenarios() {
        List<Scenario> list = new ArrayList<>();
        List<String> names = scenarios.isEmpty() && promptLength == null && newTokens == null ? DEFAULT_SCENARIOS
                : scenarios;
        for (String s : names) {
            try {
                list.add(Scenario.parse(s));
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
        }
        if (promptLength != null || newTokens != null) {
            list.add(Scenario.custom(promptLength == null ? 128 : promptLength, newTokens == null ? 128 : newTokens));
        }
        return list;
    }

    /** Fills the explicit sizes (ascending, no repeats); returns whether 'max' was asked for. */
    private boolean batchSizes(List<Integer> sizes) {
        boolean max = false;
        for (String b : batchSizes.isEmpty() ? DEFAULT_BATCHES : batchSizes) {
            String v = b.strip().toLowerCase(Locale.ROOT);
            if (v.equals("max")) {
                max = true;
                continue;
            }
            try {
                int n = Integer.parseInt(v);
                if (n < 1) {
                    throw usage("--batch-sizes: batch sizes must be at least 1, got " + n);
                }
                if (!sizes.contains(n)) {
                    sizes.add(n);
                }
            } catch (NumberFormatException e) {
                throw usage("--batch-sizes: '" + b + "' is neither a number nor 'max'");
            }
        }
        sizes.sort(null);
        return max;
    }

    /** The device memory 'max' batches are sized from (0: the heap's) and the weight copies the backend keeps in it. */
    private record DeviceMemory(long bytes, int weightCopies) {
    }

    /**
     * Fails early, before any model loads, when the backend or device cannot be used; opened with the run's
     * options, it says what memory 'max' batches are sized from.
     */
    private DeviceMemory checkBackend() {
        BackendOptions options = BackendOptions.defaults().withDevice(compute.device).withThreads(1)
                .withTensorCores(compute.tensorCores());
        try (ComputeBackend b = Backends.open(compute.backend, options)) {
            compute.backend = compute.backend.equalsIgnoreCase("auto") ? b.name() : compute.backend.toLowerCase(Locale.ROOT);
            return new DeviceMemory(b.deviceMemoryCapacity().orElse(0), b.weightCopies(weightOptions.weights));
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
    }

    private static void printTables(PrintWriter out, List<ThroughputResult> results, List<Ratio> ratios) {
        int w = Math.max(5, results.stream().mapToInt(r -> r.model().length()).max().orElse(5));
        int ws = Math.max(8, results.stream().mapToInt(r -> r.scenario().length()).max().orElse(8));
        String head = "%-" + w + "s  %-" + ws + "s  %6s  %10s  %9s  %9s  %9s  %10s  %10s%n";
        out.printf(Locale.ROOT, head, "model", "scenario", "batch", "tok/s", "ttft ms", "p50 ms", "p99 ms", "cache",
                "weights");
        for (ThroughputResult r : results) {
            out.printf(Locale.ROOT, "%-" + w + "s  %-" + ws + "s  %6d  %10.1f  %9.1f  %9.2f  %9.2f  %10s  %10s%n",
                    r.model(), r.scenario(), r.batchSize(), r.tokensPerSecond(), r.ttftMillis(), r.p50TokenMillis(),
                    r.p99TokenMillis(), ModelInfo.humanBytes(r.cacheBytes()), ModelInfo.humanBytes(r.weightBytes()));
        }
        if (!results.isEmpty()) {
            ThroughputResult r = results.get(0);
            out.println("(" + r.backend() + ": " + r.device() + "; " + r.weights() + " weights, " + r.batching()
                    + " batching, " + r.sampling() + ")");
        }
        if (ratios.isEmpty()) {
            return;
        }
        out.println();
        int wp = ratios.stream().mapToInt(r -> r.pair().block().length() + r.pair().vanilla().length() + 3).max()
                .orElse(4);
        String rhead = "%-" + wp + "s  %-" + ws + "s  %-10s  %14s  %14s  %7s  %9s%n";
        out.printf(Locale.ROOT, rhead, "block / vanilla", "scenario", "batch", "vanilla tok/s", "block tok/s", "ratio",
                "expected");
        for (Ratio r : ratios) {
            String batch = r.best() ? "best" : String.valueOf(r.batchSize());
            String v = String.format(Locale.ROOT, "%.1f", r.vanillaTokensPerSecond())
                    + (r.best() ? " (b" + r.vanillaBatch() + ")" : "");
            String b = String.format(Locale.ROOT, "%.1f", r.blockTokensPerSecond())
                    + (r.best() ? " (b" + r.blockBatch() + ")" : "");
            String expected = r.expected() == null ? "-"
                    : String.format(Locale.ROOT, "%.2fx", r.expected().ratio());
            out.printf(Locale.ROOT, "%-" + wp + "s  %-" + ws + "s  %-10s  %14s  %14s  %6.2fx  %9s%n",
                    r.pair().block() + " / " + r.pair().vanilla(), r.scenario(), batch, v, b, r.ratio(), expected);
        }
        // Why: the ceilings behind the expected ratios, once per pair and scenario.
        java.util.Set<String> said = new java.util.HashSet<>();
        for (Ratio r : ratios) {
            Ratio.Expectation e = r.expected();
            if (e != null && said.add(r.pair() + " " + r.scenario())) {
                if (said.size() == 1) {
                    out.println("expected: the roofline of each run (" + e.limits() + "): every phase at least its"
                            + " bytes over the bandwidth and its FLOPs over the rate");
                }
                out.printf(Locale.ROOT, "  %s, %s: vanilla %s, block %s; %s%n", r.pair().block() + " / "
                        + r.pair().vanilla(), r.scenario(), e.vanilla().describe(), e.block().describe(), e.advice());
            }
        }
        out.flush();
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /**
     * Progress on standard error: on a terminal a {@link StatusLine} (runs done / total, the current run, its phase
     * and a bar of its tokens); elsewhere one line when a run starts and one when it ends.
     */
    static final class Progress implements AutoCloseable {
        private final PrintWriter err;
        private final boolean quiet;
        private final StatusLine line;
        private volatile String label;
        private volatile ThroughputHarness.Progress current;

        Progress(PrintWriter err, boolean quiet, boolean terminal) {
            this.err = err;
            this.quiet = quiet;
            this.line = terminal && !quiet ? new StatusLine(err, true, this::text) : null;
        }

        void message(String text) {
            if (!quiet) {
                print(text);
            }
        }

        void start(int index, int total, String what, ThroughputHarness.Progress p) {
            label = "[" + index + "/" + total + "] " + what;
            current = p;
            if (!quiet && line == null) {
                print(label + " ...");
            }
        }

        void finish(String summary) {
            current = null;
            if (!quiet) {
                print(label + ": " + summary);
            }
        }

        private void print(String text) {
            Runnable println = () -> {
                err.println(text);
                err.flush();
            };
            if (line != null) {
                line.above(println);
            } else {
                println.run();
            }
        }

        /** The status line's text: the current run, its phase and a bar of its tokens; none between runs. */
        private String text() {
            ThroughputHarness.Progress p = current;
            if (p == null) {
                return null;
            }
            long target = p.target();
            long done = Math.min(p.tokens(), Math.max(target, 0));
            StringBuilder sb = new StringBuilder(label).append("  ").append(p.phase());
            if (target > 0) {
                int width = 24;
                int filled = (int) (width * done / target);
                sb.append(" [").append("#".repeat(filled)).append("-".repeat(width - filled)).append("] ")
                        .append(100 * done / target).append('%');
            }
            return sb.toString();
        }

        @Override
        public void close() {
            if (line != null) {
                line.close();
            }
            err.flush();
        }
    }
}
