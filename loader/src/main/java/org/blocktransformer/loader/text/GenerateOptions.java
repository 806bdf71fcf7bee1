package org.blocktransformer.loader.text;

import org.blocktransformer.model.generate.SamplingParams;

/**
 * How to continue a text prompt.
 *
 * @param maxNewTokens most tokens to generate, at least 1
 * @param sampling     greedy or seeded sampling
 * @param stopAtEos    stop at the model's end-of-text token
 */
public record GenerateOptions(int maxNewTokens, SamplingParams sampling, boolean stopAtEos) {

    public GenerateOptions {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        }
        if (sampling == null) {
            throw new IllegalArgumentException("sampling is missing");
        }
    }

    /** Greedy decoding of up to {@code maxNewTokens} tokens, stopping at end-of-text. */
    public static GenerateOptions greedy(int maxNewTokens) {
        return new GenerateOptions(maxNewTokens, SamplingParams.GREEDY, true);
    }

    /** Sampling at {@code temperature} (top-k and top-p off), reproducible from {@code seed}. */
    public static GenerateOptions sample(int maxNewTokens, double temperature, long seed) {
        return new GenerateOptions(maxNewTokens, SamplingParams.sample(temperature, 0, 1.0, seed), true);
    }

    public GenerateOptions withTopK(int k) {
        var s = sampling;
        return new GenerateOptions(maxNewTokens, new SamplingParams(s.temperature(), k, s.topP(), s.seed()), stopAtEos);
    }

    public GenerateOptions withTopP(double p) {
        var s = sampling;
        return new GenerateOptions(maxNewTokens, new SamplingParams(s.temperature(), s.topK(), p, s.seed()), stopAtEos);
    }

    /** Keep generating through end-of-text tokens. */
    public GenerateOptions ignoringEos() {
        return new GenerateOptions(maxNewTokens, sampling, false);
    }
}
