package org.blocktransformer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.blocktransformer.bench.Hardware;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.server.BtServer;
import org.blocktransformer.server.ServedModel;
import org.blocktransformer.server.ServerOptions;
import org.blocktransformer.server.bench.LoadConfig;
import org.blocktransformer.server.bench.LoadGenerator;
import org.blocktransformer.server.bench.LoadResult;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bt bench-serve}: load a server over HTTP like vLLM's serving benchmark. */
@Command(name = "bench-serve",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Measure a server under load: requests/s, output tok/s, TTFT and inter-token latency.",
        description = {
                "A load generator over HTTP in the manner of vLLM's serving benchmark: streamed completions of random"
                        + " token-id prompts of --prompt-len tokens, --output-len new tokens each (greedy, EOS"
                        + " ignored), from N concurrent clients (closed loop: each sends its next request when the"
                        + " previous ends) or at --rate requests per second (Poisson arrivals, at most N in flight)."
                        + " With --models each model is served in this JVM on a loopback port in turn; with --url an"
                        + " existing server is measured. Untimed warm-up requests go first.",
                ""},
        footerHeading = "%nOutput:%n",
        footer = {
                "A table on standard output (--format json: one JSON object per run); in --out: serve-results.json"
                        + " (machine, command, runs) and the charts serve-throughput.png and serve-latency.png.",
                "TTFT: request sent to first token. ITL: gap between consecutive streamed chunks of a request."
                        + " TPOT: (last token - first token) / (tokens - 1), averaged over requests.",
                "",
                "Examples:",
                "  bt bench-serve --models vanilla-70m,block-b4-85m --clients 1,8,32",
                "  bt bench-serve --url http://127.0.0.1:8000 --clients 16 \\",
                "      --requests 200 --rate 4"})
