package org.blocktransformer.model.runtime;

import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.backend.LinearExecutor;
import org.blocktransformer.model.backend.StackExecutor;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.weights.VanillaWeights;

/**
 * GPT-NeoX on a backend: token embedding (host), the stack over a paged per-token cache, the output head. The
 * engine's {@code VanillaStepper} and the perplexity evaluator decide what runs when, over caches they own; this
 * class only computes (and makes pools of the right shape for its stack).
 */
public final class VanillaRunner {
    private final VanillaWeights weights;
    private final StackExecutor stack;
    private final LinearExecutor head;

    public VanillaRunner(VanillaWeights weights, ComputeBackend backend) {
        this.weights = weights;
        this.stack = backend.stack(weights.config().stack(), weights.stack());
        this.head = backend.linear(weights.embedOut());
    }

    public VanillaConfig config() {
        return weights.config();
    }

    public LinearExecutor head() {
        return head;
    }

    /** Allocates the stack's KV storage for {@code pool} now. */
    public void attach(PagePool pool) {
        stack.attach(pool);
    }

    /** Page sizes are whole multiples of 16 positions, the granularity backends vectorise attention over. */
    public static int roundedPageSize(int pageSize) {
        return (Math.max(1, pageSize) + 15) / 16 * 16;
    }

    /** A pool for the global cache: one position per token; {@code pageSize} is rounded up to a multiple of 16. */
    public PagePool newPool(int pageSize, int pages) {
        return newPool(pageSize, pages, KvFormat.F32);
    }

    /** As {@link #newPool(int, int)}, the keys and values stored as {@code kv}. */
    public PagePool newPool(int pageSize, int pages, KvFormat kv) {
        var c = config().stack();
        return new PagePool(c.numLayers(), c.hiddenSize(), roundedPageSize(pageSize), pages, kv);
    }

    /**
     * Appends {@code tokens} (the rows' new tokens, in row order) to the rows' caches and returns the final hidden
     * states [n, D]: of every new position if {@code allPositions}, else of the last new position of each row.
     */
    public float[] hidden(int[] tokens, StackRow[] rows, boolean allPositions) {
        int d = config().stack().hiddenSize();
        float[] x = new float[tokens.length * d];
        for (int t = 0; t < tokens.length; t++) {
            weights.embedIn().copyRow(tokens[t], x, t * d);
        }
        stack.forward(x, rows);
        return allPositions ? x : lastOfEachRow(x, rows, d);
    }

    /** As {@link #hidden} followed by the output head: logits [n, V]. */
    public float[] run(int[] tokens, StackRow[] rows, boolean allPositions) {
        float[] h = hidden(tokens, rows, allPositions);
        return head.apply(h, h.length / config().stack().hiddenSize());
    }

    static float[] lastOfEachRow(float[] x, StackRow[] rows, int d) {
        float[] out = new float[rows.length * d];
        int end = 0;
        for (int r = 0; r < rows.length; r++) {
            end += rows[r].count();
            System.arraycopy(x, (end - 1) * d, out, r * d, d);
        }
        return out;
    }
}
