package org.blocktransformer.model.config;

/**
 * One GPT-NeoX decoder stack: the vanilla model, the block decoder and the token decoder are all this.
 *
 * <p>The engine implements exactly the Pythia layer: LayerNorm with bias, packed per-head {@code query_key_value},
 * partial rotary (rotate-half form), exact GELU and biases on every Linear. Options outside that family are
 * rejected by the config parser, not here.
 */
public record NeoXConfig(
        int hiddenSize,
        int numLayers,
        int numHeads,
        int intermediateSize,
        double rotaryPct,
        double rotaryBase,
        double layerNormEps,
        int maxPositions,
        boolean parallelResidual) {

    public NeoXConfig {
        require(hiddenSize > 0, "hidden_size must be positive, got " + hiddenSize);
        require(numLayers > 0, "num_hidden_layers must be positive, got " + numLayers);
        require(numHeads > 0, "num_attention_heads must be positive, got " + numHeads);
        require(hiddenSize % numHeads == 0,
                "hidden_size " + hiddenSize + " is not divisible by num_attention_heads " + numHeads);
        require(intermediateSize > 0, "intermediate_size must be positive, got " + intermediateSize);
        require(rotaryPct >= 0 && rotaryPct <= 1, "rotary_pct must be in [0, 1], got " + rotaryPct);
        require(rotaryBase > 0, "rotary_emb_base must be positive, got " + rotaryBase);
        require(layerNormEps > 0, "layer_norm_eps must be positive, got " + layerNormEps);
        require(maxPositions > 0, "max_position_embeddings must be positive, got " + maxPositions);
        int rot = (int) (hiddenSize / numHeads * rotaryPct);
        require(rot % 2 == 0, "rotary dimensions per head must be even, got " + rot);
        // Each layer's matrices and the rotary tables are single arrays (ArraySizes); attention.dense is no larger
        // than query_key_value.
        ArraySizes.linear("attention.query_key_value", "hidden_size " + hiddenSize, 3L * hiddenSize, hiddenSize);
        ArraySizes.linear("mlp.dense_h_to_4h", "intermediate_size " + intermediateSize + " x hidden_size "
                + hiddenSize, intermediateSize, hiddenSize);
        ArraySizes.linear("mlp.dense_4h_to_h", "hidden_size " + hiddenSize + " x intermediate_size "
                + intermediateSize, hiddenSize, intermediateSize);
        ArraySizes.table("each rotary table", "max_position_embeddings " + maxPositions + " x rotary dimensions per"
                + " head / 2 (" + rot / 2 + ")", maxPositions, rot / 2);
    }

    /** Pythia's usual stack: rotary on 25% of each head, base 10000, eps 1e-5, parallel residual. */
    public static NeoXConfig pythia(int hiddenSize, int numLayers, int numHeads, int intermediateSize, int maxPositions) {
        return new NeoXConfig(hiddenSize, numLayers, numHeads, intermediateSize, 0.25, 10000, 1e-5, maxPositions, true);
    }

    public int headSize() {
        return hiddenSize / numHeads;
    }

    /** Rotary dimensions per head, {@code int(head_size * rotary_pct)} as the reference computes it. */
    public int rotaryDims() {
        return (int) (headSize() * rotaryPct);
    }

    /** Weights of the layers and the final LayerNorm, no embeddings. */
    public long nonEmbeddingParameters() {
        long d = hiddenSize, i = intermediateSize;
        long perLayer = 4 * d                    // two LayerNorms
                + 3 * d * d + 3 * d              // query_key_value
                + d * d + d                      // attention.dense
                + i * d + i + d * i + d;         // MLP
        return numLayers * perLayer + 2 * d;
    }

    /** Bytes of key and value for one cached position in every layer, at the given element size. */
    public long kvBytesPerPosition(int bytesPerElement) {
        return 2L * numLayers * hiddenSize * bytesPerElement;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
