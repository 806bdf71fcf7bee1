package org.blocktransformer.model.runtime;

import org.blocktransformer.model.cache.KvPool;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.cpu.CpuOps;
import org.blocktransformer.model.cpu.PackedLinear;
import org.blocktransformer.model.neox.NeoXStack;
import org.blocktransformer.model.weights.VanillaWeights;

/** GPT-NeoX on the CPU: token embedding, the stack over a paged per-token cache, the output head. */
public final class VanillaRunner {
    private final VanillaWeights weights;
    private final CpuOps ops;
    private final NeoXStack stack;
    private final PackedLinear embedOut;

    public VanillaRunner(VanillaWeights weights, CpuOps ops) {
        this.weights = weights;
        this.ops = ops;
        this.stack = new NeoXStack(weights.config().stack(), weights.stack(), ops);
        this.embedOut = PackedLinear.of(weights.embedOut());
    }

    public VanillaConfig config() {
        return weights.config();
    }

    /** A pool for the global cache: one position per token. */
    public KvPool newPool(int pageSize, int pages) {
        var c = config().stack();
        return new KvPool(c.numLayers(), c.hiddenSize(), pageSize, pages);
    }

    /**
     * Appends {@code tokens} (the rows' new tokens, in row order) to the rows' caches and returns logits
     * [n, V]: for every new position if {@code allPositions}, else for the last new position of each row.
     */
    public float[] run(int[] tokens, NeoXStack.Row[] rows, boolean allPositions) {
        int d = config().stack().hiddenSize();
        float[] x = new float[tokens.length * d];
        for (int t = 0; t < tokens.length; t++) {
            weights.embedIn().copyRow(tokens[t], x, t * d);
        }
        stack.forward(x, rows);
        float[] selected = allPositions ? x : lastOfEachRow(x, rows, d);
        int n = selected.length / d;
        float[] logits = new float[n * config().vocabSize()];
        ops.linear(selected, n, embedOut, logits);
        return logits;
    }

    static float[] lastOfEachRow(float[] x, NeoXStack.Row[] rows, int d) {
        float[] out = new float[rows.length * d];
        int end = 0;
        for (int r = 0; r < rows.length; r++) {
            end += rows[r].count();
            System.arraycopy(x, (end - 1) * d, out, r * d, d);
        }
        return out;
    }
}
