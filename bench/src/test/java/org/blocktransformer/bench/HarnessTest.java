package org.blocktransformer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.blocktransformer.model.config.ParameterCount;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.cache.CacheGeometry;
import org.blocktransformer.model.cpu.PackedMatrix;
import org.blocktransformer.model.engine.Batching;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.Test;

/** The harness on small random models: cache sizing against the engine, counts, memory. */
class HarnessTest {

    @Test
    void cacheSizingIsWhatTheEngineNeeds() {
        for (ModelWeights w : List.of(TinyBench.vanilla(WeightFormat.F32), TinyBench.block(WeightFormat.F32))) {
            for (Scenario s : List.of(Scenario.custom(5, 9), Scenario.custom(16, 16), Scenario.custom(33, 1))) {
                int batch = 3;
                try (InferenceEngine engine = ThroughputHarness.openSized(w, s, batch,
                        ThroughputHarness.Options.defaults().withThreads(1))) {
                    String what = w.config().kind() + " " + s;
                    assertEquals(batch, engine.maxBatchFor(s.promptLength(), s.newTokens()), what);
                    CacheGeometry g = new CacheGeometry(w.config(), KvFormat.F32);
                    long global = batch * g.globalBytesPerSequence(s.promptLength(), s.newTokens());
                    assertEquals(global, engine.totalCachePages() * g.globalPageBytes(), what);
                    long local = engine.cacheBytes() - global;
                    assertTrue(local <= batch * g.localBytesPerRow(), what + ": local " + local);
                    assertTrue(local > 0 == w.config() instanceof org.blocktransformer.model.config.BlockConfig, what);
                }
            }
        }
    }

    @Test
    void weightMemoryCountsEveryParameterAndThePackedCopies() {
        for (ModelWeights w : List.of(TinyBench.vanilla(WeightFormat.F32), TinyBench.block(WeightFormat.F32))) {
            WeightMemory m = WeightMemory.of(w);
            assertEquals(4 * ParameterCount.of(w.config()).total(), m.loaded(), w.config().kind());
            assertTrue(m.packed() > 0 && m.packed() < m.loaded(), m.toString());
            assertEquals(m.total(), m.heldBy("cpu"));
            assertEquals(m.loaded(), m.heldBy("tornado"));
        }
        // Vanilla: the packed Linears are the stack's and embed_out (V x D), rows padded to whole panels.
        var c = TinyBench.VANILLA;
        int d = c.stack().hiddenSize();
        int inter = c.stack().intermediateSize();
        long perLayer = pad(3 * d) * d + pad(d) * d + pad(inter) * d + pad(d) * inter;
        long expected = 4 * (c.stack().numLayers() * perLayer + pad(c.vocabSize()) * d);
        assertEquals(expected, WeightMemory.of(TinyBench.vanilla(WeightFormat.F32)).packed());
        WeightMemory bf16 = WeightMemory.of(TinyBench.vanilla(WeightFormat.BF16));
        assertEquals(expected / 2, bf16.packed());
        // Loaded in panels, the CPU holds them once: no packed copy, the padding counted in what is loaded.
        WeightMemory once = WeightMemory.of(org.blocktransformer.loader.Presets.randomInit("tiny-vanilla",
                TinyBench.VANILLA, 3, WeightFormat.F32, org.blocktransformer.model.weights.MatrixLayout.PANELS,
                org.blocktransformer.loader.LoadProgress.NONE));
        assertEquals(0, once.packed());
        long rowsOfLinears = 4L * (c.stack().numLayers() * (4L * d * d + 2L * inter * d) + (long) c.vocabSize() * d);
        assertEquals(WeightMemory.of(TinyBench.vanilla(WeightFormat.F32)).loaded() - rowsOfLinears + expected,
                once.loaded());
        assertEquals(once.loaded(), once.heldBy("cpu"));
    }

    private static long pad(int rows) {
        return (long) (rows + PackedMatrix.PANEL - 1) / PackedMatrix.PANEL * PackedMatrix.PANEL;
    }

