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
                && (long) embedder.embedDim() * blockLength != blockDecoder.hiddenSize()) {
            throw new IllegalArgumentException("concat embedder: block_length " + blockLength + " x embedder hidden_size "
                    + embedder.embedDim() + " must equal the block decoder hidden_size " + blockDecoder.hiddenSize());
        }
        VanillaConfig.checkTokenId("bos_token_id", bosTokenId, vocabSize);
        VanillaConfig.checkTokenId("eos_token_id", eosTokenId, vocabSize);
        VanillaConfig.checkTokenId("pad_token_id", padTokenId, vocabSize);
        checkArrays(blockLength, vocabSize, embedder, expansionRatio, blockDecoder, tokenDecoder);
        ArraySizes.count("the longest sequence in tokens", "block_decoder.max_position_embeddings "
                + blockDecoder.maxPositions() + " x block_length " + blockLength,
                sequenceTokens(blockDecoder, blockLength));
        int localPositions = ArraySizes.count("the token decoder's local cache length", "expansion_ratio "
                + expansionRatio + " + block_length " + blockLength,
                localCacheLength(decoding, expansionRatio, blockLength));
        if (localPositions > tokenDecoder.maxPositions()) {
            throw new IllegalArgumentException("token decoder needs " + localPositions
                    + " positions but max_position_embeddings is " + tokenDecoder.maxPositions());
        }
    }

    /** The embeddings and the expansion layer are single arrays, as the stacks' matrices are (ArraySizes). */
    private static void checkArrays(int blockLength, int vocabSize, EmbedderConfig embedder, int expansionRatio,
                                    NeoXConfig blockDecoder, NeoXConfig tokenDecoder) {
        int dEmb = embedder.embedDim();
        int dBlock = blockDecoder.hiddenSize();
        int dTok = tokenDecoder.hiddenSize();
        ArraySizes.table("the embedder table", "vocab_size " + vocabSize + " x embedder hidden_size " + dEmb,
                vocabSize, dEmb);
        if (embedder.projection() == EmbedderProjection.PROJECTION_LAYER) {
            ArraySizes.linear("embedder.projection_layer", "block_decoder.hidden_size " + dBlock + " x block_length "
                    + blockLength + " x embedder hidden_size " + dEmb, dBlock, (long) blockLength * dEmb);
        }
        ArraySizes.linear("the expansion layer", "expansion_ratio " + expansionRatio + " x token_decoder.hidden_size "
                + dTok + " x block_decoder.hidden_size " + dBlock, (long) expansionRatio * dTok, dBlock);
        // embed_out is a Linear layer (held in panels), so at least as large as embed_in.
        ArraySizes.linear("token_decoder.embed_out", "vocab_size " + vocabSize + " x token_decoder.hidden_size "
                + dTok, vocabSize, dTok);
    }

    /** Positions the token decoder caches for one block: R + L_B - 1 (prefix) or L_B (summation). */
    public int localCacheLength() {
        return (int) localCacheLength(decoding, expansionRatio, blockLength); // checked to fit when built
    }

    private static long localCacheLength(DecodingStrategy decoding, long expansionRatio, long blockLength) {
        return decoding == DecodingStrategy.PREFIX ? expansionRatio + blockLength - 1 : blockLength;
    }

    /** Blocks, hence tokens, are limited by the block decoder's positions. */
    @Override
    public int maxSequenceTokens() {
        return (int) sequenceTokens(blockDecoder, blockLength); // checked to fit when built
    }

    private static long sequenceTokens(NeoXConfig blockDecoder, long blockLength) {
        return blockDecoder.maxPositions() * blockLength;
    }

    @Override
    public String kind() {
        return "block-transformer";
    }
}
