package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code bt generate}'s text output streams: a few hundred tokens of one prompt show their first text long before
 * the last, read as the command writes it; the streamed text equals what {@code --format json} reports.
 */
class StreamingTextTest {

    /** A writer that notes when text first arrives and how much has arrived by then. */
    private static final class Timed extends Writer {
        final StringBuilder text = new StringBuilder();
        long firstNanos;

        @Override
        public synchronized void write(char[] c, int off, int len) {
            if (len > 0 && firstNanos == 0 && !new String(c, off, len).isBlank()) {
                firstNanos = System.nanoTime();
            }
            text.append(c, off, len);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    @Test
    void oneLongGenerationShowsItsFirstTextEarly() {
        String[] args = {"generate", "--model", "vanilla-31m", "--prompt-ids", "1,2,3", "--max-new-tokens", "300",
                "--ignore-eos"};
        CommandLine cmd = BtCommand.newCommandLine(new LibraryServices());
        Timed out = new Timed();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(new StringWriter(), true));
        long start = System.nanoTime();
        assertEquals(0, cmd.execute(args));
        long end = System.nanoTime();
        assertTrue(out.firstNanos > 0, "nothing printed");
        // Model loading and the first token take a small part of the run; the other ~299 tokens come after.
        double firstAt = (double) (out.firstNanos - start) / (end - start);
        assertTrue(firstAt < 0.6, "first text at " + firstAt + " of the run: not streamed");

        CliRun json = CliRun.run(new LibraryServices(), "generate", "--model", "vanilla-31m", "--prompt-ids",
                "1,2,3", "--max-new-tokens", "300", "--ignore-eos", "--format", "json");
        String ids = json.out().substring(json.out().indexOf("\"ids\":[") + 7);
        ids = ids.substring(0, ids.indexOf(']')).replace(',', ' ');
        assertEquals(ids, out.text.toString().trim(), "streamed ids = the JSON's ids");
    }
}