    @Test
    void runCountsTokensAndTimes() {
        ModelWeights w = TinyBench.block(WeightFormat.F32);
        var options = ThroughputHarness.Options.defaults().withThreads(1).withWarmupTokens(4);
        var progress = new ThroughputHarness.Progress();
        ThroughputResult r = ThroughputHarness.run("tiny-block", w, "f32", Scenario.custom(6, 10), 3, options, progress);
        assertEquals("block", r.kind());
        assertEquals("cpu", r.backend());
        assertEquals(3, r.batchSize());
        assertEquals(3, r.requests());
        assertEquals(30, r.generatedTokens());
        assertEquals(30, progress.tokens());
        assertEquals(r.generatedTokens() / r.seconds(), r.tokensPerSecond(), 1e-9 * r.tokensPerSecond());
        assertTrue(r.ttftMillis() > 0 && r.ttftP99Millis() >= r.ttftMillis() * 0.999, r.toString());
        assertTrue(r.p50TokenMillis() > 0 && r.p99TokenMillis() >= r.p50TokenMillis(), r.toString());
        CacheGeometry g = new CacheGeometry(w.config(), KvFormat.F32);
        assertTrue(r.cacheBytes() > 3 * g.globalBytesPerSequence(6, 10));
        assertTrue(r.cacheBytes() <= 3 * g.bytesPerSequence(6, 10));
        assertEquals(WeightMemory.of(w).total(), r.weightBytes());
        assertEquals(r.cacheBytes() + r.weightBytes(), r.peakMemoryBytes());
        assertTrue(r.heapUsedBytes() > 0);
        assertEquals(1, r.threads());
        assertTrue(r.device().contains("CPU"), r.device());

        // A static batch starts together: no row waits for another to finish before its first token.
        r = ThroughputHarness.run("tiny-vanilla", TinyBench.vanilla(WeightFormat.F32), "f32", Scenario.custom(4, 24), 4,
                options, null);
        // Every row's first token comes from the same step, so the slowest first token is no later than the mean
        // by much; a row that waited for the others would be about four times the mean. (A ratio, not a time:
        // the first run's JIT warm-up makes the step itself slow on a loaded machine.)
        assertTrue(r.ttftP99Millis() < 1.5 * r.ttftMillis() + 1, r.toString());

        // Continuous batching with more requests than rows.
        var continuous = new ThroughputHarness.Options(Batching.CONTINUOUS, 3, "cpu", "", 1, 0, 7, 1 << 20, 0);
        r = ThroughputHarness.run("tiny-vanilla", TinyBench.vanilla(WeightFormat.F32), "f32", Scenario.custom(4, 5), 2,
                continuous, null);
        assertEquals("vanilla", r.kind());
        assertEquals(6, r.requests());
        assertEquals(30, r.generatedTokens());
        assertEquals("continuous", r.batching());
        assertEquals("greedy", r.sampling());
        assertEquals(new CacheGeometry(TinyBench.VANILLA, KvFormat.F32).maxBatch(4, 5, 1 << 20), r.maxBatchInBudget());

        // Top-k sampling: every token still generated (EOS ignored), recorded as such.
        var sampled = new ThroughputHarness.Options(Batching.STATIC, 1, "cpu", "", 1, 0, 7, 1 << 20, 5);
        r = ThroughputHarness.run("tiny-vanilla", TinyBench.vanilla(WeightFormat.F32), "f32", Scenario.custom(4, 6), 3,
                sampled, null);
        assertEquals("top-k 5", r.sampling());
        assertEquals(18, r.generatedTokens());
        assertEquals("top-k 5", ThroughputResult.fromFields(r.fields()).sampling(), "read back");
        assertThrows(IllegalArgumentException.class,
                () -> new ThroughputHarness.Options(Batching.STATIC, 1, "cpu", "", 1, 0, 7, 0, -1));
    }

    @Test
    void promptsAreSeededAndInTheVocabulary() {
        var a = ThroughputHarness.prompts(512, 20, 3, 5);
        var b = ThroughputHarness.prompts(512, 20, 3, 5);
        for (int i = 0; i < 3; i++) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(a.get(i), b.get(i));
            for (int id : a.get(i)) {
                assertTrue(id >= 1 && id < 512);
            }
        }
    }
}
