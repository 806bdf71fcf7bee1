package org.blocktransformer.model.engine;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import org.blocktransformer.model.backend.Logits;
import org.blocktransformer.model.cache.CacheTable;
import org.blocktransformer.model.generate.FinishReason;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.NonFiniteLogitsException;
import org.blocktransformer.model.generate.TokenListener;
import org.blocktransformer.model.generate.TokenLogprobs;
import org.blocktransformer.model.runtime.Sampler;

/**
 * One request while the engine works on it: its caches, what it still has to feed, and what it produced. Its state
 * changes only through these methods, all called on the engine thread except {@link #markCancelled()}.
 *
 * <p>Life: waiting, then {@link #start started} once its caches are reserved; each step feeds some of its pending
 * input ({@link #takeInput}) and, once all is fed, {@link #accept accepts} a token, whose successor input is
 * {@link #queueInput queued}; it {@link #finished() finishes} at EOS, at its length, cancelled or failed, and is
 * {@link #complete() completed} after its caches are released.
 */
final class Sequence {
    private final GenerationRequest request;
    private final Sampler sampler;
    private final TokenListener listener;
    private final CompletableFuture<GenerationResult> future = new CompletableFuture<>();
    private final long submittedNanos;
    private long startedNanos;
    private long firstTokenNanos;

    /** Input units (tokens, or ids of whole blocks) to feed the global stack, and how many are fed. */
    private int[] input;
    private int fed;
    private CacheTable global;
    private CacheTable local;
    /** Block model: the context that decodes the next block, once the global stack produced it. */
    private float[] context;

    private int[] generated = new int[16];
    private int generatedCount;
    private FinishReason finish;
    private volatile boolean cancelled;
    /**
     * Why this sequence alone failed (its token listener threw, or its logits were not finite); it stops, and its
     * future fails with this.
     */
    private RuntimeException failure;

    /** @param input the prompt as the global stack consumes it ({@link Stepper#prepareInput}) */
    Sequence(GenerationRequest request, int[] input, TokenListener listener) {
        this.request = request;
        this.input = input;
        this.sampler = new Sampler(request.sampling());
        this.listener = listener;
        this.submittedNanos = System.nanoTime();
    }

    GenerationRequest request() {
        return request;
    }

    Sampler sampler() {
        return sampler;
    }

    CompletableFuture<GenerationResult> future() {
        return future;
    }

    // ---- caches

    /** Takes the caches reserved for this sequence at admission; it is running from now on. */
    void start(CacheTable global, CacheTable local) {
        if (this.global != null) {
            throw new IllegalStateException("the sequence already holds caches");
        }
        this.global = global;
        this.local = local;
        this.startedNanos = System.nanoTime();
    }

    boolean holdsCaches() {
        return global != null;
    }

    /** Its global cache table (null before it starts). */
    CacheTable globalCache() {
        return global;
    }

    /** Its local cache slot (block models; null otherwise). */
    CacheTable localCache() {
        return local;
    }

    /** Returns its cache pages to their pools; nothing if it holds none. */
    void releaseCaches() {
        if (global != null) {
            global.release();
            global = null;
        }
        if (local != null) {
            local.release();
            local = null;
        }
    }

    // ---- input to the global stack

    /** Input ids not yet fed. */
    int unfedCount() {
        return input.length - fed;
    }

    boolean hasUnfedInput() {
        return fed < input.length;
    }

    /** The next {@code n} input ids, now counted as fed. */
    int[] takeInput(int n) {
        if (n <= 0 || n > unfedCount()) {
            throw new IllegalArgumentException("cannot feed " + n + " of " + unfedCount() + " pending ids");
        }
        int[] out = Arrays.copyOfRange(input, fed, fed + n);
        fed += n;
        return out;
    }

    /** What to feed next, once everything before it is fed: the last token, or the last finished block. */
    void queueInput(int[] ids) {
        if (hasUnfedInput()) {
            throw new IllegalStateException("input queued while " + unfedCount() + " ids are still pending");
        }
        input = ids;
        fed = 0;
    }

    // ---- block model: the context of its next block

    /** Keeps the block decoder's output that decodes this sequence's next block. */
    void setContext(float[] context) {
        this.context = context;
    }

    boolean hasContext() {
        return context != null;
    }

    /** The context of its next block, now consumed. */
    float[] takeContext() {
        float[] c = context;
        context = null;
        return c;
    }

    // ---- tokens

    int generatedCount() {
        return generatedCount;
    }

    int generated(int i) {
        return generated[i];
    }

    int lastGenerated() {
        return generated[generatedCount - 1];
    }

    /**
     * Records a new token (with its log-probabilities, or null) and decides whether the sequence stops here; {@link
     * Logits#NON_FINITE} (its logits held a NaN or an infinity) fails this sequence alone.
     */
    void accept(int token, TokenLogprobs logprobs, int eosId) {
        if (token == Logits.NON_FINITE) {
            failure = new NonFiniteLogitsException("non-finite logits (NaN or infinity) at new token "
                    + (generatedCount + 1) + " of the request (prompt of " + request.promptIds().length + " tokens)");
            finish = FinishReason.CANCELLED;
            return;
        }
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

    // ---- ending

    boolean finished() {
        return finish != null;
    }

    /** Called from any thread (its future was cancelled): the engine stops it at its next step. */
    void markCancelled() {
        cancelled = true;
    }

    boolean isCancelled() {
        return cancelled;
    }

    /** Finishes it as cancelled if its caller cancelled it and it has not finished otherwise; whether it did. */
    boolean stopIfCancelled() {
        if (cancelled && finish == null) {
            finish = FinishReason.CANCELLED;
            return true;
        }
        return false;
    }

    /** Completes its future with its result, or with why it alone failed. Its caches should be released first. */
    void complete() {
        if (failure != null) {
            future.completeExceptionally(failure);
        } else {
            future.complete(result());
        }
    }

    /** Fails its future with {@code reason} (a step, or the engine, failed). */
    void fail(Throwable reason) {
        future.completeExceptionally(reason);
    }

    GenerationResult result() {
        long now = System.nanoTime();
        long first = firstTokenNanos == 0 ? now : firstTokenNanos;
        return new GenerationResult(request.promptIds(), Arrays.copyOf(generated, generatedCount), finish,
                startedNanos - submittedNanos, first - submittedNanos, now - submittedNanos);
    }
}
