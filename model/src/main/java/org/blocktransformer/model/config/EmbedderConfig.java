package org.blocktransformer.model.config;

/** The lookup embedder: a table of {@code embedDim}-wide token vectors and how a block's lookups are combined. */
public record EmbedderConfig(int embedDim, EmbedderProjection projection) {
    public EmbedderConfig {
        if (embedDim <= 0) {
            throw new IllegalArgumentException("embedder hidden_size must be positive, got " + embedDim);
        }
        if (projection == null) {
            throw new IllegalArgumentException("embedder projection_method is missing");
        }
    }
}
