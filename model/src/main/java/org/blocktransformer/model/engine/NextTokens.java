package org.blocktransformer.model.engine;

import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.model.backend.Candidates;
import org.blocktransformer.model.backend.LinearExecutor;
import org.blocktransformer.model.backend.Logits;
import org.blocktransformer.model.generate.TokenLogprobs;

/**
 * Chooses each sequence's next token from its final hidden state through the output head: greedy rows by the
 * backend's argmax (on a GPU only their ids come back), top-k rows from the candidates the backend selects (on a GPU
 * only those come back), other sampled rows from their whole logits; every sampled row with its sequence's own
 * sampler. A row whose logits are not all finite gets {@link Logits#NON_FINITE} rather than a token.
 */
final class NextTokens {
    private NextTokens() {
    }

    /**
     * @param hidden  [n, d] hidden states
     * @param seqs    the sequences to choose for
     * @param rowOf   for each of {@code seqs}, its row in {@code hidden}
     */
    static int[] choose(LinearExecutor head, float[] hidden, int d, List<Sequence> seqs, List<Integer> rowOf) {
        int[] out = new int[seqs.size()];
        List<Integer> greedy = new ArrayList<>();
        List<Integer> sampled = new ArrayList<>();
        for (int i = 0; i < seqs.size(); i++) {
            (seqs.get(i).request().sampling().isGreedy() ? greedy : sampled).add(i);
        }
        if (!greedy.isEmpty()) {
            int[] ids = head.argmax(gather(hidden, d, greedy, rowOf), greedy.size());
            for (int k = 0; k < greedy.size(); k++) {
                out[greedy.get(k)] = ids[k];
            }
        }
        int vocab = head.outFeatures();
        List<Integer> limited = new ArrayList<>();
        List<Integer> whole = new ArrayList<>();
        for (int i : sampled) {
            (Candidates.restricts(seqs.get(i).request().sampling().topK(), vocab) ? limited : whole).add(i);
        }
        if (!limited.isEmpty()) {
            int[] ks = new int[limited.size()];
            for (int j = 0; j < ks.length; j++) {
                ks[j] = seqs.get(limited.get(j)).request().sampling().topK();
            }
            Candidates[] candidates = head.topK(gather(hidden, d, limited, rowOf), limited.size(), ks);
            for (int j = 0; j < ks.length; j++) {
                int i = limited.get(j);
                if (candidates[j] != null) {
                    out[i] = seqs.get(i).sampler().next(candidates[j]);
                } else {
                    whole.add(i);
                }
            }
        }
        if (!whole.isEmpty()) {
            float[] logits = head.apply(gather(hidden, d, whole, rowOf), whole.size());
            for (int k = 0; k < whole.size(); k++) {
                int i = whole.get(k);
                out[i] = seqs.get(i).sampler().next(logits, k * vocab, vocab);
            }
        }
        return out;
    }

    /**
     * Log-probabilities of the chosen tokens for the sequences that asked for them (null for the others). Their rows'
     * whole logits come from {@link LinearExecutor#apply} a second time, after the choice, so asking for
     * log-probabilities never changes which token is chosen; only those rows pay for it.
     */
    static TokenLogprobs[] logprobs(LinearExecutor head, float[] hidden, int d, List<Sequence> seqs,
                                    List<Integer> rowOf, int[] chosen) {
        TokenLogprobs[] out = new TokenLogprobs[seqs.size()];
        List<Integer> wanted = new ArrayList<>();
        for (int i = 0; i < seqs.size(); i++) {
            if (seqs.get(i).request().wantsLogprobs() && chosen[i] != Logits.NON_FINITE) {
                wanted.add(i);
            }
        }
        if (wanted.isEmpty()) {
            return out;
        }
        int vocab = head.outFeatures();
        float[] logits = head.apply(gather(hidden, d, wanted, rowOf), wanted.size());
        for (int k = 0; k < wanted.size(); k++) {
            int i = wanted.get(k);
            out[i] = TokenLogprobs.of(logits, k * vocab, vocab, chosen[i], seqs.get(i).request().logprobs());
        }
        return out;
    }

    private static float[] gather(float[] hidden, int d, List<Integer> which, List<Integer> rowOf) {
        float[] x = new float[which.size() * d];
        for (int k = 0; k < which.size(); k++) {
            System.arraycopy(hidden, rowOf.get(which.get(k)) * d, x, k * d, d);
        }
        return x;
    }
}
