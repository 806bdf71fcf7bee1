package org.blocktransformer.spark;

import java.util.Locale;

/**
 * What a row whose prompt the model cannot run does (null, empty, a token id outside the vocabulary, too long for
 * the model's context, a null seed or row id).
 */
public enum BadPromptPolicy {
    /**
     * The default: the task, and so the job, fails with a message that names the row (its row id when a row-id
     * column is set, else its partition and position) and says what is wrong, as {@code bt generate} stops at a bad
     * line. Every row of the partition is checked before any is generated, so the failure comes within seconds of
     * the partition starting, not after its work.
     */
    FAIL,
    /**
     * The row is kept with null outputs and the reason in the {@code error} column; the other rows are generated.
     * For long jobs where one bad row should not cost the others' work: filter {@code error IS NOT NULL} after.
     */
    ERROR_COLUMN;

    /** "fail" or "error-column" (any case; '_' for '-'). */
    public static BadPromptPolicy parse(String s) {
        String t = s == null ? "" : s.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        return switch (t) {
            case "fail" -> FAIL;
            case "error-column" -> ERROR_COLUMN;
            default -> throw new IllegalArgumentException("bad-prompt policy must be fail or error-column, got '"
                    + s + "'");
        };
    }

    public String label() {
        return this == FAIL ? "fail" : "error-column";
    }
}