public final class BenchServeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    @Spec
    CommandSpec spec;

    @Mixin
    LoggingMixin logging;

    @ArgGroup(exclusive = true, multiplicity = "1", heading = "%nWhat to measure (one of):%n")
    Target target;

    static final class Target {
        @Option(names = "--models", paramLabel = "MODEL", split = ",", required = true,
                description = "Checkpoint directories or presets, each served here in turn on a loopback port.")
        List<String> models;

        @Option(names = "--url", paramLabel = "URL", required = true,
                description = "A running server's base URL, e.g. http://127.0.0.1:8000.")
        String url;
    }

    @Mixin
    ComputeOptions compute;

    @Mixin
    WeightOptions weights;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "0",
            description = "With --models: the engine's batch size (0 = the most clients). Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--cache-memory", paramLabel = "SIZE", defaultValue = "0", converter = ByteSizeConverter.class,
            description = "With --models: KV-cache memory (0 = enough for every client's request at once).")
    long cacheMemory;

    @Option(names = "--clients", paramLabel = "N", split = ",", defaultValue = "1,8",
            description = "Concurrent clients, one run each. Default: ${DEFAULT-VALUE}.")
    List<Integer> clients;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "0",
            description = "Timed requests per run (0 = 4 per client, at least 8). Default: ${DEFAULT-VALUE}.")
    int requests;

    @Option(names = "--rate", paramLabel = "R", defaultValue = "0",
            description = "Requests per second, Poisson arrivals (0 = closed loop). Default: ${DEFAULT-VALUE}.")
    double rate;

    @Option(names = "--prompt-len", paramLabel = "N", defaultValue = "128",
            description = "Prompt tokens per request. Default: ${DEFAULT-VALUE}.")
    int promptLen;

    @Option(names = "--output-len", paramLabel = "N", defaultValue = "128",
            description = "New tokens per request. Default: ${DEFAULT-VALUE}.")
    int outputLen;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "0",
            description = "Untimed requests before each run (0 = as many as clients, at most 8). Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of the prompts and arrivals. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench-results/serve",
            description = "Where the JSON and charts go. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--no-files", description = "Write no files (only standard output).")
    boolean noFiles;

    @Option(names = "--format", paramLabel = "FMT", defaultValue = "text",
            description = "Standard output: text (a table) or json (one object per run). Default: ${DEFAULT-VALUE}.")
    OutputFormat format;

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<ServeCharts.Run> runs = new ArrayList<>();
        if (target.url != null) {
            for (int c : clients) {
                runs.add(new ServeCharts.Run(target.url, measure(target.url, c, err)));
                printRun(stdout, runs.getLast());
            }
        } else {
            for (String m : target.models) {
                ModelWeights w = ModelOptions.load(m, weights.weights, weights.initSeed, "auto");
                int maxClients = clients.stream().mapToInt(Integer::intValue).max().orElse(1);
                EngineOptions options = EngineOptions.defaults()
                        .withMaxBatchSize(batchSize > 0 ? batchSize : maxClients)
                        .withThreads(compute.threads)
                        .withCacheMemoryBytes(cacheMemory > 0 ? cacheMemory
                                : InferenceEngine.cacheBytesFor(w.config(), maxClients, promptLen + outputLen))
                        .withBackend(compute.backend, compute.device);
                try (InferenceEngine engine = InferenceEngine.open(w, options);
                     BtServer server = BtServer.start(new ServedModel(engine, null, null),
                             ServerOptions.defaults(m).withPort(0).withMaxQueued(Math.max(256, maxClients))
                                     .withShutdownGrace(Duration.ofSeconds(1)))) {
                    err.println("bench-serve: " + m + " served at " + server.baseUrl() + " (" + engine.describeBackend()
                            + ", batch " + options.maxBatchSize() + ")");
                    err.flush();
                    for (int c : clients) {
                        runs.add(new ServeCharts.Run(m, measure(server.baseUrl(), c, err)));
                        printRun(stdout, runs.getLast());
                    }
                }
            }
        }
        if (format == OutputFormat.text) {
            stdout.println();
            stdout.print(table(runs));
        }
        stdout.flush();
        if (!noFiles) {
            writeFiles(runs, err);
        }
        return 0;
    }

    private LoadResult measure(String url, int c, PrintWriter err) throws Exception {
        int n = requests > 0 ? requests : Math.max(8, 4 * c);
        int w = warmup > 0 ? warmup : Math.min(8, c);
        err.printf(Locale.ROOT, "bench-serve: %d clients, %d requests (%d warm-up), prompt %d, output %d, %s%n", c, n,
                w, promptLen, outputLen, rate > 0 ? rate + " req/s" : "closed loop");
        err.flush();
        LoadResult r = new LoadGenerator(new LoadConfig(url, c, n, rate, promptLen, outputLen, seed, w)).run();
        if (r.failed() > 0) {
            err.println("bench-serve: " + r.failed() + " of " + (r.failed() + r.completed()) + " requests failed");
        }
        return r;
    }

    private void validate() {
        if (clients.stream().anyMatch(c -> c < 1)) {
            throw usage("--clients must be >= 1");
        }
        if (requests < 0 || warmup < 0 || promptLen < 1 || outputLen < 1 || !(rate >= 0) || batchSize < 0) {
            throw usage("--requests, --warmup, --rate and --batch-size must be >= 0; --prompt-len and --output-len"
                    + " >= 1");
        }
        if (compute.problem() != null) {
            throw usage(compute.problem());
        }
    }

    private void printRun(PrintWriter stdout, ServeCharts.Run run) {
        if (format == OutputFormat.json) {
            try {
                stdout.println(JsonMapper.builder().build().writeValueAsString(fields(run)));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            stdout.flush();
        }
    }

    static Map<String, Object> fields(ServeCharts.Run run) {
        LoadResult r = run.result();
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("model", run.model());
        f.put("clients", r.config().clients());
        f.put("rate", r.config().rate());
        f.put("prompt_len", r.config().promptLen());
        f.put("output_len", r.config().outputLen());
        f.put("requests", r.completed());
        f.put("failed", r.failed());
        f.put("output_tokens", r.outputTokens());
        f.put("seconds", round(r.seconds()));
        f.put("requests_per_s", round(r.requestsPerSecond()));
        f.put("output_tokens_per_s", round(r.outputTokensPerSecond()));
        f.put("ttft_p50_ms", round(r.ttftP50()));
        f.put("ttft_p99_ms", round(r.ttftP99()));
        f.put("itl_p50_ms", round(r.itlP50()));
        f.put("itl_p99_ms", round(r.itlP99()));
        f.put("tpot_mean_ms", round(r.tpotMean()));
        f.put("latency_p50_ms", round(r.latencyP50()));
        f.put("latency_p99_ms", round(r.latencyP99()));
        return f;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    static String table(List<ServeCharts.Run> runs) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-16s %7s %8s %8s %10s %10s %10s %9s %9s %9s%n", "model", "clients",
                "requests", "req/s", "out tok/s", "TTFT p50", "TTFT p99", "ITL p50", "ITL p99", "TPOT"));
        for (ServeCharts.Run run : runs) {
            LoadResult r = run.result();
            sb.append(String.format(Locale.ROOT, "%-16s %7d %8d %8.2f %10.1f %8.0fms %8.0fms %7.1fms %7.1fms %7.1fms%n",
                    run.model(), r.config().clients(), r.completed(), r.requestsPerSecond(),
                    r.outputTokensPerSecond(), r.ttftP50(), r.ttftP99(), r.itlP50(), r.itlP99(), r.tpotMean()));
        }
        return sb.toString();
    }

    private void writeFiles(List<ServeCharts.Run> runs, PrintWriter err) throws Exception {
        Files.createDirectories(out);
        Map<String, Object> doc = new LinkedHashMap<>();
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("command", "bt " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
        meta.put("date", OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString());
        meta.put("machine", Hardware.facts());
        doc.put("meta", meta);
        doc.put("runs", runs.stream().map(BenchServeCommand::fields).toList());
        Path json = out.resolve("serve-results.json");
        Files.writeString(json, JSON.writeValueAsString(doc) + "\n");
        List<Path> files = new ArrayList<>(List.of(json));
        try {
            files.addAll(ServeCharts.write(out, runs, String.format(Locale.ROOT, "prompt %d, output %d tokens, %s; %s",
                    promptLen, outputLen, rate > 0 ? rate + " req/s" : "closed loop", Hardware.describe())));
        } catch (RuntimeException | LinkageError e) {
            err.println("bench-serve: charts not drawn (" + e + "); the JSON is written");
        }
        err.println("bench-serve: wrote " + String.join(", ", files.stream().map(Path::toString).toList()));
        err.flush();
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
