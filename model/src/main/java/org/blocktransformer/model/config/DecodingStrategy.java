package org.blocktransformer.model.config;

/** How the token decoder receives the context of the previous block. */
public enum DecodingStrategy {
    /** R expansion vectors precede the block's tokens as a prefix (the paper's default). */
    PREFIX,
    /** The expansion is added to the token embeddings, R = L_B rows (MEGABYTE-style baseline). */
    SUMMATION
}
