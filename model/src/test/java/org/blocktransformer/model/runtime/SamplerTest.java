package org.blocktransformer.model.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.blocktransformer.model.backend.Candidates;
import org.blocktransformer.model.backend.Logits;
import org.blocktransformer.model.generate.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The sampler against a direct implementation of its definition (softmax at the temperature over the whole row,
 * outputs below the k-th largest zeroed, nucleus, one uniform draw), and top-k sampling from {@link Candidates}
 * against sampling from the whole row.
 */
class SamplerTest {

    @ParameterizedTest(name = "temperature {0}, top-k {1}, top-p {2}")
    @CsvSource({"1.0,0,1.0", "0.7,40,1.0", "1.3,1,1.0", "0.8,0,0.9", "0.8,40,0.95", "2.0,499,0.5", "0.5,500,1.0"})
    void drawsWhatTheDefinitionDraws(double temperature, int topK, double topP) {
        int vocab = 500;
        SplittableRandom data = new SplittableRandom(topK * 7L + (long) (temperature * 10));
        SamplingParams params = SamplingParams.sample(temperature, topK, topP, 42);
        Sampler fromRows = new Sampler(params);
        Sampler fromCandidates = new Sampler(params);
        SplittableRandom reference = new SplittableRandom(42);
        for (int step = 0; step < 300; step++) {
            float[] row = logits(data, vocab);
            int want = definition(row, vocab, temperature, topK, topP, reference.nextDouble());
            assertEquals(want, fromRows.next(row, 0, vocab), "step " + step);
            if (topK > 0 && topK < vocab) {
                assertEquals(want, fromCandidates.next(Candidates.of(row, 0, vocab, topK)), "step " + step);
            }
        }
    }

    @Test
    void candidatesKeepTiesAndIndexOrder() {
        float[] row = {1f, 5f, 3f, 5f, 3f, -0f, 0f, 2f};
        Candidates c = Candidates.of(row, 0, row.length, 3);
        assertArrayEquals(new int[] {1, 2, 3, 4}, c.ids());
        assertArrayEquals(new float[] {5f, 3f, 5f, 3f}, c.logits());
        Candidates one = Candidates.of(new float[] {9f, 0f, -0f, 7f}, 1, 3, 2);
        assertArrayEquals(new int[] {0, 1, 2}, one.ids(), "-0 and 0 tie for second");
        assertThrows(IllegalArgumentException.class, () -> Candidates.of(row, 0, row.length, 8));
        assertThrows(IllegalArgumentException.class, () -> Candidates.of(row, 0, row.length, 0));
    }

    @Test
    void candidatesAgreeWithSortingOnAwkwardRows() {
        SplittableRandom r = new SplittableRandom(3);
        float[] specials = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1f};
        for (int trial = 0; trial < 500; trial++) {
            int n = 2 + r.nextInt(300);
            float[] row = new float[n];
            for (int i = 0; i < n; i++) {
                row[i] = r.nextInt(5) == 0 ? specials[r.nextInt(specials.length)] : (float) r.nextInt(-3, 4);
            }
            int k = 1 + r.nextInt(n - 1);
            float[] sorted = row.clone();
            Arrays.sort(sorted);
            float kth = sorted[n - k];
            Candidates c = Candidates.of(row, 0, n, k);
            if (!IntStream.range(0, n).allMatch(i -> Float.isFinite(row[i]))) {
                assertNull(c, "trial " + trial + ": no candidates from a row holding a NaN or an infinity");
                continue;
            }
            int j = 0;
            for (int i = 0; i < n; i++) {
                if (row[i] >= kth) {
                    assertEquals(i, c.ids()[j], "trial " + trial);
                    assertEquals(row[i], c.logits()[j++], "trial " + trial);
                }
            }
            assertEquals(j, c.size(), "trial " + trial + ": candidates of top-" + k + " among " + n);
        }
    }

    /** Every way of choosing refuses a row holding one NaN or infinity, wherever it is, rather than pick a token. */
    @ParameterizedTest(name = "temperature {0}, top-k {1}, top-p {2}")
    @CsvSource({"0,0,1.0", "1.0,0,1.0", "0.7,40,1.0", "0.8,0,0.9", "0.8,40,0.95"})
    void aNonFiniteLogitGivesNoToken(double temperature, int topK, double topP) {
        SplittableRandom r = new SplittableRandom(9);
        int vocab = 300;
        for (float special : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            for (int at : new int[] {0, 1, 150, vocab - 1}) {
                float[] row = logits(r, vocab);
                row[at] = special;
                Sampler s = new Sampler(SamplingParams.sample(temperature, topK, topP, 1));
                assertEquals(Logits.NON_FINITE, s.next(row, 0, vocab), special + " at " + at);
            }
        }
        Candidates fromDevice = new Candidates(new int[] {3, 8}, new float[] {1f, Float.NaN});
        assertEquals(Logits.NON_FINITE, new Sampler(SamplingParams.sample(1.0, 2, 1.0, 1)).next(fromDevice));
    }

    /** Logits with repeats (ties) and a long tail. */
    private static float[] logits(SplittableRandom r, int n) {
        float[] row = new float[n];
        for (int i = 0; i < n; i++) {
            row[i] = r.nextInt(10) == 0 ? (float) r.nextInt(4) : (float) (3 * r.nextGaussian());
        }
        return row;
    }

    private static int definition(float[] row, int n, double temperature, int topK, double topP, double u) {
        float kth = Float.NEGATIVE_INFINITY;
        if (topK > 0 && topK < n) {
            float[] sorted = row.clone();
            Arrays.sort(sorted);
            kth = sorted[n - topK];
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) {
            max = Math.max(max, v);
        }
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = row[i] < kth ? 0 : Math.exp((row[i] - max) / temperature);
            sum += p[i];
        }
        Integer[] order = new Integer[n];
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (p[i] > 0) {
                order[m++] = i;
            }
        }
        if (topP < 1) {
            Arrays.sort(order, 0, m, (a, b) -> Double.compare(p[b], p[a]));
            double kept = 0;
            int keep = 0;
            while (keep < m && kept < topP * sum) {
                kept += p[order[keep++]];
            }
            m = keep;
            sum = kept;
        }
        double acc = 0;
        for (int j = 0; j < m; j++) {
            acc += p[order[j]];
            if (acc > u * sum) {
                return order[j];
            }
        }
        return order[m - 1];
    }
}
