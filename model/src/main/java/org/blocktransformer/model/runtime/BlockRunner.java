package org.blocktransformer.model.runtime;

import org.blocktransformer.model.cache.KvPool;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.cpu.CpuOps;
import org.blocktransformer.model.cpu.PackedLinear;
import org.blocktransformer.model.neox.NeoXStack;
import org.blocktransformer.model.weights.BlockWeights;

/**
 * The Block Transformer's pieces on the CPU: embedder, block decoder (global), expansion and token decoder (local).
 * The decode loop decides what runs when; this class only computes.
 */
public final class BlockRunner {
    private final BlockWeights weights;
    private final BlockConfig config;
    private final CpuOps ops;
    private final NeoXStack blockDecoder;
    private final NeoXStack tokenDecoder;
    private final PackedLinear projection;
    private final PackedLinear expansion;
    private final PackedLinear embedOut;

    public BlockRunner(BlockWeights weights, CpuOps ops) {
        this.weights = weights;
        this.config = weights.config();
        this.ops = ops;
        this.blockDecoder = new NeoXStack(config.blockDecoder(), weights.blockDecoder(), ops);
        this.tokenDecoder = new NeoXStack(config.tokenDecoder(), weights.tokenDecoder(), ops);
        this.projection = weights.embedProjection() == null ? null : PackedLinear.of(weights.embedProjection());
        this.expansion = PackedLinear.of(weights.expansion());
        this.embedOut = PackedLinear.of(weights.tokenEmbedOut());
    }

    public BlockConfig config() {
        return config;
    }

    /** A pool for the global cache: one position per block. */
    public KvPool newGlobalPool(int pageSize, int pages) {
        var c = config.blockDecoder();
        return new KvPool(c.numLayers(), c.hiddenSize(), pageSize, pages);
    }

    /** A pool of local cache slots, one page of R + L_B - 1 positions per batch row. */
    public KvPool newLocalPool(int slots) {
        var c = config.tokenDecoder();
        return new KvPool(c.numLayers(), c.hiddenSize(), config.localCacheLength(), slots);
    }

    /** Block embeddings [nBlocks, D] of {@code nBlocks * L_B} ids starting at {@code ids[offset]}. */
    public float[] embedBlocks(int[] ids, int offset, int nBlocks) {
        int lb = config.blockLength();
        int de = config.embedder().embedDim();
        int d = config.blockDecoder().hiddenSize();
        float[] concat = new float[nBlocks * lb * de];
        for (int i = 0; i < nBlocks * lb; i++) {
            weights.embedTable().copyRow(ids[offset + i], concat, i * de);
        }
        if (config.embedder().projection() == EmbedderProjection.CONCAT) {
            return concat;
        }
        float[] out = new float[nBlocks * d];
        ops.linear(concat, nBlocks, projection, out);
        return out;
    }

    /** Block decoder over new blocks of several rows: {@code x} [T, D] becomes the contexts. */
    public void decodeBlocks(float[] x, NeoXStack.Row[] rows) {
        blockDecoder.forward(x, rows);
    }

    /** Expansion of {@code n} contexts: [n, R * D_tok], row r of context i at {@code i*R*D_tok + r*D_tok}. */
    public float[] expand(float[] contexts, int n) {
        float[] out = new float[n * config.expansionRatio() * config.tokenDecoder().hiddenSize()];
        ops.linear(contexts, n, expansion, out);
        return out;
    }

    /** Writes the token decoder's input embedding of {@code id} at {@code dst[offset]}. */
    public void embedToken(int id, float[] dst, int offset) {
        weights.tokenEmbedIn().copyRow(id, dst, offset);
    }

    /**
     * Token decoder over new local positions of several rows; logits [n, V] for every new position if
     * {@code allPositions}, else for the last new position of each row.
     */
    public float[] decodeTokens(float[] x, NeoXStack.Row[] rows, boolean allPositions) {
        int d = config.tokenDecoder().hiddenSize();
        tokenDecoder.forward(x, rows);
        float[] selected = allPositions ? x : VanillaRunner.lastOfEachRow(x, rows, d);
        return logits(selected, selected.length / d);
    }

    public float[] logits(float[] hidden, int n) {
        float[] logits = new float[n * config.vocabSize()];
        ops.linear(hidden, n, embedOut, logits);
        return logits;
    }

