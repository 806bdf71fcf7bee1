package org.blocktransformer.cli;

import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.cache.CacheGeometry;

import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.weights.PanelMatrix;
import org.blocktransformer.model.weights.WeightFormat;

/** Parameter counts, weight memory and KV-cache sizes of a model, computed from its configuration alone. */
public final class ModelInfo {

    /** float32 cache entries. */
    public static final int CACHE_ELEMENT_BYTES = 4;

    /**
     * A group of parameters.
     *
     * @param name      e.g. "block decoder layers"
     * @param embedding whether these are embedding tables (lookup or output)
     * @param matrix    parameters stored as matrices (these take the weight dtype)
     * @param vector    biases and LayerNorm parameters (kept in float32)
     * @param held      matrix values held in memory: Linear layers in the CPU kernels' panels have their outputs
     *                  padded to multiples of 64 (lookup tables are held as they are)
     */
    public record Part(String name, boolean embedding, long matrix, long vector, long held) {
        public Part(String name, boolean embedding, long matrix, long vector) {
            this(name, embedding, matrix, vector, matrix);
        }

        public long total() {
            return matrix + vector;
        }
    }

    /** Rows of a Linear layer's matrix as the CPU holds them: whole panels of 64 outputs. */
    private static long panelRows(long rows) {
        return (rows + PanelMatrix.PANEL - 1) / PanelMatrix.PANEL * PanelMatrix.PANEL;
    }

    private ModelInfo() {
    }

    public static List<Part> parts(ModelConfig config) {
        List<Part> parts = new ArrayList<>();
        switch (config) {
            case VanillaConfig v -> {
                long vd = (long) v.vocabSize() * v.stack().hiddenSize();
                parts.add(new Part("embed_in", true, vd, 0));
                parts.add(stack("layers", v.stack()));
                parts.add(new Part("embed_out", true, vd, 0, panelRows(v.vocabSize()) * v.stack().hiddenSize()));
            }
            case BlockConfig b -> {
                long dEmb = b.embedder().embedDim();
                long dBlock = b.blockDecoder().hiddenSize();
                long dTok = b.tokenDecoder().hiddenSize();
                parts.add(new Part("embedder table", true, b.vocabSize() * dEmb, 0));
                if (b.embedder().projection() == EmbedderProjection.PROJECTION_LAYER) {
                    parts.add(new Part("embedder projection", false, dBlock * b.blockLength() * dEmb, dBlock,
                            panelRows(dBlock) * b.blockLength() * dEmb));
                }
                parts.add(stack("block decoder layers", b.blockDecoder()));
                parts.add(new Part("expansion layer", false, b.expansionRatio() * dTok * dBlock,
                        b.expansionRatio() * dTok, panelRows(b.expansionRatio() * dTok) * dBlock));
                parts.add(new Part("token decoder embed_in", true, b.vocabSize() * dTok, 0));
                parts.add(stack("token decoder layers", b.tokenDecoder()));
                parts.add(new Part("token decoder embed_out", true, b.vocabSize() * dTok, 0,
                        panelRows(b.vocabSize()) * dTok));
            }
        }
        return parts;
    }

    private static Part stack(String name, NeoXConfig s) {
        long d = s.hiddenSize(), i = s.intermediateSize();
        long matrix = s.numLayers() * (3 * d * d + d * d + i * d + d * i);
        long vector = s.numLayers() * (4 * d + 3 * d + d + i + d) + 2 * d;
        long held = s.numLayers() * (panelRows(3 * d) * d + panelRows(d) * d + panelRows(i) * d + panelRows(d) * i);
        return new Part(name, false, matrix, vector, held);
    }

    public static long embeddingParameters(ModelConfig config) {
        return parts(config).stream().filter(Part::embedding).mapToLong(Part::total).sum();
    }

    public static long nonEmbeddingParameters(ModelConfig config) {
        return parts(config).stream().filter(p -> !p.embedding()).mapToLong(Part::total).sum();
    }

    public static long totalParameters(ModelConfig config) {
        return parts(config).stream().mapToLong(Part::total).sum();
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
