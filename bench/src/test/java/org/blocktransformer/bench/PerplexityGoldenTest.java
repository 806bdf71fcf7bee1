package org.blocktransformer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.blocktransformer.loader.Checkpoints;
import org.blocktransformer.loader.Golden;
import org.blocktransformer.loader.safetensors.SafetensorsFile;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.eval.BlockPadding;
import org.blocktransformer.model.eval.PerplexityEvaluator;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The evaluator's perplexity against one computed here, with plain loops, from the reference's own logits
 * ({@code golden.safetensors}: block {@code logits[b, n-1, j]} predicts token j of block n; vanilla
 * {@code logits[b, t]} predicts token t+1).
 */
class PerplexityGoldenTest {

    /** The task's bound on the perplexity; single tokens' NLL agree to the logits' tolerance. */
    static final double RELATIVE = 1e-4;
    static final double TOKEN_ABS = 1e-3;

    static Path model(String name) {
        return Golden.path(name);
    }

    static int[] ints(SafetensorsFile f, String name) {
        long[] shape = f.info(name).shape();
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = Math.toIntExact(shape[i]);
        }
        long[] v = f.longs(name, s);
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.toIntExact(v[i]);
        }
        return out;
    }

    /** {@code -ln softmax(logits[offset .. offset+V))[target]} in double, written out. */
    static double nll(float[] logits, int offset, int vocab, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        return Math.log(sum) + max - logits[offset + target];
    }

    static void assertSameScores(String what, double[] expected, double[] actual) {
        double se = 0;
        double sa = 0;
        int n = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Double.isNaN(expected[i])) {
                assertTrue(Double.isNaN(actual[i]), what + ": token " + i + " should not be predicted");
                continue;
            }
            assertEquals(expected[i], actual[i], TOKEN_ABS, what + ": NLL of token " + i);
            se += expected[i];
            sa += actual[i];
            n++;
        }
        assertTrue(n > 0, what + ": nothing predicted");
        double pe = Math.exp(se / n);
        double pa = Math.exp(sa / n);
        assertEquals(pe, pa, RELATIVE * pe, what + ": perplexity from the golden logits " + pe + ", evaluator " + pa);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bt-prefix-l4", "bt-prefix-l2-r1", "bt-summation-l4", "bt-projection-l4"})
    void blockModelsWithoutPaddingMatchTheReferenceForward(String name) {
        Path dir = model(name);
        ModelWeights w = Checkpoints.load(dir, WeightFormat.F32);
        int lb = ((BlockConfig) w.config()).blockLength();
        int vocab = w.config().vocabSize();
        try (SafetensorsFile data = SafetensorsFile.open(dir.resolve("golden.safetensors"));
             var eval = PerplexityEvaluator.open(w, PerplexityEvaluator.Options.defaults()
                     .withPadding(BlockPadding.NONE).withThreads(1))) {
            int[] ids = ints(data, "fwd_input_ids");
            float[] logits = data.floats("fwd_logits");
            int rows = 3;
            int len = ids.length / rows;
            int nb = len / lb;
            double[] expectedAll = new double[ids.length];
            double[] actualAll = new double[ids.length];
            for (int b = 0; b < rows; b++) {
                int[] row = Arrays.copyOfRange(ids, b * len, (b + 1) * len);
                double[] expected = new double[len];
                Arrays.fill(expected, Double.NaN);
                for (int n = 1; n < nb; n++) {
                    for (int j = 0; j < lb; j++) {
                        int at = ((b * (nb - 1) + (n - 1)) * lb + j) * vocab;
                        expected[n * lb + j] = nll(logits, at, vocab, row[n * lb + j]);
                    }
                }
                System.arraycopy(expected, 0, expectedAll, b * len, len);
                System.arraycopy(eval.tokenNll(row), 0, actualAll, b * len, len);
            }
            assertSameScores(name + " fwd", expectedAll, actualAll);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bt-prefix-l4", "bt-prefix-l2-r1", "bt-summation-l4", "bt-projection-l4"})
    void blockReferencePaddingMatchesTheLeftPaddedReferenceForward(String name) {
        Path dir = model(name);
        ModelWeights w = Checkpoints.load(dir, WeightFormat.F32);
        int lb = ((BlockConfig) w.config()).blockLength();
        int vocab = w.config().vocabSize();
        try (SafetensorsFile data = SafetensorsFile.open(dir.resolve("golden.safetensors"));
             var eval = PerplexityEvaluator.open(w, PerplexityEvaluator.Options.defaults().withThreads(1))) {
            // Row 2 of the fwdpad case is the reference's evaluation layout: L_B - 1 pads, then real tokens.
            int[] ids = ints(data, "fwdpad_input_ids");
            float[] logits = data.floats("fwdpad_logits");
            int len = ids.length / 3;
            int nb = len / lb;
            int pad = lb - 1;
            int[] padded = Arrays.copyOfRange(ids, 2 * len, 3 * len);
            for (int i = 0; i < pad; i++) {
                assertEquals(0, padded[i], "fwdpad row 2 starts with L_B - 1 pads");
            }
            int[] tokens = Arrays.copyOfRange(padded, pad, len);
            double[] expected = new double[tokens.length];
            Arrays.fill(expected, Double.NaN);
            for (int n = 1; n < nb; n++) {
                for (int j = 0; j < lb; j++) {
                    int at = ((2 * (nb - 1) + (n - 1)) * lb + j) * vocab;
                    expected[n * lb + j - pad] = nll(logits, at, vocab, padded[n * lb + j]);
                }
            }
            double[] actual = eval.tokenNll(tokens);
            assertSameScores(name + " fwdpad row 2", expected, actual);
            assertTrue(Double.isNaN(actual[0]));
            assertEquals(tokens.length - 1, Arrays.stream(actual).filter(v -> !Double.isNaN(v)).count(),
                    "every token but the first is predicted");
        }
    }

    @Test
    void vanillaMatchesTheReferenceForward() {
        Path dir = model("vanilla-neox");
        ModelWeights w = Checkpoints.load(dir, WeightFormat.F32);
        int vocab = w.config().vocabSize();
        try (SafetensorsFile data = SafetensorsFile.open(dir.resolve("golden.safetensors"));
             var eval = PerplexityEvaluator.open(w, PerplexityEvaluator.Options.defaults().withThreads(1)
                     .withChunkPositions(7))) {
            int[] ids = ints(data, "fwd_input_ids");
            float[] logits = data.floats("fwd_logits");
            int len = ids.length / 3;
            double[] expectedAll = new double[ids.length];
            double[] actualAll = new double[ids.length];
            for (int b = 0; b < 3; b++) {
                int[] row = Arrays.copyOfRange(ids, b * len, (b + 1) * len);
                double[] expected = new double[len];
                Arrays.fill(expected, Double.NaN);
                for (int t = 1; t < len; t++) {
                    expected[t] = nll(logits, (b * len + t - 1) * vocab, vocab, row[t]);
                }
                System.arraycopy(expected, 0, expectedAll, b * len, len);
                System.arraycopy(eval.tokenNll(row), 0, actualAll, b * len, len);
            }
            assertSameScores("vanilla-neox fwd", expectedAll, actualAll);
        }
    }
}
