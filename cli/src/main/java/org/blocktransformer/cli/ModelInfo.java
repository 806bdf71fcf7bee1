package org.blocktransformer.cli;

import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.cache.CacheGeometry;

import java.util.List;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.ParameterCount;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * What {@code bt info} reports of a model from its configuration alone: parameter counts (from
 * {@link ParameterCount}), weight memory and KV-cache sizes (from {@link CacheGeometry}).
 */
public final class ModelInfo {

    /** float32 cache entries. */
    public static final int CACHE_ELEMENT_BYTES = 4;

    private ModelInfo() {
    }

    /** The model's parameters group by group ({@link ParameterCount#parts}). */
    public static List<ParameterCount.Part> parts(ModelConfig config) {
        return ParameterCount.parts(config);
    }

    public static long embeddingParameters(ModelConfig config) {
        return ParameterCount.of(config).embedding();
    }

    public static long nonEmbeddingParameters(ModelConfig config) {
        return ParameterCount.of(config).nonEmbedding();
    }

    public static long totalParameters(ModelConfig config) {
        return ParameterCount.of(config).total();
    }

    /**
     * Bytes of the weights the CPU backend holds: one copy, matrices in {@code format} (the Linear layers' in panels,
     * so with their padding), vectors in float32.
     */
    public static long weightBytes(ModelConfig config, WeightFormat format) {
        int m = format.bytesPerWeight();
        return parts(config).stream().mapToLong(p -> p.held() * m + p.vector() * 4).sum();
    }

    /** The float32 cache geometry (the numbers {@code bt info} reports come from it, as the engine's do). */
    private static CacheGeometry cache(ModelConfig config) {
        return new CacheGeometry(config, KvFormat.F32);
    }

    /** Global cache: bytes per cached entry (a token for vanilla, a block for the block decoder). */
    public static long globalBytesPerEntry(ModelConfig config) {
        return cache(config).globalBytesPerEntry();
    }

    /** Global cache bytes per token of context (block models: one entry per L_B tokens). */
    public static double globalBytesPerToken(ModelConfig config) {
        return (double) globalBytesPerEntry(config) / cache(config).tokensPerEntry();
    }

    /** Block models: positions of the token decoder's local cache slot (one per sequence); vanilla: 0. */
    public static int localPositions(ModelConfig config) {
        return cache(config).localPositions();
    }

    /** Block models: bytes of one sequence's local cache slot; vanilla: 0. */
    public static long localBytesPerSequence(ModelConfig config) {
        return cache(config).localBytesPerSequence();
    }

    /** Cache bytes of one sequence of {@code tokens} tokens (block models: whole blocks, plus its local slot). */
    public static long cacheBytesForTokens(ModelConfig config, long tokens) {
        return cache(config).bytesForTokens(tokens);
    }

    /** "1.2M", "70.4M", "1.01B". */
    public static String humanCount(long n) {
        if (n < 10_000) {
            return Long.toString(n);
        }
        if (n < 1_000_000) {
            return String.format(java.util.Locale.ROOT, "%.1fK", n / 1e3);
        }
        if (n < 1_000_000_000) {
            return String.format(java.util.Locale.ROOT, "%.2fM", n / 1e6);
        }
        return String.format(java.util.Locale.ROOT, "%.2fB", n / 1e9);
    }

    /** "512 B", "48.0 KiB", "1.50 MiB", "2.00 GiB". */
    public static String humanBytes(double b) {
        if (b < 1024) {
            return String.format(java.util.Locale.ROOT, "%.0f B", b);
        }
        if (b < 1024 * 1024) {
            return String.format(java.util.Locale.ROOT, "%.1f KiB", b / 1024);
        }
        if (b < 1024.0 * 1024 * 1024) {
            return String.format(java.util.Locale.ROOT, "%.2f MiB", b / (1024.0 * 1024));
        }
        return String.format(java.util.Locale.ROOT, "%.2f GiB", b / (1024.0 * 1024 * 1024));
    }
}
