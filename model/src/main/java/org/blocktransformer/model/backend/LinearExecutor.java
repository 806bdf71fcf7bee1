package org.blocktransformer.model.backend;

/** A Linear layer on a backend: {@code y[m] = W x[m] + bias} for each row (expansion, projection, output head). */
public interface LinearExecutor {

    int inFeatures();

    int outFeatures();

    /** [rows, out] from x [rows, in]. */
    float[] apply(float[] x, int rows);

    /**
     * The index of the largest output of each row (first on ties), or {@link Logits#NON_FINITE} for a row holding a
     * NaN or an infinity: greedy decoding through the output head. A device backend computes it where the logits
     * are, so only ids cross the bus.
     */
    default int[] argmax(float[] x, int rows) {
        float[] y = apply(x, rows);
        int n = outFeatures();
        int[] ids = new int[rows];
        for (int r = 0; r < rows; r++) {
            ids[r] = Logits.argmax(y, r * n, n);
        }
        return ids;
    }

    /**
     * For each row with {@code 0 < k[r] < outFeatures()}, its top-{@code k[r]} {@link Candidates} (null for other
     * rows): top-k sampling through the output head. A device backend selects them where the logits are, so only
     * the candidates cross the bus; it may return null for a row whose candidates it cannot hold (ties) or whose
     * logits are not all finite, and the caller then takes that row's logits from {@link #apply}.
     */
    default Candidates[] topK(float[] x, int rows, int[] k) {
        float[] y = apply(x, rows);
        int n = outFeatures();
        Candidates[] out = new Candidates[rows];
        for (int r = 0; r < rows; r++) {
            if (Candidates.restricts(k[r], n)) {
                out[r] = Candidates.of(y, r * n, n, k[r]);
            }
        }
        return out;
    }
}
