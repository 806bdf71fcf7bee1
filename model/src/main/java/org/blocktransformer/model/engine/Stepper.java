package org.blocktransformer.model.engine;

import java.util.List;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.VanillaWeights;

/**
 * Runs one model's sequences: owns its KV caches (admission reserves a request's whole need, the end releases it)
 * and advances every active sequence by one scheduling unit, a token for the vanilla model, a block for the Block
 * Transformer. Sequences only join or leave between units.
 */
sealed interface Stepper permits VanillaStepper, BlockStepper {

    /**
     * The stepper of {@code weights} on {@code backend}, its caches sized by {@code budget} once its runner (and with
     * it the backend's copies of the weights) exists.
     */
    static Stepper open(ModelWeights weights, ComputeBackend backend, CacheBudget budget) {
        return switch (weights) {
            case VanillaWeights v -> new VanillaStepper(v, backend, budget);
            case BlockWeights b -> new BlockStepper(b, backend, budget);
        };
    }

    /** The prompt as units the global stack consumes (the block model left-pads it to whole blocks). */
    int[] prepareInput(int[] prompt);

    /** Its caches; the scheduler and engine use {@link #reserve}, {@link #release} and the counts below. */
    CachePools caches();

    /**
     * Reserves every cache position {@code s} can ever need and starts it; false, with nothing taken, while too few
     * pages are free.
     */
    default boolean reserve(Sequence s) {
        return caches().reserve(s);
    }

    /** Returns the cache pages of {@code s} (ended, failed or cancelled). */
    default void release(Sequence s) {
        caches().release(s);
    }

    /**
     * One unit for all of {@code active}: feeds pending input (new sequences' prompts in chunks of at most
     * the backend's {@link ComputeBackend#prefillTokens()} tokens in all) and produces the next token(s) of every sequence whose input is fed.
     */
    void step(List<Sequence> active);
}
