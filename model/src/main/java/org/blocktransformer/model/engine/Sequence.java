package org.blocktransformer.model.engine;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import org.blocktransformer.model.cache.CacheTable;
import org.blocktransformer.model.generate.FinishReason;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.TokenListener;
import org.blocktransformer.model.generate.TokenLogprobs;
import org.blocktransformer.model.runtime.Sampler;

/** One request while the engine works on it: its caches, what it still has to feed, and what it produced. */
final class Sequence {
    final GenerationRequest request;
    final int[] prompt;
    final Sampler sampler;
    final TokenListener listener;
    final CompletableFuture<GenerationResult> future = new CompletableFuture<>();
    final long submittedNanos;
    long startedNanos;
    long firstTokenNanos;

    /** Input units (tokens, or ids of whole blocks) to feed the global stack, and how many are fed. */
    int[] input;
    int fed;
    CacheTable global;
    CacheTable local;
    /** Block model: the context that decodes the next block, once the global stack produced it. */
    float[] context;

    private int[] generated = new int[16];
    private int generatedCount;
    FinishReason finish;
    volatile boolean cancelled;
    /** Why this sequence alone failed (its token listener threw); it stops, and its future fails with this. */
    RuntimeException failure;

    Sequence(GenerationRequest request, int[] prompt, TokenListener listener) {
        this.request = request;
        this.prompt = prompt;
        this.input = prompt;
        this.sampler = new Sampler(request.sampling());
        this.listener = listener;
        this.submittedNanos = System.nanoTime();
    }

    boolean finished() {
        return finish != null;
    }

    int generatedCount() {
        return generatedCount;
    }

    int generated(int i) {
        return generated[i];
    }

    int lastGenerated() {
        return generated[generatedCount - 1];
    }

    /** Records a new token (with its log-probabilities, or null) and decides whether the sequence stops here. */
    void accept(int token, TokenLogprobs logprobs, int eosId) {
        if (generatedCount == 0) {
            firstTokenNanos = System.nanoTime();
        }
        if (generatedCount == generated.length) {
            generated = Arrays.copyOf(generated, generated.length * 2);
        }
        generated[generatedCount++] = token;
        try {
            listener.onToken(token, logprobs);
        } catch (RuntimeException e) {
            // A caller's listener failing ends its own request, not the batch it shares.
            failure = new IllegalStateException("the request's token listener failed: " + e.getMessage(), e);
            finish = FinishReason.CANCELLED;
            return;
        }
        if (request.stopAtEos() && token == eosId) {
            finish = FinishReason.EOS;
        } else if (generatedCount >= request.maxNewTokens()) {
            finish = FinishReason.LENGTH;
        } else if (cancelled) {
            finish = FinishReason.CANCELLED;
        }
    }

    GenerationResult result() {
        long now = System.nanoTime();
        long first = firstTokenNanos == 0 ? now : firstTokenNanos;
        return new GenerationResult(request.promptIds(), Arrays.copyOf(generated, generatedCount), finish,
                startedNanos - submittedNanos, first - submittedNanos, now - submittedNanos);
    }

    boolean hasUnfedInput() {
        return fed < input.length;
    }
}
