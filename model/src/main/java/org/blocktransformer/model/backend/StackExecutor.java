package org.blocktransformer.model.backend;

import org.blocktransformer.model.config.NeoXConfig;

/**
 * Runs one GPT-NeoX stack (the vanilla model, the block decoder or the token decoder) on a backend. One coarse call
 * per stack invocation, so a GPU keeps weights and caches resident and only activations and page tables move.
 */
public interface StackExecutor {

    NeoXConfig config();

    /**
     * Runs new positions of several rows: appends their keys and values to each row's cache (the backend's storage
     * for the row's pool, addressed through its page table), advances the cache lengths, and replaces {@code x}
     * ([T, D], rows in order) with the final-normed hidden states. Rows only attend to their own cache.
     */
    void forward(float[] x, StackRow[] rows);

    /** Allocates this stack's KV storage for {@code pool} now rather than at the first call that uses it. */
    void attach(org.blocktransformer.model.cache.PagePool pool);
}
