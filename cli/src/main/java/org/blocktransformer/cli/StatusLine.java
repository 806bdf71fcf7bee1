package org.blocktransformer.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * A status line on standard error while long work runs. On a terminal it is one line redrawn in place every
 * {@link #REDRAW} (other output goes through {@link #above} so it is not drawn over); elsewhere (a log file) it is a
 * new line every {@link #LOG_EVERY}, so a log shows the work moving without filling up. The text comes from a
 * supplier called on the ticker thread; {@code null} draws nothing this time.
 */
final class StatusLine implements AutoCloseable {
    static final Duration REDRAW = Duration.ofMillis(200);
    static final Duration LOG_EVERY = Duration.ofSeconds(5);

    private final PrintWriter err;
    private final boolean terminal;
    private final Supplier<String> text;
    private final Thread ticker;
    private volatile boolean closed;
    private int lastWidth;

    StatusLine(PrintWriter err, boolean terminal, Supplier<String> text) {
        this(err, terminal, terminal ? REDRAW : LOG_EVERY, text);
    }

    /** As above, drawn every {@code every}; a log (not a terminal) gets its first line at once. */
    StatusLine(PrintWriter err, boolean terminal, Duration every, Supplier<String> text) {
        this.err = err;
        this.terminal = terminal;
        this.text = text;
        if (!terminal) {
            draw();
        }
        this.ticker = Thread.ofPlatform().daemon().name("bt-status").start(() -> tick(every));
    }

    /** Whether this JVM runs attached to a terminal (where a redrawn line makes sense). */
    static boolean onTerminal() {
        var console = System.console();
        return console != null && console.isTerminal();
    }

    /** Prints something else (a message, or output when standard output is the same terminal) above the line. */
    synchronized void above(Runnable print) {
        clear();
        print.run();
        err.flush();
    }

    /** Draws the line now rather than at the next tick. */
    synchronized void draw() {
        if (closed) {
            return;
        }
        String line = text.get();
        if (line == null) {
            return;
        }
        if (terminal) {
            err.print("\r" + line + " ".repeat(Math.max(0, lastWidth - line.length())));
            lastWidth = line.length();
        } else {
            err.println(line);
        }
        err.flush();
    }

    private void tick(Duration every) {
        while (!closed) {
            try {
                Thread.sleep(every);
            } catch (InterruptedException e) {
                return;
            }
            draw();
        }
    }

    private void clear() {
        if (terminal && lastWidth > 0) {
            err.print("\r" + " ".repeat(lastWidth) + "\r");
            lastWidth = 0;
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            clear();
            err.flush();
        }
        ticker.interrupt();
    }
}
