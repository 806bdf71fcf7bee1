package org.blocktransformer.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.cache.CacheGeometry;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.engine.Batching;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.generate.TokenListener;
import org.blocktransformer.model.weights.ModelWeights;

/**
 * Measures generation throughput the way the paper does: a batch of same-length random prompts, a fixed number of
 * new tokens each (EOS ignored), greedy or top-k sampled, wall time from submission to the last token (prefill included).
 *
 * <p>One engine per run, its KV cache sized to the run (batch x the pages one sequence of this shape needs), so
 * a run never allocates more cache than it uses. Before timing, warm-up batches of the same shape (same batch size
 * and prompt length, fewer new tokens) run on the same engine until two in a row take about the same time (at least
 * two, at most {@value #MAX_WARMUP_ROUNDS}), so the JIT has compiled the kernels for these shapes and the engine's
 * buffers have grown to size.
 */
public final class ThroughputHarness {

    /**
     * How to run.
     *
     * @param batching     static or continuous batching
     * @param rounds       requests = batch size x rounds (more than one round keeps a continuous batch refilled)
     * @param backend      "auto", "cpu", "tornado"
     * @param device       the backend's device selector, "" = default
     * @param threads      CPU threads, 0 = all
     * @param warmupTokens new tokens per request of the warm-up batch (0 = no warm-up)
     * @param promptSeed   seed of the random prompt ids (the same prompts for every model of a vocabulary)
     * @param memoryBudget bytes against which the largest batch that fits is reported (0 = the engine's default: half the heap left once the model is loaded)
     * @param kvCache      KV-cache storage
     * @param tensorCores  whether a GPU backend may use its matrix units (see EngineOptions)
     */
    public record Options(Batching batching, int rounds, String backend, String device, int threads, int warmupTokens,
                          long promptSeed, long memoryBudget, int topK, KvFormat kvCache, boolean tensorCores) {
        public Options(Batching batching, int rounds, String backend, String device, int threads, int warmupTokens,
                       long promptSeed, long memoryBudget, int topK) {
            this(batching, rounds, backend, device, threads, warmupTokens, promptSeed, memoryBudget, topK, KvFormat.F32,
                    true);
        }

        public Options {
            if (rounds < 1) {
                throw new IllegalArgumentException("rounds must be >= 1, got " + rounds);
            }
            if (warmupTokens < 0) {
                throw new IllegalArgumentException("warm-up tokens must be >= 0, got " + warmupTokens);
            }
            if (topK < 0) {
                throw new IllegalArgumentException("top-k must be >= 0 (0 = greedy), got " + topK);
            }
        }

        public static Options defaults() {
            return new Options(Batching.STATIC, 1, "auto", "", 0, 16, 1, 0, 0);
        }

        public Options withBatching(Batching b) {
            return new Options(b, rounds, backend, device, threads, warmupTokens, promptSeed, memoryBudget, topK,
                    kvCache, tensorCores);
        }

        public Options withWarmupTokens(int n) {
            return new Options(batching, rounds, backend, device, threads, n, promptSeed, memoryBudget, topK, kvCache,
                    tensorCores);
        }

        public Options withThreads(int n) {
            return new Options(batching, rounds, backend, device, n, warmupTokens, promptSeed, memoryBudget, topK,
                    kvCache, tensorCores);
        }

        public Options withKvCache(KvFormat f) {
            return new Options(batching, rounds, backend, device, threads, warmupTokens, promptSeed, memoryBudget, topK,
                    f, tensorCores);
        }

        public Options withTensorCores(boolean on) {
            return new Options(batching, rounds, backend, device, threads, warmupTokens, promptSeed, memoryBudget, topK,
                    kvCache, on);
        }

        /** The run's cache geometry for {@code config}. */
        public CacheGeometry cacheGeometry(ModelConfig config) {
            return new CacheGeometry(config, kvCache);
        }

        /** How request {@code i} chooses its tokens: greedy, or top-k at temperature 1 with its own seed. */
        SamplingParams sampling(int i) {
            return topK == 0 ? SamplingParams.GREEDY : SamplingParams.sample(1.0, topK, 1.0, promptSeed * 1_000_003L + i);
        }

        String samplingName() {
            return topK == 0 ? "greedy" : "top-k " + topK;
        }
    }

