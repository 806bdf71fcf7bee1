package org.blocktransformer.model.config;

/** How the lookup embedder turns L_B token embeddings into one block embedding. */
public enum EmbedderProjection {
    /** Concatenate the L_B lookups: D = L_B * D_emb. */
    CONCAT,
    /** Conv1d(D_emb -> D, kernel L_B, stride L_B) over the lookups. */
    PROJECTION_LAYER
}
