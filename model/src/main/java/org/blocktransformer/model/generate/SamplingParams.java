package org.blocktransformer.model.generate;

/**
 * How the next token is chosen. {@code temperature == 0} is greedy (argmax, first index on ties); otherwise the
 * logits are divided by the temperature, restricted to the {@code topK} largest ({@code 0} = all) and to the
 * smallest set whose probability reaches {@code topP} ({@code 1} = all), and sampled with a generator seeded by
 * {@code seed}, so a request gives the same tokens whoever shares its batch.
 */
public record SamplingParams(double temperature, int topK, double topP, long seed) {

    public static final SamplingParams GREEDY = new SamplingParams(0, 0, 1, 0);

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be >= 0 (0 = no limit), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
    }

    public static SamplingParams greedy() {
        return GREEDY;
    }

    public static SamplingParams sample(double temperature, int topK, double topP, long seed) {
        return new SamplingParams(temperature, topK, topP, seed);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }
}
