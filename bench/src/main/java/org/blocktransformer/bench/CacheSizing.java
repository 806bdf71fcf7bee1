package org.blocktransformer.bench;

import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;

/**
 * KV-cache memory one sequence of a given shape needs in the engine, so a benchmark gives the engine exactly what a
 * run uses (batch x per-sequence pages) instead of the default share of the heap, and can name the largest batch
 * that fits a memory budget. Mirrors the engine's accounting: global pages of {@link #PAGE_SIZE} positions (vanilla:
 * one per token; block models: one per block) and, for block models, one local slot of R + L_B - 1 positions per
 * batch row. The harness checks the engine agrees ({@code InferenceEngine.maxBatchFor}).
 */
public final class CacheSizing {

    /** The engine's global-cache page size in positions. */
    public static final int PAGE_SIZE = 16;

    private CacheSizing() {
    }

    /** Global positions a request occupies: the prompt plus every generated token (block) that is fed back. */
    public static int globalPositions(ModelConfig config, int promptLength, int newTokens) {
        return switch (config) {
            case VanillaConfig v -> promptLength + Math.max(0, newTokens - 1);
            case BlockConfig b -> {
                int lb = b.blockLength();
                yield (promptLength + lb - 1) / lb + (newTokens == 0 ? 0 : (newTokens - 1) / lb);
            }
        };
    }

    /** Bytes of one global page. */
    public static long globalPageBytes(ModelConfig config) {
        NeoXConfig s = switch (config) {
            case VanillaConfig v -> v.stack();
            case BlockConfig b -> b.blockDecoder();
        };
        return PagePool.pageBytes(s.numLayers(), s.hiddenSize(), PAGE_SIZE);
    }

    /** Bytes of the global pages one sequence of this shape holds. */
    public static long globalBytesPerSequence(ModelConfig config, int promptLength, int newTokens) {
        int pages = (globalPositions(config, promptLength, newTokens) + PAGE_SIZE - 1) / PAGE_SIZE;
        return pages * globalPageBytes(config);
    }

    /**
     * Bytes of a block model's local slot per batch row (0 for vanilla models): R + L_B - 1 positions, counted as a
     * whole page of {@link #PAGE_SIZE} positions (an upper bound: the engine may keep exactly R + L_B - 1).
     */
    public static long localBytesPerRow(ModelConfig config) {
        return switch (config) {
            case VanillaConfig v -> 0;
            case BlockConfig b -> PagePool.pageBytes(b.tokenDecoder().numLayers(), b.tokenDecoder().hiddenSize(),
                    (b.localCacheLength() + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE);
        };
    }

    /** All cache bytes a sequence of this shape needs: its global pages and (block) its local slot. */
    public static long bytesPerSequence(ModelConfig config, int promptLength, int newTokens) {
        return globalBytesPerSequence(config, promptLength, newTokens) + localBytesPerRow(config);
    }

    /** The largest batch whose caches fit {@code budgetBytes} (0 if not even one). */
    public static int maxBatch(ModelConfig config, int promptLength, int newTokens, long budgetBytes) {
        long per = bytesPerSequence(config, promptLength, newTokens);
        return (int) Math.min(Integer.MAX_VALUE, budgetBytes / per);
    }

    /** A default memory budget for caches: half of the heap that is free now (as the engine's default). */
    public static long defaultBudget() {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        return Math.max(16L << 20, free / 2);
    }
}
