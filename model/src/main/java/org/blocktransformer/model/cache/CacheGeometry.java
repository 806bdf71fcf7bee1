package org.blocktransformer.model.cache;

import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;

/**
 * The KV cache's shape for a model, in one place: the engine sizes its pools from it, the benchmark and
 * {@code bt info} report from it. The global cache (vanilla: one entry per token; block models: one per block of
 * L_B tokens, in the block decoder) is paged, {@link #PAGE_SIZE} positions a page; a block model also holds one local
 * slot of R + L_B - 1 positions per batch row for its token decoder, counted here as whole pages.
 *
 * @param kv how keys and values are stored (bytes per element)
 */
public record CacheGeometry(ModelConfig config, KvFormat kv) {
    /** Global-cache positions per page (a multiple of 16: the granularity backends vectorise attention over). */
    public static final int PAGE_SIZE = 16;

    /** The stack the global cache belongs to: the model's stack, or the block decoder. */
    public NeoXConfig globalStack() {
        return switch (config) {
            case VanillaConfig v -> v.stack();
            case BlockConfig b -> b.blockDecoder();
        };
    }

    /** Tokens per global entry: 1, or L_B. */
    public int tokensPerEntry() {
        return config instanceof BlockConfig b ? b.blockLength() : 1;
    }

    /** Bytes of one global page: every layer's keys and values for {@link #PAGE_SIZE} positions. */
    public long globalPageBytes() {
        NeoXConfig s = globalStack();
        return PagePool.pageBytes(s.numLayers(), s.hiddenSize(), PAGE_SIZE, kv);
    }

    /** Bytes of one global entry (one token, or one block). */
    public long globalBytesPerEntry() {
        return globalPageBytes() / PAGE_SIZE;
    }

    /**
     * Global positions a request occupies: the prompt plus every generated token (block) that is fed back. Counted
     * in long and capped at {@link Integer#MAX_VALUE}, more than any model has, so that a request asking for
     * billions of new tokens is refused as too long rather than wrapping around to a small count.
     */
    public int globalPositions(int promptLength, int newTokens) {
        long positions = switch (config) {
            case VanillaConfig v -> (long) promptLength + Math.max(0, newTokens - 1);
            case BlockConfig b -> {
                long lb = b.blockLength();
                yield (promptLength + lb - 1) / lb + (newTokens == 0 ? 0 : (newTokens - 1) / lb);
            }
        };
        return (int) Math.min(positions, Integer.MAX_VALUE);
    }

    /** Bytes of the global pages one sequence of this shape holds. */
    public long globalBytesPerSequence(int promptLength, int newTokens) {
        return pagesFor(globalPositions(promptLength, newTokens)) * globalPageBytes();
    }

    /** Positions of a block model's local slot per sequence (R + L_B - 1); 0 for vanilla models. */
    public int localPositions() {
        return config instanceof BlockConfig b ? b.localCacheLength() : 0;
    }

    /** Bytes of a block model's local slot per sequence, exactly R + L_B - 1 positions; 0 for vanilla. */
    public long localBytesPerSequence() {
        return config instanceof BlockConfig b
                ? (long) b.localCacheLength() * b.tokenDecoder().kvBytesPerPosition(kv.bytes()) : 0;
    }

    /** Exact cache bytes of one sequence of {@code tokens} tokens (block models: whole blocks, plus its local slot). */
    public long bytesForTokens(long tokens) {
        return (tokens + tokensPerEntry() - 1) / tokensPerEntry() * globalBytesPerEntry() + localBytesPerSequence();
    }

    /** Bytes of a block model's local slot per batch row, as whole pages (an upper bound); 0 for vanilla. */
    public long localBytesPerRow() {
        return switch (config) {
            case VanillaConfig v -> 0;
            case BlockConfig b -> PagePool.pageBytes(b.tokenDecoder().numLayers(), b.tokenDecoder().hiddenSize(),
                    (int) pagesFor(b.localCacheLength()) * PAGE_SIZE, kv);
        };
    }

    /** All cache bytes a sequence of this shape needs: its global pages and (block) its local slot. */
    public long bytesPerSequence(int promptLength, int newTokens) {
        return globalBytesPerSequence(promptLength, newTokens) + localBytesPerRow();
    }

    /** The largest batch whose caches fit {@code budgetBytes} (0 if not even one). */
    public int maxBatch(int promptLength, int newTokens, long budgetBytes) {
        return (int) Math.min(Integer.MAX_VALUE, budgetBytes / bytesPerSequence(promptLength, newTokens));
    }

    /**
     * Global-cache bytes that let {@code sequences} sequences of {@code tokens} tokens each (prompt plus new) run at
     * once, with a position of headroom each: a budget for the engine when the workload is known.
     */
    public long globalBytesFor(int sequences, int tokens) {
        long positions = ((long) tokens + tokensPerEntry() - 1) / tokensPerEntry() + 1;
        return (long) sequences * pagesFor(positions) * globalPageBytes();
    }

    /** Global positions of the longest sequence the model allows (tokens, or blocks of L_B tokens). */
    public int maxGlobalPositions() {
        return globalStack().maxPositions();
    }

    /** Bytes of the global pages one sequence of the model's longest length holds. */
    public long longestSequenceBytes() {
        return pagesFor(maxGlobalPositions()) * globalPageBytes();
    }

    /** Global pages that {@code sequences} sequences of the model's longest length hold: more is never used. */
    public long pagesForLongest(int sequences) {
        return sequences * pagesFor(maxGlobalPositions());
    }

    /**
     * {@code bytes} rounded up, as a size option takes it: whole kibibytes below 1 MiB, mebibytes below 10 GiB, else
     * gibibytes ("160k", "48m", "12g"). For messages that say how much cache memory to give.
     */
    public static String sizeArgument(long bytes) {
        if (bytes < 1L << 20) {
            return Math.max(1, (bytes + 1023) >> 10) + "k";
        }
        long mib = (bytes + (1L << 20) - 1) >> 20;
        return mib < 10L << 10 ? mib + "m" : ((mib + 1023) >> 10) + "g";
    }

    /** Pages of {@link #PAGE_SIZE} positions that hold {@code positions}. */
    public static long pagesFor(long positions) {
        return (positions + PAGE_SIZE - 1) / PAGE_SIZE;
    }
}
