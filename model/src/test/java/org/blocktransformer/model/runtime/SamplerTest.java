package org.blocktransformer.model.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void aTemperatureTooSmallToInvertSamplesAmongTheLargest() {
        float[] row = {1f, 3f, 2f, 3f, -4f};
        boolean[] seen = new boolean[row.length];
        for (long seed = 0; seed < 64; seed++) {
            for (double topP : new double[] {1.0, 0.5}) {
                Sampler sampler = new Sampler(SamplingParams.sample(Double.MIN_VALUE, 0, topP, seed));
                int token = sampler.next(row, 0, row.length);
                assertEquals(3f, row[token], "seed " + seed + ", top-p " + topP + ": token " + token);
                seen[token] = true;
            }
        }
        assertTrue(seen[1] && seen[3], "both largest outputs are drawn");
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

    /**
     * Top-p without top-k on rows made to be awkward (exact ties, flat rows, one dominant output, long tails that
     * underflow to zero or to subnormal probabilities, a large vocabulary) and nuclei from a single output to
     * nearly all: the same token as the definition for every draw.
     */
    @Test
    void nucleusDrawsWhatTheDefinitionDrawsOnAwkwardRows() {
        SplittableRandom r = new SplittableRandom(17);
        double[] topPs = {1e-300, 1e-12, 1e-3, 0.1, 0.5, 0.9, 0.95, 0.999, 1 - 1e-9, Math.nextDown(1.0)};
        double[] temperatures = {0.01, 0.3, 0.8, 1.0, 3.0, 100.0};
        int[] sizes = {1, 2, 3, 10, 257, 4000, 50304};
        for (int trial = 0; trial < 600; trial++) {
            int vocab = sizes[trial < 20 ? 6 : r.nextInt(sizes.length - 1)];
            double topP = topPs[r.nextInt(topPs.length)];
            double temperature = temperatures[r.nextInt(temperatures.length)];
            float[] row = awkwardLogits(r, vocab, trial % 6);
            long seed = r.nextLong();
            Sampler sampler = new Sampler(SamplingParams.sample(temperature, 0, topP, seed));
            SplittableRandom reference = new SplittableRandom(seed);
            for (int draw = 0; draw < 20; draw++) {
                int want = definition(row, vocab, temperature, 0, topP, reference.nextDouble());
                int got = sampler.next(row, 0, vocab);
                int t = trial;
                assertEquals(want, got, () -> "trial " + t + ": vocab " + vocab + ", temperature " + temperature
                        + ", top-p " + topP);
            }
        }
    }

    /** Six kinds of rows, by {@code kind}: see {@link #nucleusDrawsWhatTheDefinitionDrawsOnAwkwardRows}. */
    private static float[] awkwardLogits(SplittableRandom r, int n, int kind) {
        float[] row = new float[n];
        for (int i = 0; i < n; i++) {
            row[i] = switch (kind) {
                case 0 -> (float) (r.nextDouble(0.01, 20) * r.nextGaussian()); // any spread
                case 1 -> (float) r.nextInt(-2, 3); // few distinct values: ties everywhere
                case 2 -> 1.5f; // flat: one tie of the whole row
                case 3 -> i % 97 == 0 ? 30f : (float) r.nextGaussian(); // a few dominant outputs, a flat tail
                case 4 -> (float) (-800 * r.nextDouble()); // probabilities underflow to subnormals and zero
                default -> (float) (r.nextInt(4) * 0.5 + 1e-6 * r.nextInt(3)); // near ties of distinct logits
            };
        }
        return row;
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
        // Scaled as the sampler scales them (by 1 / temperature), so that ties are the same ties.
        double inv = 1.0 / temperature;
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = row[i] < kth ? 0 : Math.exp((row[i] - max) * inv);
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
