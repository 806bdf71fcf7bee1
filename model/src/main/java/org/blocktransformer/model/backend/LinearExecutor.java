package org.blocktransformer.model.backend;

/** A Linear layer on a backend: {@code y[m] = W x[m] + bias} for each row (expansion, projection, output head). */
public interface LinearExecutor {

    int inFeatures();

    int outFeatures();

    /** [rows, out] from x [rows, in]. */
    float[] apply(float[] x, int rows);

    /**
     * The index of the largest output of each row (first on ties): greedy decoding through the output head. A
     * device backend computes it where the logits are, so only ids cross the bus.
     */
    default int[] argmax(float[] x, int rows) {
        float[] y = apply(x, rows);
        int n = outFeatures();
        int[] ids = new int[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int i = 1; i < n; i++) {
                if (y[r * n + i] > y[r * n + best]) {
                    best = i;
                }
            }
            ids[r] = best;
        }
        return ids;
    }
}
