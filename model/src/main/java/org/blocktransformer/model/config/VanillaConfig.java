package org.blocktransformer.model.config;

/** A plain GPT-NeoX / Pythia causal language model. */
public record VanillaConfig(int vocabSize, NeoXConfig stack, int bosTokenId, int eosTokenId, int padTokenId)
        implements ModelConfig {

    public VanillaConfig {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocab_size must be positive, got " + vocabSize);
        }
        checkTokenId("bos_token_id", bosTokenId, vocabSize);
        checkTokenId("eos_token_id", eosTokenId, vocabSize);
        checkTokenId("pad_token_id", padTokenId, vocabSize);
        // embed_out is a Linear layer (held in panels), so at least as large as embed_in.
        ArraySizes.linear("embed_out", "vocab_size " + vocabSize + " x hidden_size " + stack.hiddenSize(), vocabSize,
                stack.hiddenSize());
    }

    @Override
    public int maxSequenceTokens() {
        return stack.maxPositions();
    }

    @Override
    public String kind() {
        return "gpt-neox";
    }

    static void checkTokenId(String name, int id, int vocabSize) {
        if (id < 0 || id >= vocabSize) {
            throw new IllegalArgumentException(name + " " + id + " is outside the vocabulary [0, " + vocabSize + ")");
        }
    }
}
