package org.blocktransformer.loader;

import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;

/**
 * Parameters of a model, split as the papers count them. Pythia names models by the total (70M = 19M non-embedding
 * + 2 x 25.8M embeddings); the Block Transformer paper names block models by the non-embedding parameters (its
 * "85M" is the two 42.5M decoder stacks).
 *
 * @param embedding    lookup tables and {@code embed_out}
 * @param nonEmbedding everything else: decoder stacks, expansion layer, embedder projection
 */
public record ParameterCount(long embedding, long nonEmbedding) {

    public long total() {
        return embedding + nonEmbedding;
    }

    /** Counts from the architecture alone (the block decoder's unused embed_in is not a parameter here). */
    public static ParameterCount of(ModelConfig config) {
        return switch (config) {
            case VanillaConfig v -> new ParameterCount(2L * v.vocabSize() * v.stack().hiddenSize(),
                    v.stack().nonEmbeddingParameters());
            case BlockConfig b -> block(b);
        };
    }

    private static ParameterCount block(BlockConfig b) {
        NeoXConfig blockDecoder = b.blockDecoder(), tokenDecoder = b.tokenDecoder();
        long d = blockDecoder.hiddenSize(), dTok = tokenDecoder.hiddenSize();
        long embedding = (long) b.vocabSize() * b.embedder().embedDim() + 2L * b.vocabSize() * dTok;
        long expansion = b.expansionRatio() * dTok * (d + 1);
        long projection = b.embedder().projection() == EmbedderProjection.PROJECTION_LAYER
                ? d * ((long) b.blockLength() * b.embedder().embedDim() + 1) : 0;
        return new ParameterCount(embedding, blockDecoder.nonEmbeddingParameters()
                + tokenDecoder.nonEmbeddingParameters() + expansion + projection);
    }
}
