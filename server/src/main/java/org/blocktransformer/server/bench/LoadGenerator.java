package org.blocktransformer.server.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * A load generator for an OpenAI-compatible server over HTTP (the JDK's client, one virtual thread per request):
 * streamed token-id completions, closed loop or Poisson arrivals, timed per token as the chunks arrive.
 */
public final class LoadGenerator {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LoadConfig config;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public LoadGenerator(LoadConfig config) {
        this.config = config;
    }

    /** Timings of one request, nanoseconds from its start. */
    record Sample(boolean ok, long firstToken, long end, long[] tokenTimes, int tokens) {
    }

    public LoadResult run() throws IOException, InterruptedException {
        JsonNode model = JSON.readTree(get("/v1/models")).path("data").get(0);
        if (model == null) {
            throw new IOException(config.baseUrl() + "/v1/models lists no model");
        }
        String name = model.path("id").asText();
        int vocab = model.path("vocab_size").asInt(50_000);
        SplittableRandom random = new SplittableRandom(config.seed());
        runAll(name, vocab, random.split(), config.warmup(), Math.min(config.clients(), Math.max(1, config.warmup())),
                0);
        long t0 = System.nanoTime();
        List<Sample> samples = runAll(name, vocab, random, config.requests(), config.clients(), config.rate());
        double seconds = (System.nanoTime() - t0) / 1e9;
        return summarize(samples, seconds);
    }

    private List<Sample> runAll(String model, int vocab, SplittableRandom random, int count, int clients,
                                double rate) throws InterruptedException {
        List<Future<Sample>> futures = new ArrayList<>();
        Semaphore slots = new Semaphore(clients);
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < count; i++) {
                if (rate > 0 && i > 0) {
                    double gap = -Math.log(1 - random.nextDouble()) / rate;
                    Thread.sleep((long) (gap * 1000), (int) ((gap * 1e9) % 1_000_000));
                }
                String body = body(model, vocab, random);
                slots.acquire();
                futures.add(threads.submit(() -> {
                    try {
                        return one(body);
                    } finally {
                        slots.release();
                    }
                }));
            }
        }
        List<Sample> out = new ArrayList<>();
        for (Future<Sample> f : futures) {
            try {
                out.add(f.get());
            } catch (java.util.concurrent.ExecutionException e) {
                out.add(new Sample(false, 0, 0, new long[0], 0));
            }
        }
        return out;
    }

    private String body(String model, int vocab, SplittableRandom random) {
        ObjectNode b = JSON.createObjectNode();
        b.put("model", model);
        var prompt = b.putArray("prompt");
        for (int k = 0; k < config.promptLen(); k++) {
            prompt.add(random.nextInt(vocab));
        }
        b.put("max_tokens", config.outputLen());
        b.put("temperature", 0);
        b.put("ignore_eos", true);
        b.put("stream", true);
        b.put("return_token_ids", true);
        return b.toString();
    }

    private Sample one(String body) {
        long start = System.nanoTime();
        long[] times = new long[config.outputLen()];
        int tokens = 0;
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(config.baseUrl() + "/v1/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                    .build();
            HttpResponse<InputStream> r = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (var in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                if (r.statusCode() != 200) {
                    return new Sample(false, 0, 0, new long[0], 0);
                }
                String line;
                while ((line = in.readLine()) != null) {
                    if (!line.startsWith("data: {")) {
                        continue;
                    }
                    long now = System.nanoTime() - start;
                    JsonNode chunk = JSON.readTree(line.substring(6));
                    if (chunk.has("error")) {
                        return new Sample(false, 0, 0, new long[0], 0);
                    }
                    JsonNode choices = chunk.path("choices");
                    int n = choices.isEmpty() ? 0 : choices.get(0).path("token_ids").size();
                    for (int k = 0; k < n && tokens < times.length; k++) {
                        times[tokens++] = now;
                    }
                }
            }
        } catch (IOException e) {
            return new Sample(false, 0, 0, new long[0], 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Sample(false, 0, 0, new long[0], 0);
        }
        long end = System.nanoTime() - start;
        return new Sample(tokens > 0, tokens > 0 ? times[0] : 0, end, Arrays.copyOf(times, tokens), tokens);
    }

    private LoadResult summarize(List<Sample> samples, double seconds) {
        List<Double> ttft = new ArrayList<>();
        List<Double> itl = new ArrayList<>();
        List<Double> latency = new ArrayList<>();
        double tpotSum = 0;
        int tpotCount = 0;
        long tokens = 0;
        int ok = 0;
        for (Sample s : samples) {
            if (!s.ok()) {
                continue;
            }
            ok++;
            tokens += s.tokens();
            ttft.add(s.firstToken() / 1e6);
            latency.add(s.end() / 1e6);
            for (int k = 1; k < s.tokenTimes().length; k++) {
                // Tokens that came in one chunk share its arrival; the gap belongs to the chunk, as in vLLM.
                if (s.tokenTimes()[k] != s.tokenTimes()[k - 1]) {
                    itl.add((s.tokenTimes()[k] - s.tokenTimes()[k - 1]) / 1e6);
                }
            }
            if (s.tokens() > 1) {
                tpotSum += (s.end() - s.firstToken()) / 1e6 / (s.tokens() - 1);
                tpotCount++;
            }
        }
        return new LoadResult(config, ok, samples.size() - ok, tokens, seconds, ok / seconds, tokens / seconds,
                percentile(ttft, 50), percentile(ttft, 99), percentile(itl, 50), percentile(itl, 99),
                tpotCount == 0 ? 0 : tpotSum / tpotCount, percentile(latency, 50), percentile(latency, 99));
    }

    /** Nearest-rank percentile; 0 for no values. */
    static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) {
            return 0;
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int rank = (int) Math.ceil(p / 100 * v.length);
        return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
    }

    private String get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(config.baseUrl() + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + config.baseUrl() + path + ": HTTP " + r.statusCode());
        }
        return r.body();
    }
}
