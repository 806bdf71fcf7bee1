package org.blocktransformer.model.config;

/** Architecture of a model the engine can run. */
public sealed interface ModelConfig permits BlockConfig, VanillaConfig {

    int vocabSize();

    int bosTokenId();

    int eosTokenId();

    int padTokenId();

    /** Longest prompt plus generation, in tokens, that the position range allows. */
    int maxSequenceTokens();

    /** A short human-readable kind, e.g. "block-transformer" or "gpt-neox". */
    String kind();
}
