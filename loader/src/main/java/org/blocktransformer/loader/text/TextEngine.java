package org.blocktransformer.loader.text;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;
import org.blocktransformer.loader.LoadProgress;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.backend.Backends;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.TokenListener;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * Text in, text out: a model, its tokenizer and an {@link InferenceEngine}. Thread-safe; many threads may share
 * one. Close it to stop the engine and free its memory.
 *
 * <pre>{@code
 * try (var bt = TextEngine.open(Path.of("my-checkpoint"), EngineOptions.defaults())) {
 *     TextResult r = bt.generate("Once upon a time", GenerateOptions.greedy(64));
 *     System.out.println(r.text());
 * }
 * }</pre>
 *
 * <p>Token-id requests ({@link #submitAll}, {@link #generateAll}) also run without a tokenizer (a preset has none):
 * their results then have no text. Tokens become streamed text in one place, {@code RequestStream}: {@code bt
 * generate} prints what its {@link BatchListener} hears, {@link #stream} publishes it.
 */
public final class TextEngine implements AutoCloseable {
    private final InferenceEngine engine;
    private final BtTokenizer tokenizer;
    private volatile boolean closed;

    private TextEngine(InferenceEngine engine, BtTokenizer tokenizer) {
        this.engine = engine;
        this.tokenizer = tokenizer;
    }

    /** A checkpoint directory holding {@code config.json}, weights and {@code tokenizer.json}. */
    public static TextEngine open(Path checkpoint, EngineOptions options) {
        Path tokenizer = ModelSources.tokenizerBeside(checkpoint.toString()).orElseThrow(() ->
                new IllegalArgumentException("no " + BtTokenizer.TOKENIZER_FILE + " in " + checkpoint
                        + "; pass the tokenizer with open(model, tokenizer, options)"));
        return open(checkpoint.toString(), tokenizer, options);
    }

    /**
     * A checkpoint directory or preset name (float32 weights, a preset's from seed 0), and a {@code tokenizer.json}
     * (the file or the folder holding it).
     */
    public static TextEngine open(String modelDirOrPreset, Path tokenizer, EngineOptions options) {
        BtTokenizer tok = BtTokenizer.load(tokenizer);
        ModelWeights weights;
        try {
            // In the layout of the backend that will run it, so the weights are held once.
            weights = ModelSources.load(modelDirOrPreset, WeightFormat.F32, 0,
                    Backends.matrixLayout(options.backend()), LoadProgress.NONE);
        } catch (RuntimeException | Error e) {
            tok.close();
            throw e;
        }
        return open(weights, tok, options);
    }

    /**
     * Loaded weights and their tokenizer, or none ({@code null}: token-id requests only). The engine owns the
     * tokenizer from here on: it closes it with itself, or at once if opening fails.
     *
     * @throws IllegalArgumentException if the tokenizer's ids can exceed the model's vocabulary
     *                                  ({@link BtTokenizer#requireFits})
     */
    public static TextEngine open(ModelWeights weights, BtTokenizer tokenizer, EngineOptions options) {
        try {
            if (tokenizer != null) {
                tokenizer.requireFits(weights.config().vocabSize());
            }
            return new TextEngine(InferenceEngine.open(weights, options), tokenizer);
        } catch (RuntimeException | Error e) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            throw e;
        }
    }

    public InferenceEngine engine() {
        return engine;
    }

    /** The tokenizer; empty for an engine of token ids only. */
    public Optional<BtTokenizer> tokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    /**
     * Continues {@code prompt}, blocking until done; a failure throws the engine's own exception (an invalid
     * request's {@link IllegalArgumentException}, a closed engine's {@link IllegalStateException}), not a wrapper.
     */
    public TextResult generate(String prompt, GenerateOptions options) {
        return join(submit(prompt, options));
    }

    /** Starts a continuation; the future completes with it (or exceptionally, e.g. for an empty prompt). */
    public CompletableFuture<TextResult> submit(String prompt, GenerateOptions options) {
        return submit(prompt, options, BatchListener.NONE);
    }

    /**
     * Streams the continuation as text pieces while it is generated; their concatenation is the result's text. A
     * piece is emitted once its bytes decode to whole characters. The publisher is cold: each subscriber starts
     * its own generation when it subscribes, so no piece is produced before anyone listens.
     */
    public Flow.Publisher<String> stream(String prompt, GenerateOptions options) {
        return subscriber -> {
            SubmissionPublisher<String> publisher = new SubmissionPublisher<>();
            publisher.subscribe(subscriber);
            submit(prompt, options, new BatchListener() {
                @Override
                public void token(int index, int id, String text) {
                    publishIfAny(publisher, text);
                }

                @Override
                public void finished(int index, TextResult result, String tail) {
                    publishIfAny(publisher, tail);
                }
            }).whenComplete((result, error) -> {
                if (error != null) {
                    publisher.closeExceptionally(error instanceof CompletionException c && c.getCause() != null
                            ? c.getCause() : error);
                } else {
                    publisher.close();
                }
            });
        };
    }

    private static void publishIfAny(SubmissionPublisher<String> publisher, String piece) {
        if (!piece.isEmpty()) {
            publisher.submit(piece);
        }
    }

    /**
     * Starts token-id requests together (a static batch holds all of them, see {@link InferenceEngine#submitAll}),
     * telling {@code listener} each token and each finished request as they come. Futures in input order; each
     * completes once the listener has heard its request finish.
     *
     * @throws IllegalArgumentException before any request starts, if one is invalid: the message names the first
     *                                  invalid request by its index
     */
    public List<CompletableFuture<TextResult>> submitAll(List<GenerationRequest> requests, BatchListener listener) {
        requireOpen();
        Object lock = new Object();
        List<RequestStream> streams = new ArrayList<>(requests.size());
        List<TokenListener> tokens = new ArrayList<>(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            RequestStream s = new RequestStream(i, listener, lock);
            streams.add(s);
            tokens.add(s::token);
        }
        List<CompletableFuture<GenerationResult>> futures = engine.submitAll(requests, tokens);
        List<CompletableFuture<TextResult>> out = new ArrayList<>(futures.size());
        for (int i = 0; i < futures.size(); i++) {
            out.add(futures.get(i).thenApply(streams.get(i)::finish));
        }
        return out;
    }

    /**
     * As {@link #submitAll}, waiting for every request; results in input order. If a request fails, the others still
     * run to the end (the listener hears each), then the first failure in input order is thrown: the engine's own
     * exception, not a wrapper.
     */
    public List<TextResult> generateAll(List<GenerationRequest> requests, BatchListener listener) {
        List<CompletableFuture<TextResult>> futures = submitAll(requests, listener);
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).handle((ignored, error) -> null).join();
        List<TextResult> results = new ArrayList<>(futures.size());
        for (CompletableFuture<TextResult> f : futures) {
            results.add(join(f));
        }
        return results;
    }

    private CompletableFuture<TextResult> submit(String prompt, GenerateOptions options, BatchListener listener) {
        if (closed) {
            // The tokenizer's native memory is gone: say so instead of letting it fail obscurely.
            return CompletableFuture.failedFuture(new IllegalStateException("this TextEngine is closed"));
        }
        if (tokenizer == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("this TextEngine has no tokenizer:"
                    + " text prompts need one (token-id requests go through submitAll)"));
        }
        int[] ids = tokenizer.encode(prompt);
        if (ids.length == 0) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("the prompt encodes to no tokens"));
        }
        var request = new GenerationRequest(ids, options.maxNewTokens(), options.sampling(), options.stopAtEos());
        RequestStream s = new RequestStream(0, listener, new Object());
        return engine.submit(request, s::token).thenApply(s::finish);
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("this TextEngine is closed");
        }
    }

    /** The future's result, or its failure as the engine's own exception. */
    private static TextResult join(CompletableFuture<TextResult> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while generating", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new CompletionException(e.getCause());
        }
    }

    /**
     * One request on its way to a listener: its tokens' text pieces as they come (when the listener decodes and
     * there is a tokenizer), then its result. The batch's lock keeps the listener's calls from overlapping.
     */
    private final class RequestStream {
        private final int index;
        private final BatchListener listener;
        private final Object lock;
        private final IncrementalDecoder decoder;

        RequestStream(int index, BatchListener listener, Object lock) {
            this.index = index;
            this.listener = listener;
            this.lock = lock;
            this.decoder = tokenizer != null && listener.decodesTokens()
                    ? new IncrementalDecoder(tokenizer::decodeGenerated) : null;
        }

        /** On the engine's thread, one token at a time. */
        void token(int id) {
            String piece = decoder == null ? null : decoder.add(id);
            synchronized (lock) {
                listener.token(index, id, piece);
            }
        }

        /** After the last token: the whole result, handed to the listener with the text its pieces have not given. */
        TextResult finish(GenerationResult r) {
            TextResult result = new TextResult(tokenizer == null ? null : tokenizer.decodeGenerated(r.generatedIds()),
                    r.promptIds(), r.generatedIds(), r.finishReason(), r.queuedNanos() / 1e6,
                    r.firstTokenNanos() / 1e6, r.totalNanos() / 1e6);
            String tail = decoder == null ? null : decoder.flush();
            synchronized (lock) {
                listener.finished(index, result, tail);
            }
            return result;
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        engine.close();
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
