package org.blocktransformer.loader.text;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.TokenListener;
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
 */
public final class TextEngine implements AutoCloseable {
    private final InferenceEngine engine;
    private final BtTokenizer tokenizer;

    private TextEngine(InferenceEngine engine, BtTokenizer tokenizer) {
        this.engine = engine;
        this.tokenizer = tokenizer;
    }

    /** A checkpoint directory holding {@code config.json}, weights and {@code tokenizer.json}. */
    public static TextEngine open(Path checkpoint, EngineOptions options) {
        Path tokenizer = checkpoint.resolve(BtTokenizer.TOKENIZER_FILE);
        if (!Files.isRegularFile(tokenizer)) {
            throw new IllegalArgumentException("no " + BtTokenizer.TOKENIZER_FILE + " in " + checkpoint
                    + "; pass the tokenizer with open(model, tokenizer, options)");
        }
        return open(checkpoint.toString(), tokenizer, options);
    }

    /** A checkpoint directory or preset name, and a {@code tokenizer.json} (file or the folder holding it). */
    public static TextEngine open(String modelDirOrPreset, Path tokenizer, EngineOptions options) {
        BtTokenizer tok = BtTokenizer.load(tokenizer);
        try {
            var weights = ModelSources.load(modelDirOrPreset, WeightFormat.F32, 0);
            if (tok.vocabSize() > weights.config().vocabSize()) {
                throw new IllegalArgumentException("tokenizer has " + tok.vocabSize() + " tokens but the model only "
                        + weights.config().vocabSize());
            }
            return new TextEngine(InferenceEngine.open(weights, options), tok);
        } catch (RuntimeException e) {
            tok.close();
            throw e;
        }
    }

    public InferenceEngine engine() {
        return engine;
    }

    public BtTokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * Continues {@code prompt}, blocking until done; a failure throws the engine's own exception (an invalid
     * request's {@link IllegalArgumentException}, a closed engine's {@link IllegalStateException}), not a wrapper.
     */
    public TextResult generate(String prompt, GenerateOptions options) {
        try {
            return submit(prompt, options).join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw e;
        }
    }

    /** Starts a continuation; the future completes with it (or exceptionally, e.g. for an empty prompt). */
    public CompletableFuture<TextResult> submit(String prompt, GenerateOptions options) {
        return submit(prompt, options, TokenListener.NONE);
    }

    private CompletableFuture<TextResult> submit(String prompt, GenerateOptions options, TokenListener listener) {
        if (closed) {
            // The tokenizer's native memory is gone: say so instead of letting it fail obscurely.
            return CompletableFuture.failedFuture(new IllegalStateException("this TextEngine is closed"));
        }
        int[] ids = tokenizer.encode(prompt);
        if (ids.length == 0) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("the prompt encodes to no tokens"));
        }
        var request = new GenerationRequest(ids, options.maxNewTokens(), options.sampling(), options.stopAtEos());
        return engine.submit(request, listener).thenApply(this::toText);
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
            IncrementalDecoder decoder = new IncrementalDecoder(tokenizer::decode);
            submit(prompt, options, id -> {
                String piece = decoder.add(id);
                if (!piece.isEmpty()) {
                    publisher.submit(piece);
                }
            }).whenComplete((result, error) -> {
                if (error != null) {
                    publisher.closeExceptionally(error);
                } else {
                    String rest = decoder.flush();
                    if (!rest.isEmpty()) {
                        publisher.submit(rest);
                    }
                    publisher.close();
                }
            });
        };
    }

    private TextResult toText(GenerationResult r) {
        return new TextResult(tokenizer.decode(r.generatedIds()), r.promptIds(), r.generatedIds(), r.finishReason(),
                r.firstTokenNanos() / 1e6, r.totalNanos() / 1e6);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        engine.close();
        tokenizer.close();
    }

    private volatile boolean closed;
}
