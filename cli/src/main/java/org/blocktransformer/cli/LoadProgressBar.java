package org.blocktransformer.cli;

import java.io.PrintStream;
import java.util.Locale;
import org.blocktransformer.loader.LoadProgress;

/**
 * A one-line progress bar on standard error for model loads that take more than {@link #DELAY_NANOS}: short loads
 * (the presets most tests use) print nothing. Drawn only for a terminal, where a carriage return redraws the line;
 * into a file or pipe the bar would be noise.
 */
final class LoadProgressBar implements LoadProgress, AutoCloseable {
    static final long DELAY_NANOS = 2_000_000_000L;
    private static final int WIDTH = 30;

    private final PrintStream err;
    private final String what;
    private final long start = System.nanoTime();
    private int shownPercent = -1;
    private boolean drawn;

    LoadProgressBar(PrintStream err, String what) {
        this.err = err;
        this.what = what;
    }

    /** A bar on {@code System.err} when the console is a terminal, else nothing. */
    static LoadProgress forConsole(String what) {
        var console = System.console();
        return console != null && console.isTerminal() ? new LoadProgressBar(System.err, what) : LoadProgress.NONE;
    }

    @Override
    public synchronized void advanced(long done, long total) {
        long elapsed = System.nanoTime() - start;
        if (elapsed < DELAY_NANOS || total <= 0) {
            return;
        }
        int percent = (int) Math.min(100, done * 100 / total);
        if (percent == shownPercent) {
            return;
        }
        shownPercent = percent;
        drawn = true;
        err.print("\r" + line(what, percent, elapsed / 1e9));
        err.flush();
    }

    static String line(String what, int percent, double seconds) {
        int filled = percent * WIDTH / 100;
        return String.format(Locale.ROOT, "loading %s [%s%s] %3d%% %.1f s", what, "#".repeat(filled),
                " ".repeat(WIDTH - filled), percent, seconds);
    }

    /** Clears the bar's line, so the next message starts clean. */
    @Override
    public synchronized void close() {
        if (drawn) {
            err.print("\r" + " ".repeat(line(what, 100, 0).length() + 4) + "\r");
            err.flush();
        }
    }
}
