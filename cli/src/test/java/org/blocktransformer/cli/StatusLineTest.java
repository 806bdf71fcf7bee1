package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class StatusLineTest {
    private static final Duration NEVER = Duration.ofHours(1);

    @Test
    void onATerminalTheLineIsRedrawnInPlaceAndClearedForOtherOutput() {
        StringWriter sink = new StringWriter();
        PrintWriter err = new PrintWriter(sink);
        AtomicReference<String> text = new AtomicReference<>("1/3 prompts, 100 tokens");
        try (StatusLine line = new StatusLine(err, true, NEVER, text::get)) {
            assertEquals("", sink.toString(), "a terminal's line waits for its first tick");
            line.draw();
            text.set("2/3");
            line.draw();
            line.above(() -> err.println("a result"));
        }
        String pad = " ".repeat("1/3 prompts, 100 tokens".length() - 3);
        String clear = "\r" + " ".repeat(3) + "\r";   // the padding already blanked the rest
        assertEquals("\r1/3 prompts, 100 tokens" + "\r2/3" + pad + clear + "a result" + System.lineSeparator(),
                sink.toString());
    }

    @Test
    void inALogItIsALineAtOnceAndAtEachTick() throws InterruptedException {
        StringWriter sink = new StringWriter();
        AtomicLong n = new AtomicLong();
        try (StatusLine line = new StatusLine(new PrintWriter(sink), false, Duration.ofMillis(20),
                () -> "tick " + n.incrementAndGet())) {
            assertTrue(sink.toString().startsWith("tick 1" + System.lineSeparator()), sink.toString());
            long until = System.nanoTime() + 5_000_000_000L;
            while (n.get() < 3 && System.nanoTime() < until) {
                Thread.sleep(10);
            }
        }
        assertTrue(sink.toString().contains("tick 3"), sink.toString());
        assertFalse(sink.toString().contains("\r"), "no carriage returns in a log");
    }

    @Test
    void noTextDrawsNothing() {
        StringWriter sink = new StringWriter();
        try (StatusLine line = new StatusLine(new PrintWriter(sink), true, NEVER, () -> null)) {
            line.draw();
        }
        assertEquals("", sink.toString());
    }

    @Test
    void progressCountsPromptsTokensAndRate() {
        long[] now = {0};
        GenerationProgress p = new GenerationProgress(2000, () -> now[0]);
        assertEquals("0/2000 prompts, 0 tokens, - tok/s", p.text());
        for (int i = 0; i < 4736; i++) {
            p.token();
        }
        for (int i = 0; i < 37; i++) {
            p.finished();
        }
        now[0] = 2_000_000_000L;
        assertEquals("37/2000 prompts, 4,736 tokens, 2368.0 tok/s", p.text());
    }
}
