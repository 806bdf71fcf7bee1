package org.blocktransformer.model.backend;

import org.blocktransformer.model.cache.CacheTable;

/** New positions of one sequence in a stack call: {@code count} positions appended at {@code cache.length()}. */
public record StackRow(CacheTable cache, int count) {
    public StackRow {
        if (count < 0) {
            throw new IllegalArgumentException("negative position count " + count);
        }
    }
}
