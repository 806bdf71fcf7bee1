package org.blocktransformer.loader;

/**
 * Told how far a model load has got, in bytes of the checkpoint read (or values generated, for presets). Called
 * from the loading threads, possibly several at once, so implementations must be thread-safe and quick.
 */
@FunctionalInterface
public interface LoadProgress {
    LoadProgress NONE = (done, total) -> {
    };

    void advanced(long done, long total);
}
