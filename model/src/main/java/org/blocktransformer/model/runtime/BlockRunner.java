package org.blocktransformer.model.runtime;

import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.backend.LinearExecutor;
import org.blocktransformer.model.backend.StackExecutor;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.weights.BlockWeights;

/**
 * The Block Transformer's pieces on a backend: embedder, block decoder (global), expansion and token decoder
 * (local). The engine's {@code BlockStepper} and the perplexity evaluator decide what runs when, over caches they
 * own; this class only computes (and makes pools of the right shape for its decoders).
 */
public final class BlockRunner {
    private final BlockWeights weights;
    private final BlockConfig config;
    private final StackExecutor blockDecoder;
    private final StackExecutor tokenDecoder;
    private final LinearExecutor projection;
    private final LinearExecutor expansion;
    private final LinearExecutor head;

    public BlockRunner(BlockWeights weights, ComputeBackend backend) {
        this.weights = weights;
        this.config = weights.config();
        this.blockDecoder = backend.stack(config.blockDecoder(), weights.blockDecoder());
        this.tokenDecoder = backend.stack(config.tokenDecoder(), weights.tokenDecoder());
        this.projection = weights.embedProjection() == null ? null : backend.linear(weights.embedProjection());
        this.expansion = backend.linear(weights.expansion());
        this.head = backend.linear(weights.tokenEmbedOut());
    }

    public LinearExecutor head() {
        return head;
    }

    public BlockConfig config() {
        return config;
    }

    /** Allocates the decoders' KV storage for their pools now. */
    public void attach(PagePool global, PagePool local) {
        blockDecoder.attach(global);
        tokenDecoder.attach(local);
    }

    /** A pool for the global cache: one position per block. */
    public PagePool newGlobalPool(int pageSize, int pages) {
        return newGlobalPool(pageSize, pages, KvFormat.F32);
    }

    /** As {@link #newGlobalPool(int, int)}, the keys and values stored as {@code kv}. */
    public PagePool newGlobalPool(int pageSize, int pages, KvFormat kv) {
        var c = config.blockDecoder();
        return new PagePool(c.numLayers(), c.hiddenSize(), VanillaRunner.roundedPageSize(pageSize), pages, kv);
    }

    /**
     * A pool of local cache slots, one page per batch row holding the R + L_B - 1 positions of a block (rounded up
     * to a multiple of 16 positions, the granularity backends vectorise over).
     */
    public PagePool newLocalPool(int slots) {
        return newLocalPool(slots, KvFormat.F32);
    }

    /** As {@link #newLocalPool(int)}, the keys and values stored as {@code kv}. */
    public PagePool newLocalPool(int slots, KvFormat kv) {
        var c = config.tokenDecoder();
        int size = (config.localCacheLength() + 15) / 16 * 16;
        return new PagePool(c.numLayers(), c.hiddenSize(), size, slots, kv, size);
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
        return projection.apply(concat, nBlocks);
    }

    /** Block decoder over new blocks of several rows: {@code x} [T, D] becomes the contexts. */
    public void decodeBlocks(float[] x, StackRow[] rows) {
        blockDecoder.forward(x, rows);
    }

    /** Expansion of {@code n} contexts: [n, R * D_tok], row r of context i at {@code i*R*D_tok + r*D_tok}. */
    public float[] expand(float[] contexts, int n) {
        return expansion.apply(contexts, n);
    }

    /** Writes the token decoder's input embedding of {@code id} at {@code dst[offset]}. */
    public void embedToken(int id, float[] dst, int offset) {
        weights.tokenEmbedIn().copyRow(id, dst, offset);
    }

    /**
     * Token decoder over new local positions of several rows; logits [n, V] for every new position if
     * {@code allPositions}, else for the last new position of each row.
     */
    public float[] decodeTokens(float[] x, StackRow[] rows, boolean allPositions) {
        float[] selected = tokenHidden(x, rows, allPositions);
        return logits(selected, selected.length / config.tokenDecoder().hiddenSize());
    }

    /** Token decoder over new local positions; the final hidden states of every position or the last of each row. */
    public float[] tokenHidden(float[] x, StackRow[] rows, boolean allPositions) {
        tokenDecoder.forward(x, rows);
        return allPositions ? x : VanillaRunner.lastOfEachRow(x, rows, config.tokenDecoder().hiddenSize());
    }

    public float[] logits(float[] hidden, int n) {
        return head.apply(hidden, n);
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
     * All sequences and target blocks run batched, through caches of the shape the engine uses.
     *
     * @param ids {@code [B][NB * L_B]} token ids, whole blocks
     */
    public BlockTrace teacherForced(int[][] ids) {
        return teacherForced(ids, KvFormat.F32);
    }

    /** As {@link #teacherForced(int[][])}, with the KV caches stored as {@code kv}. */
    public BlockTrace teacherForced(int[][] ids, KvFormat kv) {
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
        PagePool global = newGlobalPool(nb, b, kv);
        StackRow[] rows = new StackRow[b];
        float[] embeddings = new float[b * nb * d];
        for (int i = 0; i < b; i++) {
            var table = global.newTable();
            table.reserve(nb);
            rows[i] = new StackRow(table, nb);
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
        PagePool local = newLocalPool(m, kv);
        StackRow[] localRows = new StackRow[m];
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
                localRows[row] = new StackRow(table, positions);
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
