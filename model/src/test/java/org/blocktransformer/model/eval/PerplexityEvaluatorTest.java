package org.blocktransformer.model.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.blocktransformer.model.TinyModels;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cpu.CpuBackend;
import org.blocktransformer.model.generate.NonFiniteLogitsException;
import org.blocktransformer.model.runtime.BlockRunner;
import org.blocktransformer.model.runtime.VanillaRunner;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.VanillaWeights;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The evaluator against the runners' own teacher-forced logits, for every chunking and window split. */
class PerplexityEvaluatorTest {

    static int[] ids(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 1 + r.nextInt(TinyModels.VOCAB - 1);
        }
        return ids;
    }

    /** NLL of token j of block n >= 1 from {@link BlockRunner#teacherForced} on whole blocks (NaN for block 0). */
    static double[] teacherForcedNll(BlockWeights w, int[] blocks) {
        int lb = w.config().blockLength();
        int nb = blocks.length / lb;
        int vocab = w.config().vocabSize();
        try (CpuBackend cpu = new CpuBackend(1)) {
            float[] logits = new BlockRunner(w, cpu).teacherForced(new int[][] {blocks}).logits();
            double[] nll = new double[blocks.length];
            Arrays.fill(nll, Double.NaN);
            for (int n = 1; n < nb; n++) {
                for (int j = 0; j < lb; j++) {
                    nll[n * lb + j] = PerplexityEvaluator.negativeLogSoftmax(logits, (n - 1) * lb + j, vocab, blocks[n * lb + j]);
                }
            }
            return nll;
        }
    }

    static void assertNllEquals(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            if (Double.isNaN(expected[i])) {
                assertTrue(Double.isNaN(actual[i]), "token " + i + " should not be predicted, got " + actual[i]);
            } else {
                assertEquals(expected[i], actual[i], 1e-9 * Math.max(1, Math.abs(expected[i])), "token " + i);
            }
        }
    }

    @ParameterizedTest(name = "{0} L_B={1} R={2} chunk={3}")
    @CsvSource({"PREFIX,4,2,1", "PREFIX,4,2,12", "PREFIX,4,2,256", "PREFIX,2,1,5", "SUMMATION,4,4,9"})
    void blockWithoutPaddingIsTheTeacherForcedPass(DecodingStrategy decoding, int lb, int r, int chunk) {
        BlockWeights w = TinyModels.block(11, decoding, lb, r);
        int[] blocks = ids(1, 7 * lb);
        var options = PerplexityEvaluator.Options.defaults().withPadding(BlockPadding.NONE).withChunkPositions(chunk)
                .withThreads(1);
        try (var eval = PerplexityEvaluator.open(w, options)) {
            assertNllEquals(teacherForcedNll(w, blocks), eval.tokenNll(blocks));
            // A partial last block: its real tokens are scored exactly as in the whole-block pass.
            int[] shorter = Arrays.copyOf(blocks, blocks.length - 1);
            double[] expected = Arrays.copyOf(teacherForcedNll(w, blocks), shorter.length);
            assertNllEquals(expected, eval.tokenNll(shorter));
        }
    }

    @ParameterizedTest(name = "{0} L_B={1} R={2} chunk={3}")
    @CsvSource({"PREFIX,4,2,1", "PREFIX,4,2,256", "PREFIX,2,1,3", "SUMMATION,4,4,9"})
    void blockReferencePaddingPredictsEveryTokenButTheFirst(DecodingStrategy decoding, int lb, int r, int chunk) {
        BlockWeights w = TinyModels.block(12, decoding, lb, r);
        int[] tokens = ids(2, 5 * lb + 2);
        // The reference layout written out: L_B - 1 pads, the tokens, pads to the block boundary.
        int pad = lb - 1;
        int nb = (pad + tokens.length + lb - 1) / lb;
        int[] blocks = new int[nb * lb];
        System.arraycopy(tokens, 0, blocks, pad, tokens.length);
        double[] full = teacherForcedNll(w, blocks);
        double[] expected = Arrays.copyOfRange(full, pad, pad + tokens.length);
        var options = PerplexityEvaluator.Options.defaults().withChunkPositions(chunk).withThreads(1);
        try (var eval = PerplexityEvaluator.open(w, options)) {
            double[] actual = eval.tokenNll(tokens);
            assertNllEquals(expected, actual);
            assertTrue(Double.isNaN(actual[0]));
            for (int i = 1; i < actual.length; i++) {
                assertTrue(actual[i] > 0, "token " + i + " is predicted");
            }
        }
    }

    @Test
    void vanillaChunksEqualOnePass() {
        VanillaWeights w = TinyModels.vanilla(13);
        int[] tokens = ids(3, 40);
        double[] expected = new double[tokens.length];
        Arrays.fill(expected, Double.NaN);
        try (CpuBackend cpu = new CpuBackend(1)) {
            VanillaRunner runner = new VanillaRunner(w, cpu);
            var pool = runner.newPool(64, 1);
            var table = pool.newTable();
            table.reserve(tokens.length);
            float[] logits = runner.run(tokens, new StackRow[] {new StackRow(table, tokens.length)}, true);
            for (int t = 0; t + 1 < tokens.length; t++) {
                expected[t + 1] = PerplexityEvaluator.negativeLogSoftmax(logits, t, TinyModels.VOCAB, tokens[t + 1]);
            }
        }
        for (int chunk : new int[] {1, 7, 39, 256}) {
            try (var eval = PerplexityEvaluator.open(w, PerplexityEvaluator.Options.defaults().withChunkPositions(chunk))) {
                assertNllEquals(expected, eval.tokenNll(tokens));
            }
        }
    }

    @Test
    void documentsAreSplitIntoIndependentWindows() {
        BlockWeights w = TinyModels.block(14, DecodingStrategy.PREFIX, 4, 2);
        int[] doc = ids(4, 50);
        int[] other = ids(5, 9);
        try (var eval = PerplexityEvaluator.open(w, PerplexityEvaluator.Options.defaults().withWindow(16))) {
            assertEquals(16, eval.window());
            PerplexityResult result = eval.score(List.of(doc, other), PerplexityEvaluator.Progress.NONE);
            double sum = 0;
            long predicted = 0;
            int[][] windows = {Arrays.copyOfRange(doc, 0, 16), Arrays.copyOfRange(doc, 16, 32),
                    Arrays.copyOfRange(doc, 32, 48), Arrays.copyOfRange(doc, 48, 50), other};
            for (int[] window : windows) {
                for (double v : eval.tokenNll(window)) {
                    if (!Double.isNaN(v)) {
                        sum += v;
                        predicted++;
                    }
                }
            }
            assertEquals(59 - 5, predicted, "every token but each window's first");
            assertEquals(predicted, result.predicted());
            assertEquals(59, result.tokens());
            assertEquals(5, result.windows());
            assertEquals(sum, result.nllSum(), 1e-9 * sum);
            assertEquals(Math.exp(sum / predicted), result.perplexity(), 1e-9 * result.perplexity());
        }
    }

    /**
     * Logits holding NaN are an error naming the token they predict and its window, not "nothing predicted" (their
     * NLL is NaN, the mark of a token that is not predicted): the window before them is scored as usual.
     */
    @Test
    void nonFiniteLogitsAreAnErrorNamingTheToken() {
        int poison = 77;
        int[] doc = ids(6, 40);
        int[] other = ids(7, 10);
        for (int[] d : List.of(doc, other)) {
            Arrays.setAll(d, i -> d[i] == poison ? poison + 1 : d[i]);
        }
        doc[20] = poison;
        VanillaWeights w = TinyModels.withNaNToken(TinyModels.vanilla(17), poison);
        try (var eval = PerplexityEvaluator.open(w, PerplexityEvaluator.Options.defaults().withWindow(16))) {
            assertTrue(Double.isFinite(eval.score(Arrays.copyOf(doc, 20)).perplexity()), "before the NaN row");
            var e = assertThrows(NonFiniteLogitsException.class,
                    () -> eval.score(List.of(other, doc), PerplexityEvaluator.Progress.NONE));
            assertEquals("non-finite logits (NaN or infinity) predicting token 5 of the window of tokens 16..31 of"
                    + " document 2", e.getMessage());
        }
        BlockWeights b = TinyModels.withNaNToken(TinyModels.block(18, DecodingStrategy.PREFIX, 4, 2), poison);
        try (var eval = PerplexityEvaluator.open(b, PerplexityEvaluator.Options.defaults().withWindow(16))) {
            var e = assertThrows(NonFiniteLogitsException.class, () -> eval.score(doc));
            assertTrue(e.getMessage().startsWith("non-finite logits (NaN or infinity) predicting token "),
                    e.getMessage());
            assertTrue(e.getMessage().endsWith(" of the window of tokens 16..31"), e.getMessage());
        }
    }

    @Test
    void rejectsBadInput() {
        VanillaWeights w = TinyModels.vanilla(15);
        try (var eval = PerplexityEvaluator.open(w, PerplexityEvaluator.Options.defaults())) {
            assertEquals(2048, eval.window());
            var e = assertThrows(IllegalArgumentException.class, () -> eval.score(new int[] {1, 2, 512}));
            assertEquals("token 2 has id 512, outside the vocabulary [0, 512)", e.getMessage());
            assertTrue(Double.isNaN(eval.score(new int[] {5}).perplexity()), "nothing predicted");
        }
        var e = assertThrows(IllegalArgumentException.class,
                () -> PerplexityEvaluator.open(w, PerplexityEvaluator.Options.defaults().withWindow(4096)));
        assertEquals("window of 4096 tokens is longer than the model allows (2048 tokens)", e.getMessage());
        BlockWeights b = TinyModels.block(16, DecodingStrategy.PREFIX, 4, 2);
        assertEquals(2048 * 4 - 3, PerplexityEvaluator.maxWindow(b.config(), BlockPadding.REFERENCE));
        assertEquals(2048 * 4, PerplexityEvaluator.maxWindow(b.config(), BlockPadding.NONE));
    }
}
