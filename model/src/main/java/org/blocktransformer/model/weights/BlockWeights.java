package org.blocktransformer.model.weights;

import org.blocktransformer.model.config.BlockConfig;

/**
 * Block Transformer parameters.
 *
 * @param embedTable      {@code embedder.embeddings.weight} [V, D_emb]
 * @param embedProjection for the projection embedder: the Conv1d as a Linear over the concatenated lookups,
 *                        weight [D, L_B*D_emb] with column {@code k*D_emb + c} = Conv1d weight {@code [d, c, k]};
 *                        null for concat
 * @param expansion       {@code token_decoder.expansion_layer} as a Linear [R*D_tok, D]
 * @param tokenEmbedIn    {@code token_decoder.gpt_neox.embed_in.weight} [V, D_tok]
 * @param tokenEmbedOut   {@code token_decoder.embed_out} [V, D_tok], no bias
 */
public record BlockWeights(
        BlockConfig config,
        Matrix embedTable,
        Linear embedProjection,
        StackWeights blockDecoder,
        Linear expansion,
        Matrix tokenEmbedIn,
        StackWeights tokenDecoder,
        Linear tokenEmbedOut) implements ModelWeights {
}
