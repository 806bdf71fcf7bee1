package org.blocktransformer.model.backend;

import org.blocktransformer.model.cache.CacheTable;

/** New positions of one sequence in a stack call: {@code count} positions appended at {@code cache.length()}. */
public record StackRow(CacheTable cache, int count) {
    public StackRow {
        if (count < 0) {
            throw new IllegalArgumentException("negative position count " + count);
        }
    }

    /**
     * Checks that every row's new positions fit its cache and the stack's position range; returns their total.
     * Every backend's stack call starts with it.
     */
    public static int checkAll(StackRow[] rows, int maxPositions) {
        int tokens = 0;
        for (StackRow r : rows) {
            int end = r.cache().length() + r.count();
            if (end > r.cache().capacity()) {
                throw new IllegalStateException("cache holds " + r.cache().capacity() + " positions, needs " + end);
            }
            if (end > maxPositions) {
                throw new IllegalArgumentException("position " + (end - 1) + " is beyond the model's " + maxPositions
                        + " positions");
            }
            tokens += r.count();
        }
        return tokens;
    }
}