    /**
     * The token decoder's input for local step {@code j} (0-based) given the tokens generated so far in the block:
     * prefix, step 0: the R expansion rows; step j > 0: the embedding of token j-1. Summation: embedding of
     * (BOS or token j-1) plus expansion row j. Returns the number of positions written to {@code x}.
     */
    public int localInput(int step, float[] expanded, int expandedOffset, int previousToken, float[] x, int xOffset) {
        int d = config.tokenDecoder().hiddenSize();
        if (config.decoding() == DecodingStrategy.PREFIX) {
            if (step == 0) {
                int r = config.expansionRatio();
                System.arraycopy(expanded, expandedOffset, x, xOffset, r * d);
                return r;
            }
            embedToken(previousToken, x, xOffset);
            return 1;
        }
        embedToken(step == 0 ? config.bosTokenId() : previousToken, x, xOffset);
        for (int i = 0; i < d; i++) {
            x[xOffset + i] += expanded[expandedOffset + step * d + i];
        }
        return 1;
    }

    /**
     * Scores whole blocks the way the reference's forward pass does (teacher forcing): the block decoder over every
     * block, then for each block n >= 1 the token decoder over the context of block n-1 and the block's own tokens.
     * All sequences and target blocks run batched, through the same caches the decode loop uses.
     *
     * @param ids {@code [B][NB * L_B]} token ids, whole blocks
     */
    public BlockTrace teacherForced(int[][] ids) {
        int lb = config.blockLength();
        int d = config.blockDecoder().hiddenSize();
        int dt = config.tokenDecoder().hiddenSize();
        int r = config.expansionRatio();
        int vocab = config.vocabSize();
        int b = ids.length;
        int nb = ids[0].length / lb;
        for (int[] row : ids) {
            if (row.length != nb * lb) {
                throw new IllegalArgumentException("every sequence needs " + nb * lb + " ids (whole blocks)");
            }
        }
        KvPool global = newGlobalPool(nb, b);
        NeoXStack.Row[] rows = new NeoXStack.Row[b];
        float[] embeddings = new float[b * nb * d];
        for (int i = 0; i < b; i++) {
            var table = global.newTable();
            table.reserve(nb);
            rows[i] = new NeoXStack.Row(table, nb);
            System.arraycopy(embedBlocks(ids[i], 0, nb), 0, embeddings, i * nb * d, nb * d);
        }
        float[] contexts = embeddings.clone();
        decodeBlocks(contexts, rows);

        int m = b * (nb - 1);
        float[] sources = new float[m * d];
        for (int i = 0; i < b; i++) {
            System.arraycopy(contexts, i * nb * d, sources, i * (nb - 1) * d, (nb - 1) * d);
        }
        float[] expanded = expand(sources, m);
        int positions = config.localCacheLength();
        float[] inputs = new float[m * positions * dt];
        KvPool local = newLocalPool(m);
        NeoXStack.Row[] localRows = new NeoXStack.Row[m];
        for (int i = 0; i < b; i++) {
            for (int n = 1; n < nb; n++) {
                int row = i * (nb - 1) + (n - 1);
                int at = row * positions * dt;
                int previous = config.bosTokenId();
                // Step j feeds token j-1 (the block's last token is only predicted, never fed).
                for (int step = 0; step < lb; step++) {
                    at += localInput(step, expanded, row * r * dt, previous, inputs, at) * dt;
                    previous = ids[i][n * lb + step];
                }
                var table = local.newTable();
                table.reserve(positions);
                localRows[row] = new NeoXStack.Row(table, positions);
            }
        }
        float[] hidden = inputs.clone();
        tokenDecoder.forward(hidden, localRows);
        // Prefix: outputs at positions R-1 .. R+L_B-2 predict the block; summation: all L_B outputs.
        int first = config.decoding() == DecodingStrategy.PREFIX ? r - 1 : 0;
        float[] selected = new float[m * lb * dt];
        for (int row = 0; row < m; row++) {
            System.arraycopy(hidden, (row * positions + first) * dt, selected, row * lb * dt, lb * dt);
        }
        float[] logits = logits(selected, m * lb);
        return new BlockTrace(embeddings, contexts, expanded, inputs, logits);
    }
}
