package org.blocktransformer.model.generate;

/**
 * Log-probabilities of one generated token under the model's distribution for that position: the log-softmax of
 * the raw logits (temperature, top-k and top-p are sampling rules applied after it, so they do not change these
 * numbers, as in vLLM's default).
 *
 * @param logprob     the chosen token's log-probability
 * @param topIds      the most probable ids, most probable first (ties: lower id first); as many as the request asked
 * @param topLogprobs their log-probabilities
 */
public record TokenLogprobs(double logprob, int[] topIds, double[] topLogprobs) {

    public TokenLogprobs {
        if (topIds.length != topLogprobs.length) {
            throw new IllegalArgumentException(topIds.length + " top ids but " + topLogprobs.length + " logprobs");
        }
    }

    /** Log-softmax of {@code logits[offset .. offset + n)} at {@code chosen}, with the {@code top} most probable. */
    public static TokenLogprobs of(float[] logits, int offset, int n, int chosen, int top) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        double logZ = max + Math.log(sum);
        int k = Math.min(top, n);
        int[] ids = new int[k];
        double[] lps = new double[k];
        // Insertion into a short sorted list: k is at most a few dozen, so this is one pass over the row.
        int filled = 0;
        for (int i = 0; i < n; i++) {
            float v = logits[offset + i];
            if (filled == k && (k == 0 || v <= logits[offset + ids[k - 1]])) {
                continue;
            }
            int at = filled < k ? filled++ : k - 1;
            while (at > 0 && logits[offset + ids[at - 1]] < v) {
                ids[at] = ids[at - 1];
                at--;
            }
            ids[at] = i;
        }
        for (int j = 0; j < k; j++) {
            lps[j] = logits[offset + ids[j]] - logZ;
        }
        return new TokenLogprobs(logits[offset + chosen] - logZ, ids, lps);
    }
}
