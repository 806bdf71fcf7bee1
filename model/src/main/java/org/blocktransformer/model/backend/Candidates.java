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

    /** Whether top-{@code k} leaves out any of {@code n} outputs (0 < k < n); otherwise every output is drawable. */
    public static boolean restricts(int k, int n) {
        return k > 0 && k < n;
    }

    /**
     * The candidates of {@code row[offset .. offset + n)} for top-{@code k}, 0 < k < n; null when the row holds a NaN
     * or an infinity, from which no token can be drawn (see {@link Logits}).
     */
    public static Candidates of(float[] row, int offset, int n, int k) {
        if (!restricts(k, n)) {
            throw new IllegalArgumentException("top-k needs 0 < k < " + n + ", got " + k);
        }
        float kth = kthLargest(row, offset, n, k);
        int count = 0;
        boolean finite = true;
        for (int i = 0; i < n; i++) {
            float v = row[offset + i];
            finite &= Float.isFinite(v);
            if (v >= kth) {
                count++;
            }
        }
        if (!finite) {
            return null;
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

    /** Up to this k a heap of the k largest beats sorting the row (SamplingBench: 5x at k = 40, slower at 1,000). */
    private static final int HEAP_K = 256;

    /**
     * The k-th largest of {@code row[offset .. offset + n)} in {@link Float#compare}'s order (where a sort would
     * place it). For the usual small k, one pass keeping the k largest so far in a min-heap, so most values cost one
     * comparison with the heap's root; sorting the 50,304 logits of every row for every sampled token was most of
     * the cost of sampling.
     */
    static float kthLargest(float[] row, int offset, int n, int k) {
        if (k > HEAP_K) {
            float[] sorted = Arrays.copyOfRange(row, offset, offset + n);
            Arrays.sort(sorted);
            return sorted[n - k];
        }
        float[] heap = new float[k];
        for (int i = 0; i < k; i++) {
            heap[i] = row[offset + i];
            siftUp(heap, i);
        }
        for (int i = k; i < n; i++) {
            float v = row[offset + i];
            if (Float.compare(v, heap[0]) > 0) {
                heap[0] = v;
                siftDown(heap, k);
            }
        }
        return heap[0];
    }

    private static void siftUp(float[] heap, int at) {
        while (at > 0) {
            int parent = (at - 1) / 2;
            if (Float.compare(heap[at], heap[parent]) >= 0) {
                return;
            }
            float t = heap[at];
            heap[at] = heap[parent];
            heap[parent] = t;
            at = parent;
        }
    }

    private static void siftDown(float[] heap, int size) {
        int at = 0;
        while (true) {
            int smallest = at;
            int left = 2 * at + 1;
            int right = left + 1;
            if (left < size && Float.compare(heap[left], heap[smallest]) < 0) {
                smallest = left;
            }
            if (right < size && Float.compare(heap[right], heap[smallest]) < 0) {
                smallest = right;
            }
            if (smallest == at) {
                return;
            }
            float t = heap[at];
            heap[at] = heap[smallest];
            heap[smallest] = t;
            at = smallest;
        }
    }

    public int size() {
        return ids.length;
    }
}
