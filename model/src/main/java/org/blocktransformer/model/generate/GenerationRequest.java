package org.blocktransformer.model.generate;

import java.util.Objects;

/**
 * One prompt to continue.
 *
 * @param promptIds    token ids, at least one
 * @param maxNewTokens how many tokens to generate at most
 * @param sampling     greedy or seeded sampling
 * @param stopAtEos    stop after the model's EOS id is generated (it is included in the output)
 */
public record GenerationRequest(int[] promptIds, int maxNewTokens, SamplingParams sampling, boolean stopAtEos) {

    public GenerationRequest {
        Objects.requireNonNull(promptIds, "promptIds");
        Objects.requireNonNull(sampling, "sampling");
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: give at least one token id");
        }
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        }
        promptIds = promptIds.clone();
    }

    public static GenerationRequest greedy(int[] promptIds, int maxNewTokens) {
        return new GenerationRequest(promptIds, maxNewTokens, SamplingParams.GREEDY, false);
    }

    @Override
    public int[] promptIds() {
        return promptIds.clone();
    }
}
