package org.blocktransformer.model.engine;

import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.model.cache.KvPool;
import org.blocktransformer.model.neox.NeoXStack;
import org.blocktransformer.model.runtime.VanillaRunner;

/** Token-by-token decoding of a GPT-NeoX model over the paged cache. */
final class VanillaStepper implements Stepper {
    private final VanillaRunner runner;
    private final KvPool global;

    VanillaStepper(VanillaRunner runner, KvPool global) {
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
    public KvPool globalPool() {
        return global;
    }

    @Override
    public KvPool localPool() {
        return null;
    }

    @Override
    public void step(List<Sequence> active, int prefillBudget) {
        List<Sequence> fedSeqs = new ArrayList<>();
        List<NeoXStack.Row> rows = new ArrayList<>();
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
            rows.add(new NeoXStack.Row(s.global, n));
        }
        if (rows.isEmpty()) {
            return;
        }
        float[] logits = runner.run(java.util.Arrays.copyOf(tokens, count), rows.toArray(NeoXStack.Row[]::new), false);
        int vocab = runner.config().vocabSize();
        for (int r = 0; r < fedSeqs.size(); r++) {
            Sequence s = fedSeqs.get(r);
            if (s.hasUnfedInput()) {
                continue; // still prefilling
            }
            int token = s.sampler.next(logits, r * vocab, vocab);
            s.accept(token, runner.config().eosTokenId());
            s.input = new int[] {token};
            s.fed = 0;
        }
    }
}
