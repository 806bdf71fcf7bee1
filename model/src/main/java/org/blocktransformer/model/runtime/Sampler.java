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
    /** Binary-exponent buckets of the nucleus's histogram: probabilities down to 2^-62, and one for all below. */
    private static final int BUCKETS = 64;
    private final SamplingParams params;
    private final SplittableRandom random;
    private double[] probs = new double[0];
    /** The nucleus's candidate probabilities, sorted. */
    private double[] nucleus = new double[0];
    /** Probability mass by binary exponent, for {@link #nucleusFloor}. */
    private final double[] bucketMass = new double[BUCKETS];
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
            // The largest outputs get exp(0) whatever the temperature: below about 5.6e-309 its inverse is
            // infinite, and 0 times infinity would make every probability NaN.
            double d = logits[offset + j] - max;
            double p = d == 0 ? 1 : Math.exp(d * inv);
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

    /**
     * Samples among the most probable outputs whose probability mass first reaches top-p: the outputs in order of
     * descending probability (ties by ascending index), the shortest prefix whose running sum reaches
     * {@code topP * sum}, then the first output of that prefix whose running sum exceeds {@code u} times the
     * prefix's mass.
     *
     * <p>Both running sums depend only on the probabilities in that order, not on which index holds which, so they
     * are computed over sorted values (a primitive sort) and only the chosen position is turned back into an index:
     * among outputs of equal probability the r-th in the order is the r-th by index. Only the top of the order is
     * sorted: a histogram of the probabilities by binary exponent finds a floor above which the mass surely reaches
     * top-p, and the outputs below it are never looked at again.
     */
    private int sampleNucleus(int[] ids, int count, double sum, double u) {
        double limit = params.topP() * sum;
        double floor = nucleusFloor(count, limit);
        if (nucleus.length < count) {
            nucleus = new double[count];
        }
        int n = 0;
        for (int j = 0; j < count; j++) {
            if (probs[j] > 0 && probs[j] >= floor) {
                nucleus[n++] = probs[j];
            }
        }
        // Ascending: the order above is read from the end.
        Arrays.sort(nucleus, 0, n);
        double kept = 0;
        int keep = 0;
        while (keep < n) {
            kept += nucleus[n - 1 - keep];
            keep++;
            if (kept >= limit) {
                break;
            }
        }
        double target = u * kept;
        double acc = 0;
        int chosen = keep - 1;
        for (int i = 0; i < keep; i++) {
            acc += nucleus[n - 1 - i];
            if (acc > target) {
                chosen = i;
                break;
            }
        }
        double value = nucleus[n - 1 - chosen];
        int rank = 0; // outputs of the same probability before it in the order
        while (rank < chosen && nucleus[n - chosen + rank] == value) {
            rank++;
        }
        for (int j = 0; j < count; j++) {
            if (probs[j] == value && rank-- == 0) {
                return ids[j];
            }
        }
        throw new IllegalStateException("the chosen probability " + value + " is not in the row");
    }

    /**
     * A probability floor such that the outputs at or above it hold the nucleus: the power of two at the bottom of
     * the first binary-exponent bucket (from the top) where the buckets' mass reaches {@code limit} with room for
     * rounding, or 0 (every output) when none does. Sums of the same n positive numbers in any order (here by
     * bucket, in the nucleus by descending value) are each within a relative (n - 1) * 2^-53 of the exact sum (to
     * first order), so a mass of {@code limit * (1 + 4n * 2^-53)} by bucket is at least {@code limit} in any order.
     */
    private double nucleusFloor(int count, double limit) {
        Arrays.fill(bucketMass, 0);
        for (int j = 0; j < count; j++) {
            double p = probs[j];
            if (p > 0) {
                // p <= 1 (the largest output is exp(0)): bucket b holds [2^-b, 2^(1-b)), the last one all below.
                bucketMass[Math.min(BUCKETS - 1, -Math.getExponent(p))] += p;
            }
        }
        double needed = limit * (1 + 4.0 * count * 0x1p-53);
        double mass = 0;
        for (int b = 0; b < BUCKETS - 1; b++) {
            mass += bucketMass[b];
            if (mass >= needed) {
                return Math.scalb(1.0, -b);
            }
        }
        return 0;
    }
}
