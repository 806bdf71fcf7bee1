package org.blocktransformer.model.backend;

import java.util.Arrays;

/**
 * The outputs of one row that top-k sampling can draw: every output at least as large as the k-th largest (ties
 * included, so there may be more than k), in index order, with their values. Every other output has probability
 * zero, so sampling from these gives exactly the token that sampling from the whole row gives.
 */
public record Candidates(int[] ids, float[] logits) {

    public Candidates {
        if (ids.length != logits.length) {
            throw new IllegalArgumentException(ids.length + " ids but " + logits.length + " values");
        }
    }

    /** The candidates of {@code row[offset .. offset + n)} for top-{@code k}, 0 < k < n. */
    public static Candidates of(float[] row, int offset, int n, int k) {
        if (k <= 0 || k >= n) {
            throw new IllegalArgumentException("top-k needs 0 < k < " + n + ", got " + k);
        }
        float kth = kthLargest(Arrays.copyOfRange(row, offset, offset + n), k);
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (row[offset + i] >= kth) {
                count++;
            }
        }
        int[] ids = new int[count];
        float[] logits = new float[count];
        for (int i = 0, j = 0; i < n; i++) {
            float v = row[offset + i];
            if (v >= kth) {
                ids[j] = i;
                logits[j++] = v;
            }
        }
        return new Candidates(ids, logits);
    }

    /**
     * The k-th largest of {@code a} in {@link Float#compare}'s order (where a sort would place it), by quickselect:
     * linear time where sorting a 50,304-entry row per sampled token was not. Reorders {@code a}.
     */
    static float kthLargest(float[] a, int k) {
        int target = a.length - k;
        int lo = 0;
        int hi = a.length - 1;
        while (lo < hi) {
            float pivot = a[(lo + hi) >>> 1];
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (Float.compare(a[i], pivot) < 0) {
                    i++;
                }
                while (Float.compare(a[j], pivot) > 0) {
                    j--;
                }
                if (i <= j) {
                    float t = a[i];
                    a[i++] = a[j];
                    a[j--] = t;
                }
            }
            // a[lo..j] <= pivot <= a[i..hi], and everything between equals the pivot.
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                return a[target];
            }
        }
        return a[target];
    }

    public int size() {
        return ids.length;
    }
}
