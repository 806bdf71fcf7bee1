package org.blocktransformer.server;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.FinishReason;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.NonFiniteLogitsException;
import org.blocktransformer.model.generate.TokenListener;
import org.blocktransformer.model.generate.TokenLogprobs;

/**
 * The choices of one HTTP request on the engine. The engine's thread only queues events (a token, a choice ended);
 * the request's own (virtual) thread takes them in order, decodes text, applies stop strings and writes, so slow
 * clients and tokenizers never hold up the batch.
 */
final class Generation {
    private sealed interface Event {
    }

    private record Token(int choice, int id, TokenLogprobs logprobs, long nanos) implements Event {
    }

    private record Done(int choice, GenerationResult result, Throwable error) implements Event {
    }

    /** Wakes the request's thread after a cancellation. */
    private record Wake() implements Event {
    }

    /** Receives each choice's progress on the request's thread. */
    interface Sink {
        /** {@code piece} is new final text (maybe empty); {@code finished} when the choice just ended. */
        void progress(Choice choice, String piece, boolean finished);
    }

    final List<Choice> choices;
    final long arrivalNanos;
    private final Metrics metrics;
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
    private volatile String abortReason;
    private volatile boolean clientGone;

    Generation(List<Choice> choices, long arrivalNanos, Metrics metrics) {
        this.choices = choices;
        this.arrivalNanos = arrivalNanos;
        this.metrics = metrics;
    }

    void start(InferenceEngine engine) {
        for (Choice c : choices) {
            int index = c.index;
            CompletableFuture<GenerationResult> f = c.request == null
                    ? CompletableFuture.completedFuture(nothing(c))
                    : engine.submit(c.request, listener(index));
            futures.add(f);
            f.whenComplete((r, e) -> events.add(new Done(index, r, e)));
        }
    }

    /** Queues choice {@code index}'s tokens for the request's thread (the engine's thread must stay quick). */
    private TokenListener listener(int index) {
        return new TokenListener() {
            @Override
            public void onToken(int tokenId) {
                onToken(tokenId, null);
            }

            @Override
            public void onToken(int tokenId, TokenLogprobs logprobs) {
                events.add(new Token(index, tokenId, logprobs, System.nanoTime()));
            }
        };
    }

    /** The result of a choice that asks for no tokens: it ends at its length at once, as it would in the engine. */
    private static GenerationResult nothing(Choice c) {
        return new GenerationResult(c.promptIds, new int[0], FinishReason.LENGTH, 0, 0, 0);
    }

    /** The client hung up: cancel every choice (the engine frees their cache pages at its next step). */
    void clientGone() {
        clientGone = true;
        cancelAll();
    }

    /** The server is shutting down and the grace period is over. */
    void abort(String reason) {
        abortReason = reason;
        cancelAll();
    }

    private void cancelAll() {
        for (CompletableFuture<GenerationResult> f : futures) {
            f.cancel(false);
        }
        events.add(new Wake());
    }

    boolean wasClientGone() {
        return clientGone;
    }

    /** Runs until every choice has ended, reporting progress to {@code sink}. */
    void run(Sink sink) throws InterruptedException {
        int remaining = choices.size();
        while (remaining > 0) {
            Event e = events.take();
            if (clientGone) {
                throw new Exchange.ClientGone(null);
            }
            if (abortReason != null) {
                throw ApiError.unavailable(abortReason);
            }
            switch (e) {
                case Token t -> {
                    Choice c = choices.get(t.choice());
                    if (c.done()) {
                        continue; // a token of the block that held the stop string
                    }
                    observe(c, t.nanos());
                    String piece = c.add(t.id(), t.logprobs());
                    if (c.text.stopped()) {
                        c.finishReason = "stop";
                        futures.get(c.index).cancel(false);
                        remaining--;
                        sink.progress(c, piece, true);
                    } else {
                        sink.progress(c, piece, false);
                    }
                }
                case Done d -> {
                    Choice c = choices.get(d.choice());
                    if (c.done()) {
                        continue;
                    }
                    if (d.error() != null) {
                        Throwable cause = d.error() instanceof CompletionException ce && ce.getCause() != null
                                ? ce.getCause() : d.error();
                        if (cause instanceof CancellationException) {
                            continue; // our own cancellation; the flags above say why
                        }
                        String which = choices.size() > 1 ? "choice " + c.index + ": " : "";
                        if (cause instanceof NonFiniteLogitsException) {
                            throw ApiError.nonFiniteLogits(which + "the model cannot continue this prompt: "
                                    + cause.getMessage(), cause);
                        }
                        throw ApiError.internal(which + "the engine failed: " + cause.getMessage(), cause);
                    }
                    String piece = c.text.finish();
                    c.finishReason = c.text.stopped() || d.result().finishReason() != FinishReason.LENGTH
                            ? "stop" : "length";
                    remaining--;
                    sink.progress(c, piece, true);
                }
                case Wake w -> {
                }
            }
        }
    }

    private void observe(Choice c, long nanos) {
        if (c.ids.isEmpty()) {
            metrics.timeToFirstToken.observe((nanos - arrivalNanos) / 1e9);
        } else {
            metrics.interTokenLatency.observe((nanos - c.lastTokenNanos) / 1e9);
        }
        c.lastTokenNanos = nanos;
        metrics.generationTokens.increment();
    }

    /** Cancels whatever still runs (after an error or a write failure). */
    void cancelRemaining() {
        for (CompletableFuture<GenerationResult> f : futures) {
            f.cancel(false);
        }
    }
}
