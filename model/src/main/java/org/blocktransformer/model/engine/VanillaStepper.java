package org.blocktransformer.model.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.CacheGeometry;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.runtime.VanillaRunner;
import org.blocktransformer.model.weights.VanillaWeights;

/** Token-by-token decoding of a GPT-NeoX model over the paged cache. */
final class VanillaStepper implements Stepper {
    private final VanillaRunner runner;
    private final CachePools caches;
    private final int prefillTokens;

    VanillaStepper(VanillaWeights weights, ComputeBackend backend, CacheBudget budget) {
        this.runner = new VanillaRunner(weights, backend);
        this.prefillTokens = backend.prefillTokens();
        CacheGeometry geometry = budget.geometry();
        PagePool global = runner.newPool(CacheGeometry.PAGE_SIZE, budget.pages(), geometry.kv());
        budget.allocate(() -> runner.attach(global));
        this.caches = new CachePools(geometry, global, null);
    }

    @Override
    public int[] prepareInput(int[] prompt) {
        return prompt.clone();
    }

    @Override
    public CachePools caches() {
        return caches;
    }

    @Override
    public void step(List<Sequence> active) {
        List<Sequence> fedSeqs = new ArrayList<>();
        List<StackRow> rows = new ArrayList<>();
        int[] tokens = new int[64];
        int count = 0;
        int budget = prefillTokens;
        for (Sequence s : active) {
            int left = s.unfedCount();
            if (left == 0) {
                continue;
            }
            int n = left == 1 ? 1 : Math.min(left, budget);
            if (n <= 0) {
                continue;
            }
            if (left > 1) {
                budget -= n;
            }
            if (count + n > tokens.length) {
                tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, count + n));
            }
            System.arraycopy(s.takeInput(n), 0, tokens, count, n);
            count += n;
            fedSeqs.add(s);
            rows.add(new StackRow(s.globalCache(), n));
        }
        if (rows.isEmpty()) {
            return;
        }
        float[] hidden = runner.hidden(Arrays.copyOf(tokens, count), rows.toArray(StackRow[]::new), false);
        List<Sequence> ready = new ArrayList<>();
        List<Integer> readyRows = new ArrayList<>();
        for (int r = 0; r < fedSeqs.size(); r++) {
            if (!fedSeqs.get(r).hasUnfedInput()) { // rows still prefilling produce nothing yet
                ready.add(fedSeqs.get(r));
                readyRows.add(r);
            }
        }
        int d = runner.config().stack().hiddenSize();
        int[] next = NextTokens.choose(runner.head(), hidden, d, ready, readyRows);
        var logprobs = NextTokens.logprobs(runner.head(), hidden, d, ready, readyRows, next);
        for (int i = 0; i < ready.size(); i++) {
            Sequence s = ready.get(i);
            s.accept(next[i], logprobs[i], runner.config().eosTokenId());
            s.queueInput(new int[] {next[i]});
        }
    }
}
