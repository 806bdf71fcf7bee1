package org.blocktransformer.loader;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** What the fuzz tests require of every refusal: a message a user can read, on one line. */
public final class Refusal {

    private Refusal() {
    }

    public static void assertOneLine(RuntimeException refusal) {
        String m = refusal.getMessage();
        assertNotNull(m, () -> refusal.getClass().getName() + " without a message");
        assertFalse(m.isBlank(), "blank message");
        assertFalse(m.chars().anyMatch(c -> c == '\n' || c == '\r' || c == '\u2028' || c == '\u2029'),
                () -> "message of more than one line: " + m);
    }
}
