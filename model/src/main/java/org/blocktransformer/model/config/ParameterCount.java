package org.blocktransformer.model.config;

import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.model.weights.PanelMatrix;

/**
 * Parameters of a model from its architecture alone, split as the papers count them: the one place they are
 * counted. Pythia names models by the total (70M = 19M non-embedding + 2 x 25.8M embeddings); the Block Transformer
 * paper names block models by the non-embedding parameters (its "85M" is the two 42.5M decoder stacks). The block
 * decoder's unused embed_in is not a parameter here.
 *
 * @param embedding    lookup tables and the output embeddings
 * @param nonEmbedding everything else: decoder stacks, expansion layer, embedder projection
 */
public record ParameterCount(long embedding, long nonEmbedding) {

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

    public long total() {
        return embedding + nonEmbedding;
    }

    public static ParameterCount of(ModelConfig config) {
        long embedding = 0, other = 0;
        for (Part p : parts(config)) {
            if (p.embedding()) {
                embedding += p.total();
            } else {
                other += p.total();
            }
        }
        return new ParameterCount(embedding, other);
    }

    /** The model's parameters group by group, in checkpoint order. */
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

    /** A stack's layers and final LayerNorm: its matrices here, its total from {@link NeoXConfig}. */
    private static Part stack(String name, NeoXConfig s) {
        long d = s.hiddenSize(), i = s.intermediateSize();
        long matrix = s.numLayers() * (3 * d * d + d * d + i * d + d * i);
        long held = s.numLayers() * (panelRows(3 * d) * d + panelRows(d) * d + panelRows(i) * d + panelRows(d) * i);
        return new Part(name, false, matrix, s.nonEmbeddingParameters() - matrix, held);
    }

    /** Rows of a Linear layer's matrix as the CPU holds them: whole panels of 64 outputs. */
    private static long panelRows(long rows) {
        return (rows + PanelMatrix.PANEL - 1) / PanelMatrix.PANEL * PanelMatrix.PANEL;
    }
}
