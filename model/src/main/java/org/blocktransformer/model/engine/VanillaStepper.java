package org.blocktransformer.model.engine;

import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.runtime.VanillaRunner;

/** Token-by-token decoding of a GPT-NeoX model over the paged cache. */
final class VanillaStepper implements Stepper {
    private final VanillaRunner runner;
    private final PagePool global;

    VanillaStepper(VanillaRunner runner, PagePool global) {
        this.runner = runner;
        this.global = global;
    }

    @Override
    public int[] prepareInput(int[] prompt) {
        return prompt.clone();
    }

    @Override
    public int globalPositions(int promptLength, int maxNewTokens) {
        // The last generated token is never fed back.
        return promptLength + Math.max(0, maxNewTokens - 1);
    }

    @Override
    public int idsPerPosition() {
        return 1;
    }

    @Override
    public boolean usesLocalCache() {
        return false;
    }

    @Override
    public PagePool globalPool() {
        return global;
    }

    @Override
    public PagePool localPool() {
        return null;
    }

    @Override
    public void step(List<Sequence> active, int prefillBudget) {
        List<Sequence> fedSeqs = new ArrayList<>();
        List<StackRow> rows = new ArrayList<>();
        int[] tokens = new int[64];
        int count = 0;
        int budget = prefillBudget;
        for (Sequence s : active) {
            int left = s.input.length - s.fed;
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
                tokens = java.util.Arrays.copyOf(tokens, Math.max(tokens.length * 2, count + n));
            }
            System.arraycopy(s.input, s.fed, tokens, count, n);
            count += n;
            s.fed += n;
            fedSeqs.add(s);
            rows.add(new StackRow(s.global, n));
        }
        if (rows.isEmpty()) {
            return;
        }
        float[] hidden = runner.hidden(java.util.Arrays.copyOf(tokens, count), rows.toArray(StackRow[]::new), false);
        List<Sequence> ready = new ArrayList<>();
        List<Integer> readyRows = new ArrayList<>();
        for (int r = 0; r < fedSeqs.size(); r++) {
            if (!fedSeqs.get(r).hasUnfedInput()) { // rows still prefilling produce nothing yet
                ready.add(fedSeqs.get(r));
                readyRows.add(r);
            }
        }
        int d = runner.config().stack().hiddenSize();
        int[] next = Heads.choose(runner.head(), hidden, d, ready, readyRows);
        var logprobs = Heads.logprobs(runner.head(), hidden, d, ready, readyRows, next);
        for (int i = 0; i < ready.size(); i++) {
            Sequence s = ready.get(i);
            s.accept(next[i], logprobs[i], runner.config().eosTokenId());
            s.input = new int[] {next[i]};
            s.fed = 0;
        }
    }
}
