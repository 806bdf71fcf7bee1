package org.blocktransformer.model.runtime;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.blocktransformer.model.backend.Candidates;
import org.blocktransformer.model.backend.Logits;
import org.blocktransformer.model.generate.SamplingParams;

/**
 * Picks the next token from one row of logits. Each sequence owns its generator, seeded from its request, and
 * draws exactly one number per sampled token, so its tokens do not depend on the batch it runs in. A row holding a
 * NaN or an infinity gives {@link Logits#NON_FINITE} instead of a token, checked on the pass each choice makes over
 * the row (or, for candidates a device selected, over them).
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    private double[] probs = new double[0];
    private Integer[] order = new Integer[0];
    /** 0, 1, 2, ...: the ids when every output is a candidate. */
    private int[] every = new int[0];

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    /** Argmax, first index on ties; {@link Logits#NON_FINITE} for a row that is not all finite. */
    public static int argmax(float[] logits, int offset, int vocab) {
        return Logits.argmax(logits, offset, vocab);
    }

    public int next(float[] logits, int offset, int vocab) {
        if (params.isGreedy()) {
            return argmax(logits, offset, vocab);
        }
        if (Candidates.restricts(params.topK(), vocab)) {
            Candidates candidates = Candidates.of(logits, offset, vocab, params.topK());
            return candidates == null ? Logits.NON_FINITE : next(candidates);
        }
        if (every.length < vocab) {
            every = new int[vocab];
            for (int i = 0; i < vocab; i++) {
                every[i] = i;
            }
        }
        return draw(every, logits, offset, vocab);
    }

    /**
     * The next token of a top-k sequence from its row's {@link Candidates} (which a device backend selects where
     * the logits are): the same token as {@link #next(float[], int, int)} on the whole row, since every other
     * output has probability zero.
     */
    public int next(Candidates candidates) {
        return draw(candidates.ids(), candidates.logits(), 0, candidates.size());
    }

    /**
     * Samples among {@code count} outputs, ids {@code ids[j]} (ascending) with values {@code logits[offset + j]}:
     * softmax at the temperature, then top-p, then one uniform draw.
     */
    private int draw(int[] ids, float[] logits, int offset, int count) {
        if (probs.length < count) {
            probs = new double[count];
        }
        double inv = 1.0 / params.temperature();
        double max = Double.NEGATIVE_INFINITY;
        boolean finite = true;
        for (int j = 0; j < count; j++) {
            float v = logits[offset + j];
            finite &= Float.isFinite(v);
            max = Math.max(max, v);
        }
        if (!finite) {
            return Logits.NON_FINITE;
        }
        double sum = 0;
        for (int j = 0; j < count; j++) {
            double p = Math.exp((logits[offset + j] - max) * inv);
            probs[j] = p;
            sum += p;
        }
        double u = random.nextDouble();
        if (params.topP() < 1) {
            return sampleNucleus(ids, count, sum, u);
        }
        double target = u * sum;
        double acc = 0;
        int last = 0;
        for (int j = 0; j < count; j++) {
            if (probs[j] > 0) {
                acc += probs[j];
                last = ids[j];
                if (acc > target) {
                    return ids[j];
                }
            }
        }
        return last;
    }

    /** Samples among the most probable outputs whose probability mass first reaches top-p. */
    private int sampleNucleus(int[] ids, int count, double sum, double u) {
        if (order.length < count) {
            order = new Integer[count];
        }
        int n = 0;
        for (int j = 0; j < count; j++) {
            if (probs[j] > 0) {
                order[n++] = j;
            }
        }
        // Stable sort by probability, descending; ties keep index order.
        Arrays.sort(order, 0, n, (a, b) -> Double.compare(probs[b], probs[a]));
        double limit = params.topP() * sum;
        double kept = 0;
        int keep = 0;
        while (keep < n) {
            kept += probs[order[keep]];
            keep++;
            if (kept >= limit) {
                break;
            }
        }
        double target = u * kept;
        double acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += probs[order[i]];
            if (acc > target) {
                return ids[order[i]];
            }
        }
        return ids[order[keep - 1]];
    }
}
