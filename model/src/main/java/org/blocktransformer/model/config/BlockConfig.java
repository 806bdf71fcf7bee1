package org.blocktransformer.model.config;

/**
 * A Block Transformer: lookup embedder, block decoder (global, over block embeddings) and token decoder (local,
 * inside one block).
 *
 * @param blockLength     L_B, tokens per block
 * @param expansionRatio  R, prefix vectors made from one context (summation: R = L_B)
 */
public record BlockConfig(
        int blockLength,
        int vocabSize,
        EmbedderConfig embedder,
        DecodingStrategy decoding,
        int expansionRatio,
        NeoXConfig blockDecoder,
        NeoXConfig tokenDecoder,
        int bosTokenId,
        int eosTokenId,
        int padTokenId) implements ModelConfig {

    public BlockConfig {
        if (blockLength <= 0) {
            throw new IllegalArgumentException("block_length must be positive, got " + blockLength);
        }
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocab_size must be positive, got " + vocabSize);
        }
        if (expansionRatio <= 0) {
            throw new IllegalArgumentException("expansion_ratio must be positive, got " + expansionRatio);
        }
        if (decoding == DecodingStrategy.SUMMATION && expansionRatio != blockLength) {
            throw new IllegalArgumentException("summation decoding needs expansion_ratio = block_length ("
                    + blockLength + "), got " + expansionRatio);
        }
        if (embedder.projection() == EmbedderProjection.CONCAT
                && embedder.embedDim() * blockLength != blockDecoder.hiddenSize()) {
            throw new IllegalArgumentException("concat embedder: block_length " + blockLength + " x embedder hidden_size "
                    + embedder.embedDim() + " must equal the block decoder hidden_size " + blockDecoder.hiddenSize());
        }
        VanillaConfig.checkTokenId("bos_token_id", bosTokenId, vocabSize);
        VanillaConfig.checkTokenId("eos_token_id", eosTokenId, vocabSize);
        VanillaConfig.checkTokenId("pad_token_id", padTokenId, vocabSize);
        int localPositions = localCacheLength();
        if (localPositions > tokenDecoder.maxPositions()) {
            throw new IllegalArgumentException("token decoder needs " + localPositions
                    + " positions but max_position_embeddings is " + tokenDecoder.maxPositions());
        }
    }

    /** Positions the token decoder caches for one block: R + L_B - 1 (prefix) or L_B (summation). */
    public int localCacheLength() {
        return decoding == DecodingStrategy.PREFIX ? expansionRatio + blockLength - 1 : blockLength;
    }

    /** Blocks, hence tokens, are limited by the block decoder's positions. */
    @Override
    public int maxSequenceTokens() {
        return blockDecoder.maxPositions() * blockLength;
    }

    @Override
    public String kind() {
        return "block-transformer";
    }
}
