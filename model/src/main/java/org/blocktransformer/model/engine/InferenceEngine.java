package org.blocktransformer.model.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.blocktransformer.model.backend.Backends;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.cache.CacheGeometry;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.TokenListener;
import org.blocktransformer.model.weights.ModelWeights;

/**
 * Runs generation requests on one model. Any number of threads may submit; one engine thread schedules them
 * (static or continuous batching) over a paged KV cache sized from a memory budget. Close it to stop the thread
 * and free the caches.
 *
 * <pre>{@code
 * try (var engine = InferenceEngine.open(weights, EngineOptions.defaults())) {
 *     GenerationResult r = engine.generate(GenerationRequest.greedy(new int[] {1, 2, 3}, 16));
 * }
 * }</pre>
 */
public final class InferenceEngine implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(InferenceEngine.class);
    private final ModelWeights weights;
    private final EngineOptions options;
    private final CacheGeometry geometry;
    private final ComputeBackend backend;
    private final CacheBudget budget;
    private final Stepper stepper;
    private final Scheduler scheduler;
    /** Arrivals, a list at a time: requests submitted together reach the scheduler together. */
    private final LinkedBlockingQueue<List<Sequence>> submissions = new LinkedBlockingQueue<>();
    private static final List<Sequence> WAKE_UP = List.of();
    private final Thread worker;
    private volatile boolean closed;
    /** Set when the engine's loop could not recover from an error: every later call fails with it at once. */
    private volatile IllegalStateException failure;

    private InferenceEngine(ModelWeights weights, EngineOptions options, LongSupplier heapLeft) {
        this.weights = weights;
        this.options = options;
        this.geometry = options.cacheGeometry(weights.config());
        long start = System.nanoTime();
        this.backend = Backends.open(options.backend(), options.backendOptions());
        this.budget = new CacheBudget(geometry, options, backend, heapLeft);
        try {
            this.stepper = Stepper.open(weights, backend, budget);
        } catch (RuntimeException | Error e) {
            backend.close();
            throw e;
        }
        this.scheduler = new Scheduler(stepper, options.batching(), options.maxBatchSize());
        // Opening includes the backend's own copy of the weights: a device upload, or the CPU's panels for
        // matrices that were not loaded in them.
        LOG.info("backend {} ({}) ready in {} ms: weights prepared, KV-cache budget {} MB", backend.name(),
                backend.device(), (System.nanoTime() - start) / 1_000_000,
                String.format(java.util.Locale.ROOT, "%.1f", stepper.caches().global().bytes() / 1048576.0));
        this.worker = Thread.ofPlatform().daemon().name("bt-engine").start(this::loop);
    }

    public static InferenceEngine open(ModelWeights weights, EngineOptions options) {
        return new InferenceEngine(weights, options, InferenceEngine::heapLeft);
    }

    /**
     * As {@link #open(ModelWeights, EngineOptions)}, the heap left for the cache read from {@code heapLeft} (once
     * the backend holds its copies of the weights) rather than from the running JVM: for tests of the default.
     */
    static InferenceEngine open(ModelWeights weights, EngineOptions options, LongSupplier heapLeft) {
        return new InferenceEngine(weights, options, heapLeft);
    }

    /**
     * Cache memory that lets {@code sequences} sequences of {@code tokens} tokens each (prompt plus new) run at once:
     * a budget to pass as {@link EngineOptions#cacheMemoryBytes()} when the workload is known.
     */
    public static long cacheBytesFor(ModelConfig config, int sequences, int tokens) {
        return new CacheGeometry(config, KvFormat.F32).globalBytesFor(sequences, tokens);
    }

    /** {@link #cacheBytesFor(ModelConfig, int, int)} for a KV cache stored as {@code kv}. */
    public static long cacheBytesFor(ModelConfig config, KvFormat kv, int sequences, int tokens) {
        return new CacheGeometry(config, kv).globalBytesFor(sequences, tokens);
    }

    /**
     * Half of the heap free now: the cache memory an engine opened now takes when {@link
     * EngineOptions#cacheMemoryBytes()} is 0, if its backend already holds its copies of the weights (a CPU cache of
     * float16 values, kept in float arrays, gets half as many bytes). The engine reads the heap once the backend has
     * made them ({@link CacheBudget}).
     */
    public static long defaultCacheBytes() {
        return Math.max(0, heapLeft()) / 2;
    }

    /** Heap this JVM can still allocate (garbage not yet collected counts as used: an underestimate). */
    private static long heapLeft() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    public ModelWeights weights() {
        return weights;
    }

    public EngineOptions options() {
        return options;
    }

    /**
     * Starts a request; the future completes with its result, or exceptionally if the request is invalid
     * ({@link #validate}) or the engine is down.
     */
    public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
        return submit(request, TokenListener.NONE);
    }

    /** As {@link #submit(GenerationRequest)}, calling {@code listener} with each token as it is produced. */
    public CompletableFuture<GenerationResult> submit(GenerationRequest request, TokenListener listener) {
        String problem = problem(request);
        if (problem != null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(problem));
        }
        return enqueue(List.of(request), List.of(listener)).getFirst();
    }

    /**
     * Starts several requests at once: they reach the scheduler together, so a static batch holds all of them
     * (up to the batch size) rather than starting with whichever arrived first. Futures in input order.
     *
     * @throws IllegalArgumentException before any request starts, if one is invalid: the message names the first
     *                                  invalid request by its index
     */
    public List<CompletableFuture<GenerationResult>> submitAll(List<GenerationRequest> requests) {
        return submitAll(requests, java.util.Collections.nCopies(requests.size(), TokenListener.NONE));
    }

    /** As {@link #submitAll(List)}, request i's tokens also going to {@code listeners.get(i)} as they come. */
    public List<CompletableFuture<GenerationResult>> submitAll(List<GenerationRequest> requests,
                                                               List<TokenListener> listeners) {
        if (listeners.size() != requests.size()) {
            throw new IllegalArgumentException(requests.size() + " requests but " + listeners.size() + " listeners");
        }
        for (int i = 0; i < requests.size(); i++) {
            String problem = problem(requests.get(i));
            if (problem != null) {
                throw new IllegalArgumentException("request " + i + ": " + problem);
            }
        }
        return enqueue(requests, listeners);
    }

    /** Hands valid requests to the engine thread; futures in input order. */
    private List<CompletableFuture<GenerationResult>> enqueue(List<GenerationRequest> requests,
                                                              List<TokenListener> listeners) {
        List<CompletableFuture<GenerationResult>> futures = new ArrayList<>(requests.size());
        List<Sequence> batch = new ArrayList<>(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            GenerationRequest request = requests.get(i);
            IllegalStateException down = unavailable();
            if (down != null) {
                futures.add(CompletableFuture.failedFuture(down));
                continue;
            }
            Sequence s = new Sequence(request, stepper.prepareInput(request.promptIds()), listeners.get(i));
            futures.add(s.future());
            // Cancelling the caller's future stops the sequence at its next step and frees its cache.
            s.future().whenComplete((r, e) -> {
                if (s.future().isCancelled()) {
                    s.markCancelled();
                    submissions.offer(WAKE_UP);
                }
            });
            batch.add(s);
        }
        if (!batch.isEmpty()) {
            submissions.add(batch);
            // The loop may have ended between the check above and the add: then nobody would take the batch.
            if (!worker.isAlive()) {
                drain(unavailable() != null ? unavailable() : new IllegalStateException("the engine was closed"));
            }
        }
        return futures;
    }

    /** Why the engine takes no requests (closed, or failed), or null. */
    private IllegalStateException unavailable() {
        if (failure != null) {
            return failure;
        }
        return closed ? new IllegalStateException("the engine is closed") : null;
    }

    /** Fails every submission still queued. */
    private void drain(Throwable reason) {
        List<Sequence> arrived;
        while ((arrived = submissions.poll()) != null) {
            arrived.forEach(s -> s.fail(reason));
        }
    }

    /** Generates one request, blocking until it is done. */
    public GenerationResult generate(GenerationRequest request) {
        return join(submit(request));
    }

    /**
     * Generates every request; results in input order.
     *
     * @throws IllegalArgumentException before any work starts, if a request is invalid (see {@link #submitAll})
     */
    public List<GenerationResult> generateAll(List<GenerationRequest> requests) {
        List<GenerationResult> out = new ArrayList<>();
        for (var f : submitAll(requests)) {
            out.add(join(f));
        }
        return out;
    }

    private static GenerationResult join(CompletableFuture<GenerationResult> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while generating", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new CompletionException(cause);
        }
    }

    /**
     * Rejects a request the model cannot run, with a message that says why: for callers that answer a bad request
     * before submitting it ({@link #submit} and {@link #submitAll} check the same).
     */
    public void validate(GenerationRequest request) {
        String problem = problem(request);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** Why the model cannot run {@code request}, or null: the one place requests are checked. */
    private String problem(GenerationRequest request) {
        ModelConfig config = weights.config();
        int[] ids = request.promptIds();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= config.vocabSize()) {
                return "prompt token " + i + " has id " + ids[i] + ", outside the vocabulary [0, "
                        + config.vocabSize() + ")";
            }
        }
        CachePools caches = stepper.caches();
        int positions = caches.positionsFor(ids.length, request.maxNewTokens());
        int maxPositions = geometry.globalStack().maxPositions();
        if (positions > maxPositions) {
            int perPosition = geometry.tokensPerEntry();
            return "prompt of " + ids.length + " tokens plus " + request.maxNewTokens() + " new tokens needs "
                    + positions + " positions, more than the model's " + maxPositions
                    + (perPosition > 1 ? " blocks of " + perPosition + " tokens" : "");
        }
        int pages = caches.pagesFor(ids.length, request.maxNewTokens());
        if (pages > caches.totalPages()) {
            return budget.tooLong(ids.length, request.maxNewTokens(), pages, caches.totalPages());
        }
        return null;
    }

    /** The largest batch whose sequences of this shape all fit the cache pool at once (at most maxBatchSize). */
    public int maxBatchFor(int promptLength, int maxNewTokens) {
        CachePools caches = stepper.caches();
        int pages = caches.pagesFor(promptLength, maxNewTokens);
        return Math.min(options.maxBatchSize(), caches.totalPages() / Math.max(1, pages));
    }

    /** Bytes held by the KV caches (global pool plus local slots). */
    public long cacheBytes() {
        return stepper.caches().bytes();
    }

    /** Global-cache pages free now and in all; equal when nothing runs. */
    public int freeCachePages() {
        return stepper.caches().freePages();
    }

    public int totalCachePages() {
        return stepper.caches().totalPages();
    }

    /** How often admission waited for free cache pages, and the largest batch run so far. */
    public SchedulerStats stats() {
        return new SchedulerStats(scheduler.waitsForPages(), scheduler.peakActive());
    }

    /**
     * Requests submitted and not yet running: queued for admission (for batch rows or cache pages) or not yet seen
     * by the engine thread. A snapshot for monitoring.
     */
    public int waitingCount() {
        // The scheduler first: a request moving from the arrivals to it meanwhile is then missed, never counted twice.
        int queued = scheduler.waitingNow();
        for (List<Sequence> batch : submissions) {
            queued += batch.size();
        }
        return queued;
    }

    /** Requests in the running batch now (a snapshot for monitoring). */
    public int runningCount() {
        return scheduler.activeNow();
    }

    public String describeBackend() {
        return backend.name() + ": " + backend.device();
    }

    /** The backend's name, e.g. "cpu" or "tornado". */
    public String backendName() {
        return backend.name();
    }

    private void loop() {
        try {
            while (!closed) {
                try {
                    iterate();
                } catch (RuntimeException | Error e) {
                    // Outside a step (a step's own errors fail that step's sequences): fail what the scheduler
                    // holds with the cause and go on serving the others; if even that fails, the engine is failed.
                    LOG.warn("engine error outside a step; failing the requests it held", e);
                    try {
                        scheduler.abortAll(e);
                    } catch (RuntimeException | Error again) {
                        again.addSuppressed(e);
                        failure = new IllegalStateException("the engine failed: " + again, again);
                        LOG.error("the engine failed and takes no more requests", again);
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            IllegalStateException reason = failure != null ? failure : new IllegalStateException("the engine was closed");
            try {
                scheduler.abortAll(reason);
            } finally {
                drain(reason);
            }
        }
    }

    /** One turn of the loop: take what arrived, run one unit of work. */
    private void iterate() throws InterruptedException {
        if (scheduler.idle()) {
            List<Sequence> arrived = submissions.poll(100, TimeUnit.MILLISECONDS);
            if (arrived != null) {
                arrived.forEach(scheduler::enqueue);
            }
        }
        List<Sequence> arrived;
        while ((arrived = submissions.poll()) != null) {
            arrived.forEach(scheduler::enqueue);
        }
        scheduler.runOnce();
    }

    /** Whether the engine thread has ended (after {@link #close()}). */
    public boolean isTerminated() {
        return !worker.isAlive();
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        backend.close();
    }
}
