package org.blocktransformer.bench;

/** One throughput measurement: prompts of {@code promptLength} random ids, {@code newTokens} generated each. */
public record Scenario(String name, int promptLength, int newTokens) {
    public Scenario {
        if (promptLength <= 0 || newTokens <= 0) {
            throw new IllegalArgumentException("prompt length and new tokens must be positive");
        }
    }

    public static Scenario prefillHeavy() {
        return new Scenario("prefill-heavy", 2048, 128);
    }

    public static Scenario decodeHeavy() {
        return new Scenario("decode-heavy", 128, 2048);
    }

    public static Scenario custom(int promptLength, int newTokens) {
        return new Scenario("custom", promptLength, newTokens);
    }
}