    /** What a run is doing now, for a progress display polling from another thread. */
    public static final class Progress {
        private volatile String phase = "starting";
        private final AtomicLong tokens = new AtomicLong();
        private volatile long target;

        public String phase() {
            return phase;
        }

        /** Tokens generated so far in the current phase. */
        public long tokens() {
            return tokens.get();
        }

        /** Tokens the current phase will generate. */
        public long target() {
            return target;
        }

        void start(String newPhase, long newTarget) {
            tokens.set(0);
            target = newTarget;
            phase = newPhase;
        }
    }

    /** Warm-up batches stop when one takes within this fraction of the previous one's time ... */
    static final double WARMUP_TOLERANCE = 0.15;
    /** ... or after this many. */
    static final int MAX_WARMUP_ROUNDS = 5;

    private ThroughputHarness() {
    }

    /** Measures one (model, scenario, batch size). */
    public static ThroughputResult run(String modelName, ModelWeights weights, String weightFormat, Scenario scenario,
                                       int batchSize, Options options, Progress progress) {
        ModelConfig config = weights.config();
        int prompt = scenario.promptLength();
        int fresh = scenario.newTokens();
        if ((long) prompt + fresh > config.maxSequenceTokens()) {
            throw new IllegalArgumentException(modelName + ": prompt " + prompt + " + " + fresh + " new tokens exceed"
                    + " the model's " + config.maxSequenceTokens() + " tokens");
        }
        Progress p = progress == null ? new Progress() : progress;
        int requestCount = batchSize * options.rounds();
        List<int[]> prompts = prompts(config.vocabSize(), prompt, requestCount, options.promptSeed());

        p.start("opening engine", 0);
        try (InferenceEngine engine = openSized(weights, scenario, batchSize, options)) {
            if (options.warmupTokens() > 0) {
                int warmNew = Math.min(fresh, options.warmupTokens());
                List<GenerationRequest> warm = new ArrayList<>();
                for (int i = 0; i < batchSize; i++) {
                    warm.add(new GenerationRequest(prompts.get(i), warmNew, options.sampling(i), false));
                }
                // Until two consecutive warm-up batches take about the same time (the JIT has settled).
                long previous = -1;
                for (int round = 1; round <= MAX_WARMUP_ROUNDS; round++) {
                    p.start("warm-up " + round, (long) batchSize * warmNew);
                    long t0 = System.nanoTime();
                    generate(engine, warm, null, p);
                    long t = System.nanoTime() - t0;
                    if (previous > 0 && Math.abs(t - previous) <= WARMUP_TOLERANCE * previous) {
                        break;
                    }
                    previous = t;
                }
            }
            p.start("measuring", (long) requestCount * fresh);
            long[][] times = new long[requestCount][fresh];
            List<GenerationRequest> requests = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                requests.add(new GenerationRequest(prompts.get(i), fresh, options.sampling(i), false));
            }
            Timed timed = generate(engine, requests, times, p);
            List<GenerationResult> results = timed.results();
            double seconds = (timed.end() - timed.start()) / 1e9;

            long tokens = 0;
            double[] ttft = new double[results.size()];
            for (GenerationResult r : results) {
                tokens += r.generatedIds().length;
            }
            double[] gapArray = new double[(int) Math.max(0, tokens - results.size())];
            int g = 0;
            for (int i = 0; i < results.size(); i++) {
                GenerationResult r = results.get(i);
                ttft[i] = r.generatedIds().length == 0 ? 0 : (times[i][0] - timed.start()) / 1e6;
                for (int t = 1; t < r.generatedIds().length; t++) {
                    gapArray[g++] = (times[i][t] - times[i][t - 1]) / 1e6;
                }
            }
            Arrays.sort(gapArray, 0, g);
            gapArray = Arrays.copyOf(gapArray, g);
            Arrays.sort(ttft);
            p.phase = "measuring memory";
            long heap = usedHeapAfterGc();
            String backend = engine.backendName();
            int threads = options.threads() > 0 ? options.threads() : Runtime.getRuntime().availableProcessors();
            long budget = options.memoryBudget() > 0 ? options.memoryBudget() : InferenceEngine.defaultCacheBytes();
            return new ThroughputResult(modelName, config instanceof BlockConfig ? "block" : "vanilla", weightFormat,
                    options.kvCache().label(), backend, device(engine), scenario.name(), prompt, fresh, batchSize,
                    options.batching().name().toLowerCase(java.util.Locale.ROOT), options.samplingName(), requestCount,
                    tokens, seconds,
                    tokens / seconds, Arrays.stream(ttft).average().orElse(0), percentile(ttft, 0.99),
                    percentile(gapArray, 0.5), percentile(gapArray, 0.99), engine.cacheBytes(),
                    WeightMemory.of(weights).heldBy(backend), heap,
                    options.cacheGeometry(config).maxBatch(prompt, fresh, budget), threads);
        }
    }

    /** An engine whose global cache holds exactly {@code batch} sequences of the scenario's shape. */
    static InferenceEngine openSized(ModelWeights weights, Scenario scenario, int batch, Options options) {
        ModelConfig config = weights.config();
        CacheGeometry geometry = options.cacheGeometry(config);
        long perSequence = geometry.globalBytesPerSequence(scenario.promptLength(), scenario.newTokens());
        // The engine sizes its pool with the same geometry, so this budget buys exactly batch sequences' pages.
        EngineOptions engineOptions = new EngineOptions(batch, options.batching(), perSequence * batch,
                options.threads()).withBackend(options.backend(), options.device()).withKvCache(options.kvCache())
                .withTensorCores(options.tensorCores());
        return InferenceEngine.open(weights, engineOptions);
    }

    /** Results of a batch and when it was released to the engine and when its last result was in. */
    record Timed(List<GenerationResult> results, long start, long end) {
    }

    /**
     * Generates a batch that starts together. Submitting requests one by one lets the engine start on the first
     * before the others arrive (with static batching the rest would then wait for it to finish), so the engine
     * thread is first parked inside a one-token blocker request's token callback; the batch is submitted meanwhile
     * and the clock starts when the blocker is released, with every request already queued.
     */
    private static Timed generate(InferenceEngine engine, List<GenerationRequest> requests, long[][] times,
                                  Progress p) {
        CountDownLatch parked = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        CompletableFuture<GenerationResult> blocker = engine.submit(
                new GenerationRequest(new int[] {1}, 1, SamplingParams.GREEDY, false), id -> {
                    parked.countDown();
                    awaitUninterruptibly(go);
                });
        List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
        long start;
        try {
            if (!parked.await(10, TimeUnit.MINUTES)) {
                throw new IllegalStateException("the engine did not start the blocker request");
            }
            List<TokenListener> listeners = new ArrayList<>();
            for (int i = 0; i < requests.size(); i++) {
                long[] row = times == null ? null : times[i];
                int[] count = {0};
                listeners.add(id -> {
                    if (row != null && count[0] < row.length) {
                        row[count[0]++] = System.nanoTime();
                    }
                    p.tokens.incrementAndGet();
                });
            }
            // Checks every request before any starts (an invalid one throws here, and the blocker is released).
            futures.addAll(engine.submitAll(requests, listeners));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while benchmarking", e);
        } finally {
            start = System.nanoTime();
            go.countDown();
        }
        join(blocker);
        List<GenerationResult> out = new ArrayList<>();
        for (var f : futures) {
            out.add(join(f));
        }
        return new Timed(out, start, System.nanoTime());
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static GenerationResult join(CompletableFuture<GenerationResult> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while benchmarking", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Random prompt ids in [1, vocab): the same (seed, length, count) gives the same prompts. */
    static List<int[]> prompts(int vocab, int length, int count, long seed) {
        List<int[]> out = new ArrayList<>(count);
        for (int b = 0; b < count; b++) {
            SplittableRandom random = new SplittableRandom(seed * 1_000_003L + b);
            int[] ids = new int[length];
            for (int i = 0; i < length; i++) {
                ids[i] = 1 + random.nextInt(vocab - 1);
            }
            out.add(ids);
        }
        return out;
    }

    /** The device part of the engine's description, with the processor's name for the CPU backend. */
    static String device(InferenceEngine engine) {
        String d = engine.describeBackend();
        String prefix = engine.backendName() + ": ";
        if (d.startsWith(prefix)) {
            d = d.substring(prefix.length());
        }
        if ("cpu".equals(engine.backendName())) {
            d = Hardware.cpuModel() + ", " + d;
        }
        return d;
    }

    static long usedHeapAfterGc() {
        Runtime rt = Runtime.getRuntime();
        System.gc();
        return rt.totalMemory() - rt.freeMemory();
    }

    static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
