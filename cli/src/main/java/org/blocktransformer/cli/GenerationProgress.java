package org.blocktransformer.cli;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * What {@code bt generate} shows on standard error while a batch of prompts runs: prompts finished of all, tokens
 * generated and the rate since the start, e.g. {@code 37/2000 prompts, 4,736 tokens, 812.4 tok/s}. Counted from the
 * engine's token and completion callbacks (atomic: tokens arrive on the engine's thread).
 */
final class GenerationProgress {
    private final int prompts;
    private final LongSupplier clock;
    private final long start;
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicLong tokens = new AtomicLong();

    GenerationProgress(int prompts, LongSupplier nanoClock) {
        this.prompts = prompts;
        this.clock = nanoClock;
        this.start = nanoClock.getAsLong();
    }

    void token() {
        tokens.incrementAndGet();
    }

    void finished() {
        done.incrementAndGet();
    }

    String text() {
        double secs = (clock.getAsLong() - start) / 1e9;
        long t = tokens.get();
        String rate = secs > 0 ? String.format(Locale.ROOT, "%.1f tok/s", t / secs) : "- tok/s";
        return String.format(Locale.ROOT, "%d/%d prompts, %,d tokens, %s", done.get(), prompts, t, rate);
    }
}
