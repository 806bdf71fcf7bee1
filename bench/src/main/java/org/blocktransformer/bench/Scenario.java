package org.blocktransformer.bench;

import java.util.Locale;

/**
 * One throughput scenario: prompts of {@code promptLength} random ids, {@code newTokens} generated each.
 *
 * <p>The paper's two (Ho et al. 2024, Section 3, inference throughput): prefill-heavy (prompt 2048, 128 new) and
 * decode-heavy (prompt 128, 2048 new). Both need 2176 positions, more than the 2048 of the Pythia-shaped vanilla
 * presets, so {@code prefill-heavy-2k} (prompt 1920, 128 new) and {@code decode-heavy-2k} (prompt 128, 1920 new) are
 * the same scenarios shortened to fit 2048 positions. A suffix {@code /k} divides both lengths by k (e.g.
 * {@code decode-heavy/16} is prompt 8, 128 new), for machines where the full lengths take too long.
 */
public record Scenario(String name, int promptLength, int newTokens) {
    public Scenario {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a scenario needs a name");
        }
        if (promptLength <= 0 || newTokens <= 0) {
            throw new IllegalArgumentException("prompt length and new tokens must be positive, got " + promptLength
                    + " and " + newTokens);
        }
    }

    public static Scenario prefillHeavy() {
        return new Scenario("prefill-heavy", 2048, 128);
    }

    public static Scenario decodeHeavy() {
        return new Scenario("decode-heavy", 128, 2048);
    }

    /** The paper's prefill-heavy scenario shortened to 2048 positions: prompt 1920, 128 new. */
    public static Scenario prefillHeavy2k() {
        return new Scenario("prefill-heavy-2k", 1920, 128);
    }

    /** The paper's decode-heavy scenario shortened to 2048 positions: prompt 128, 1920 new. */
    public static Scenario decodeHeavy2k() {
        return new Scenario("decode-heavy-2k", 128, 1920);
    }

    /** A scenario named by its lengths, e.g. "128:128". */
    public static Scenario custom(int promptLength, int newTokens) {
        return new Scenario(promptLength + ":" + newTokens, promptLength, newTokens);
    }

    /** Both lengths divided by {@code divisor} (at least 1 each); named {@code name/divisor}. */
    public Scenario scaled(int divisor) {
        if (divisor < 1) {
            throw new IllegalArgumentException("scale divisor must be >= 1, got " + divisor);
        }
        if (divisor == 1) {
            return this;
        }
        return new Scenario(name + "/" + divisor, Math.max(1, promptLength / divisor), Math.max(1, newTokens / divisor));
    }

    /**
     * Parses {@code prefill-heavy}, {@code decode-heavy}, {@code prefill-heavy-2k}, {@code decode-heavy-2k}, each
     * optionally with {@code /k} (lengths divided by k),
     * {@code P:N} (prompt P, N new) or {@code NAME=P:N}.
     *
     * @throws IllegalArgumentException with a message naming the accepted forms
     */
    public static Scenario parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        try {
            int eq = s.indexOf('=');
            if (eq >= 0) {
                Scenario lengths = parseLengths(s.substring(eq + 1));
                return new Scenario(s.substring(0, eq), lengths.promptLength(), lengths.newTokens());
            }
            if (s.contains(":")) {
                return parseLengths(s);
            }
            int slash = s.indexOf('/');
            String base = slash < 0 ? s : s.substring(0, slash);
            int divisor = slash < 0 ? 1 : Integer.parseInt(s.substring(slash + 1));
            Scenario scenario = switch (base) {
                case "prefill-heavy" -> prefillHeavy();
                case "decode-heavy" -> decodeHeavy();
                case "prefill-heavy-2k" -> prefillHeavy2k();
                case "decode-heavy-2k" -> decodeHeavy2k();
                default -> throw new IllegalArgumentException();
            };
            return scenario.scaled(divisor);
        } catch (IllegalArgumentException e) {
            String why = e.getMessage() == null ? "" : " (" + e.getMessage() + ")";
            throw new IllegalArgumentException("invalid scenario '" + text + "'" + why + "; expected prefill-heavy,"
                    + " decode-heavy, prefill-heavy-2k, decode-heavy-2k (each optionally /K to divide its lengths by K),"
                    + " PROMPT:NEW or NAME=PROMPT:NEW");
        }
    }

    private static Scenario parseLengths(String s) {
        int colon = s.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("missing ':'");
        }
        return custom(Integer.parseInt(s.substring(0, colon).trim()), Integer.parseInt(s.substring(colon + 1).trim()));
    }

    @Override
    public String toString() {
        return name + " (prompt " + promptLength + ", " + newTokens + " new)";
    }
}
