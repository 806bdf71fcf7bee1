package org.blocktransformer.model.weights;

/** One GPT-NeoX layer. {@code qkv} is packed per head: output rows {@code [h*3*hd, (h+1)*3*hd)} are q, k, v of head h. */
public record LayerWeights(
        LayerNormWeights inputNorm,
        LayerNormWeights postAttentionNorm,
        Linear qkv,
        Linear attentionOut,
        Linear mlpUp,
        Linear mlpDown) {
}
