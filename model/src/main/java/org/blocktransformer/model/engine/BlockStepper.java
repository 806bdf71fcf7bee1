package org.blocktransformer.model.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.CacheGeometry;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.runtime.BlockRunner;
import org.blocktransformer.model.weights.BlockWeights;

/**
 * Block-by-block decoding: the block decoder consumes pending blocks (prompt chunks of new sequences, the last
 * finished block of running ones) and yields contexts; each context is expanded and the token decoder produces
 * the next L_B tokens inside a per-row local cache that is reset every block.
 */
final class BlockStepper implements Stepper {
    private final BlockRunner runner;
    private final BlockConfig config;
    private final CachePools caches;
    /** Prompt blocks fed in one unit at most: the backend's prefill tokens in whole blocks. */
    private final int prefillBlocks;

    BlockStepper(BlockWeights weights, ComputeBackend backend, CacheBudget budget) {
        this.runner = new BlockRunner(weights, backend);
        this.config = runner.config();
        this.prefillBlocks = Math.max(1, backend.prefillTokens() / config.blockLength());
        CacheGeometry geometry = budget.geometry();
        PagePool global = runner.newGlobalPool(CacheGeometry.PAGE_SIZE, budget.pages(), geometry.kv());
        PagePool local = runner.newLocalPool(budget.options().maxBatchSize(), geometry.kv());
        budget.allocate(() -> runner.attach(global, local));
        this.caches = new CachePools(geometry, global, local);
    }

    /** Left-pads with the pad id 0 to a multiple of L_B, as the reference's generate() preprocessing does. */
    @Override
    public int[] prepareInput(int[] prompt) {
        int lb = config.blockLength();
        int padded = (prompt.length + lb - 1) / lb * lb;
        int[] out = new int[padded];
        System.arraycopy(prompt, 0, out, padded - prompt.length, prompt.length);
        return out;
    }

    @Override
    public CachePools caches() {
        return caches;
    }

    @Override
    public void step(List<Sequence> active) {
        feedBlocks(active, prefillBlocks);
        List<Sequence> ready = new ArrayList<>();
        for (Sequence s : active) {
            if (s.hasContext() && !s.finished()) {
                ready.add(s);
            }
        }
        if (!ready.isEmpty()) {
            decodeBlock(ready);
        }
    }

    /** The global stage: one block-decoder call over every sequence's pending blocks. */
    private void feedBlocks(List<Sequence> active, int prefillBudget) {
        int lb = config.blockLength();
        int d = config.blockDecoder().hiddenSize();
        List<Sequence> fedSeqs = new ArrayList<>();
        List<StackRow> rows = new ArrayList<>();
        List<float[]> embeddings = new ArrayList<>();
        int total = 0;
        int budget = prefillBudget;
        for (Sequence s : active) {
            int left = s.unfedCount() / lb;
            if (left == 0 || s.finished()) {
                continue;
            }
            int n = left == 1 ? 1 : Math.min(left, budget);
            if (n <= 0) {
                continue;
            }
            if (left > 1) {
                budget -= n;
            }
            embeddings.add(runner.embedBlocks(s.takeInput(n * lb), 0, n));
            total += n;
            fedSeqs.add(s);
            rows.add(new StackRow(s.globalCache(), n));
        }
        if (rows.isEmpty()) {
            return;
        }
        float[] x = new float[total * d];
        int at = 0;
        for (float[] e : embeddings) {
            System.arraycopy(e, 0, x, at, e.length);
            at += e.length;
        }
        runner.decodeBlocks(x, rows.toArray(StackRow[]::new));
        int end = 0;
        for (int r = 0; r < fedSeqs.size(); r++) {
            end += rows.get(r).count();
            Sequence s = fedSeqs.get(r);
            if (!s.hasUnfedInput()) {
                s.setContext(Arrays.copyOfRange(x, (end - 1) * d, end * d));
            }
        }
    }

    /** The local stage: expand each context and decode L_B tokens for every ready sequence, in lockstep. */
    private void decodeBlock(List<Sequence> ready) {
        int lb = config.blockLength();
        int d = config.blockDecoder().hiddenSize();
        int dt = config.tokenDecoder().hiddenSize();
        int r = config.expansionRatio();
        int n = ready.size();
        float[] contexts = new float[n * d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(ready.get(i).takeContext(), 0, contexts, i * d, d);
            ready.get(i).localCache().reset();
        }
        float[] expanded = runner.expand(contexts, n);
        int[] startCount = new int[n];
        for (int i = 0; i < n; i++) {
            startCount[i] = ready.get(i).generatedCount();
        }
        int maxPositions = config.decoding() == DecodingStrategy.PREFIX ? r : 1;
        for (int j = 0; j < lb; j++) {
            List<Integer> live = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (!ready.get(i).finished()) {
                    live.add(i);
                }
            }
            if (live.isEmpty()) {
                break;
            }
            float[] x = new float[live.size() * maxPositions * dt];
            StackRow[] rows = new StackRow[live.size()];
            int at = 0;
            for (int k = 0; k < live.size(); k++) {
                int i = live.get(k);
                Sequence s = ready.get(i);
                int previous = j == 0 ? config.bosTokenId() : s.lastGenerated();
                int positions = runner.localInput(j, expanded, i * r * dt, previous, x, at * dt);
                rows[k] = new StackRow(s.localCache(), positions);
                at += positions;
            }
            float[] hidden = runner.tokenHidden(Arrays.copyOf(x, at * dt), rows, false);
            List<Sequence> liveSeqs = new ArrayList<>();
            List<Integer> hiddenRows = new ArrayList<>();
            for (int k = 0; k < live.size(); k++) {
                liveSeqs.add(ready.get(live.get(k)));
                hiddenRows.add(k);
            }
            int[] next = NextTokens.choose(runner.head(), hidden, dt, liveSeqs, hiddenRows);
            var logprobs = NextTokens.logprobs(runner.head(), hidden, dt, liveSeqs, hiddenRows, next);
            for (int k = 0; k < liveSeqs.size(); k++) {
                liveSeqs.get(k).accept(next[k], logprobs[k], config.eosTokenId());
            }
        }
        for (int i = 0; i < n; i++) {
            Sequence s = ready.get(i);
            if (!s.finished()) {
                int from = startCount[i];
                int[] block = new int[lb];
                for (int k = 0; k < lb; k++) {
                    block[k] = s.generated(from + k);
                }
                s.queueInput(block);
            }
        }
    }
}
