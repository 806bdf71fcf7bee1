package org.blocktransformer.model.engine;

/** How requests are grouped into batches. */
public enum Batching {
    /** A batch of up to maxBatchSize requests starts together and ends when its last member ends. */
    STATIC,
    /** Finished rows leave and waiting requests join at every block boundary (every token for vanilla). */
    CONTINUOUS
}
