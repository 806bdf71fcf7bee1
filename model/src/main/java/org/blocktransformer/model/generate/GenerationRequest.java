package org.blocktransformer.model.generate;

import java.util.Objects;

/**
 * One prompt to continue.
 *
 * @param promptIds    token ids, at least one
 * @param maxNewTokens how many tokens to generate at most, at least 1
 * @param sampling     greedy or seeded sampling
 * @param stopAtEos    stop after the model's EOS id is generated (it is included in the output)
 * @param logprobs     -1: no log-probabilities; k >= 0: each token's {@link TokenLogprobs} with the k most probable
 *                     alternatives, handed to the {@link TokenListener} (at most {@link #MAX_LOGPROBS})
 */
public record GenerationRequest(int[] promptIds, int maxNewTokens, SamplingParams sampling, boolean stopAtEos,
                                int logprobs) {

    /** Most alternatives a request may ask log-probabilities for. */
    public static final int MAX_LOGPROBS = 20;

    public GenerationRequest {
        Objects.requireNonNull(promptIds, "promptIds");
        Objects.requireNonNull(sampling, "sampling");
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: give at least one token id");
        }
        // A request for nothing is a caller's mistake (bt generate refuses --max-new-tokens 0 too); a caller that
        // has nothing to generate, such as a server asked for max_tokens 0, answers without the engine.
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        }
        if (logprobs < -1 || logprobs > MAX_LOGPROBS) {
            throw new IllegalArgumentException("logprobs must be -1 (none) or 0.." + MAX_LOGPROBS + ", got " + logprobs);
        }
        promptIds = promptIds.clone();
    }

    /** A request without log-probabilities. */
    public GenerationRequest(int[] promptIds, int maxNewTokens, SamplingParams sampling, boolean stopAtEos) {
        this(promptIds, maxNewTokens, sampling, stopAtEos, -1);
    }

    /** This request, with each token's log-probability and its {@code top} most probable alternatives. */
    public GenerationRequest withLogprobs(int top) {
        return new GenerationRequest(promptIds, maxNewTokens, sampling, stopAtEos, top);
    }

    public boolean wantsLogprobs() {
        return logprobs >= 0;
    }

    public static GenerationRequest greedy(int[] promptIds, int maxNewTokens) {
        return new GenerationRequest(promptIds, maxNewTokens, SamplingParams.GREEDY, false);
    }

    @Override
    public int[] promptIds() {
        return promptIds.clone();
    }
}
