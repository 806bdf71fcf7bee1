package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LoadProgressBarTest {

    @Test
    void barShowsThePercentage() {
        assertEquals("loading m [###############               ]  50% 2.5 s", LoadProgressBar.line("m", 50, 2.5));
        assertTrue(LoadProgressBar.line("m", 100, 1).contains("[" + "#".repeat(30) + "] 100%"));
    }

    @Test
    void quickLoadsDrawNothing() {
        var bytes = new ByteArrayOutputStream();
        try (var bar = new LoadProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "m")) {
            bar.advanced(1, 2);
            bar.advanced(2, 2);
        }
        assertEquals("", bytes.toString(StandardCharsets.UTF_8), "a load under two seconds prints nothing");
    }
}
