package org.blocktransformer.model.runtime;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.blocktransformer.model.generate.SamplingParams;

/**
 * Picks the next token from one row of logits. Each sequence owns its generator, seeded from its request, and
 * draws exactly one number per sampled token, so its tokens do not depend on the batch it runs in.
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    private double[] probs = new double[0];
    private Integer[] order = new Integer[0];

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    /** Argmax, first index on ties. */
    public static int argmax(float[] logits, int offset, int vocab) {
        int best = 0;
        float max = logits[offset];
        for (int i = 1; i < vocab; i++) {
            if (logits[offset + i] > max) {
                max = logits[offset + i];
                best = i;
            }
        }
        return best;
    }

    public int next(float[] logits, int offset, int vocab) {
        if (params.isGreedy()) {
            return argmax(logits, offset, vocab);
        }
        if (probs.length < vocab) {
            probs = new double[vocab];
        }
        double inv = 1.0 / params.temperature();
        float kthLargest = Float.NEGATIVE_INFINITY;
        if (params.topK() > 0 && params.topK() < vocab) {
            float[] copy = Arrays.copyOfRange(logits, offset, offset + vocab);
            Arrays.sort(copy);
            kthLargest = copy[vocab - params.topK()];
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            float l = logits[offset + i];
            double p = l < kthLargest ? 0 : Math.exp((l - max) * inv);
            probs[i] = p;
            sum += p;
        }
        double u = random.nextDouble();
        if (params.topP() < 1) {
            return sampleNucleus(vocab, sum, u);
        }
        double target = u * sum;
        double acc = 0;
        int last = 0;
        for (int i = 0; i < vocab; i++) {
            if (probs[i] > 0) {
                acc += probs[i];
                last = i;
                if (acc > target) {
                    return i;
                }
            }
        }
        return last;
    }

    /** Samples among the most probable tokens whose probability mass first reaches top-p. */
    private int sampleNucleus(int vocab, double sum, double u) {
        if (order.length < vocab) {
            order = new Integer[vocab];
        }
        int n = 0;
        for (int i = 0; i < vocab; i++) {
            if (probs[i] > 0) {
                order[n++] = i;
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
                return order[i];
            }
        }
        return order[keep - 1];
    }
}
