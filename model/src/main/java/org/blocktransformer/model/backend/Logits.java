package org.blocktransformer.model.backend;

/**
 * What every token choice checks in the row of logits it reads. A NaN or an infinity there (an overflow, or a broken
 * device) would otherwise be decoded as a token: comparisons with NaN are false, so an argmax answers 0 and a
 * sampler draws from garbage. The checks ride on the pass the choice makes over the row anyway.
 */
public final class Logits {
    /** The id a choice gives for a row holding a NaN or an infinity: no token can be chosen from it. */
    public static final int NON_FINITE = -1;

    private Logits() {
    }

    /**
     * The index of the largest of {@code row[offset .. offset + n)} (first on ties), or {@link #NON_FINITE} when one
     * of them is a NaN or an infinity.
     */
    public static int argmax(float[] row, int offset, int n) {
        int best = 0;
        float max = row[offset];
        boolean finite = true;
        for (int i = 0; i < n; i++) {
            float v = row[offset + i];
            finite &= Float.isFinite(v);
            if (v > max) {
                max = v;
                best = i;
            }
        }
        return finite ? best : NON_FINITE;
    }
}
