package org.blocktransformer.model.engine;

import java.util.function.LongSupplier;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.cache.CacheGeometry;

/**
 * How many global-cache pages an engine takes, and what its errors say when memory is short. The budget is the
 * cache memory the options ask for, or by default half of the heap left once the weights, the backend's copies of
 * them and the block model's local slots (one per batch row) are in place: the other half stays for activations,
 * logits and garbage. Either way no more than the largest batch of sequences of the model's longest length can use.
 * Sizes in messages are in the terms of {@code --cache-memory} ({@link EngineOptions#cacheMemoryBytes()}).
 *
 * @param heapLeft bytes of heap free now, asked once the stepper's runner exists (the backend's copies of the weights
 *                 are made with it)
 */
record CacheBudget(CacheGeometry geometry, EngineOptions options, ComputeBackend backend, LongSupplier heapLeft) {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CacheBudget.class);

    /**
     * The pages of the global pool, for a stepper whose runner exists; an error saying how much to give when not
     * even one fits.
     */
    int pages() {
        long bytes;
        long heap = 0;
        if (options.cacheMemoryBytes() > 0) {
            bytes = options.cacheMemoryBytes();
        } else {
            // In storage bytes, which may be more than cache bytes (float16 values in float arrays on the CPU).
            heap = heapLeft.getAsLong();
            long local = backend.kvStorageBytes(geometry.localBytesPerRow() * options.maxBatchSize(), geometry.kv());
            long page = geometry.globalPageBytes();
            bytes = Math.max(0, heap - local) / 2 / backend.kvStorageBytes(page, geometry.kv()) * page;
        }
        long pages = bytes / geometry.globalPageBytes();
        if (pages < 1) {
            throw new IllegalArgumentException(options.cacheMemoryBytes() > 0
                    ? "cache memory of " + bytes + " bytes holds no page of the KV cache; " + oneSequence()
                    : "the heap left after the weights (" + CacheGeometry.sizeArgument(heap) + ") has no room"
                            + " for the KV cache; " + oneSequence() + " or raise -Xmx");
        }
        long useful = geometry.pagesForLongest(options.maxBatchSize());
        if (options.cacheMemoryBytes() == 0 && pages < CacheGeometry.pagesFor(geometry.maxGlobalPositions())) {
            LOG.warn("the KV cache the heap has room for ({}) is less than one sequence of the model's longest"
                    + " length: longer requests are refused; {} or raise -Xmx", CacheGeometry.sizeArgument(bytes),
                    oneSequence());
        }
        return (int) Math.min(Math.min(pages, useful), Integer.MAX_VALUE);
    }

    /** "the model needs at least 48m of KV cache for one sequence of its 2048 positions: --cache-memory 48m". */
    String oneSequence() {
        String size = CacheGeometry.sizeArgument(geometry.longestSequenceBytes());
        return needs() + ": --cache-memory " + size;
    }

    /** "the model needs at least 48m of KV cache for one sequence of its 2048 positions". */
    private String needs() {
        int positions = geometry.maxGlobalPositions();
        String length = geometry.tokensPerEntry() == 1 ? positions + " positions"
                : positions + " blocks (" + (long) positions * geometry.tokensPerEntry() + " tokens)";
        return "the model needs at least " + CacheGeometry.sizeArgument(geometry.longestSequenceBytes())
                + " of KV cache for one sequence of its " + length;
    }

    /** Allocates KV storage ({@code attach}); a heap too small for it is an error saying so, not an OutOfMemoryError. */
    void allocate(Runnable attach) {
        try {
            attach.run();
        } catch (OutOfMemoryError e) {
            throw new IllegalArgumentException(tooLarge(e), e);
        }
    }

    /** The KV storage did not fit the heap: what to change. */
    private String tooLarge(OutOfMemoryError e) {
        String asked = options.cacheMemoryBytes() > 0
                ? "the KV cache of --cache-memory " + CacheGeometry.sizeArgument(options.cacheMemoryBytes())
                : "the KV cache";
        return asked + " does not fit the heap (" + e.getMessage() + "): give less cache memory (" + needs()
                + ") or raise -Xmx";
    }

    /** Why a request of {@code pages} pages cannot run on a pool of {@code poolPages}, and how much to give. */
    String tooLong(int promptLength, int newTokens, int pages, int poolPages) {
        long page = geometry.globalPageBytes();
        return "prompt of " + promptLength + " tokens plus " + newTokens + " new tokens needs "
                + CacheGeometry.sizeArgument(pages * page) + " of KV cache, more than the engine's whole cache of "
                + CacheGeometry.sizeArgument(poolPages * page) + ": --cache-memory "
                + CacheGeometry.sizeArgument(pages * page) + " or more (and -Xmx to hold it)";
    }
}
