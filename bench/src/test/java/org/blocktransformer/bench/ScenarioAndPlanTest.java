package org.blocktransformer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.blocktransformer.loader.Presets;
import org.blocktransformer.model.config.ModelConfig;
import org.junit.jupiter.api.Test;

class ScenarioAndPlanTest {

    @Test
    void scenariosParse() {
        assertEquals(new Scenario("prefill-heavy", 2048, 128), Scenario.parse("prefill-heavy"));
        assertEquals(new Scenario("decode-heavy", 128, 2048), Scenario.parse(" Decode-Heavy "));
        assertEquals(new Scenario("decode-heavy/16", 8, 128), Scenario.parse("decode-heavy/16"));
        assertEquals(new Scenario("prefill-heavy/16", 128, 8), Scenario.parse("prefill-heavy/16"));
        assertEquals(new Scenario("decode-heavy-2k", 128, 1920), Scenario.parse("decode-heavy-2k"));
        assertEquals(new Scenario("prefill-heavy-2k/4", 480, 32), Scenario.parse("prefill-heavy-2k/4"));
        assertEquals(new Scenario("128:64", 128, 64), Scenario.parse("128:64"));
        assertEquals(new Scenario("chat", 300, 40), Scenario.parse("chat=300:40"));
        for (String bad : new String[] {"fast", "128:", "0:5", "decode-heavy/0", "a=b", "decode-heavy/x"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Scenario.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("invalid scenario '" + bad + "'"), e.getMessage());
            assertTrue(e.getMessage().contains("PROMPT:NEW"), e.getMessage());
        }
    }

    @Test
    void pairsParseAndResolve() {
        assertEquals(new ModelPair("vanilla-410m", "block-b4-1.2b"), ModelPair.parse("vanilla-410m:block-b4-1.2b"));
        assertThrows(IllegalArgumentException.class, () -> ModelPair.parse("vanilla-410m"));
        assertThrows(IllegalArgumentException.class, () -> ModelPair.parse("vanilla-410m:"));
        for (ModelPair p : ModelPair.PAPER) {
            assertTrue(Presets.exists(p.vanilla()) && Presets.exists(p.block()), p.toString());
        }
        Map<String, ModelConfig> configs = Map.of("vanilla-31m", Presets.config("vanilla-31m"),
                "block-b4-19m", Presets.config("block-b4-19m"), "block-b4-5m", Presets.config("block-b4-5m"),
                "vanilla-70m", Presets.config("vanilla-70m"));

        // Explicit pairs come first and are kept as given.
        var r = BenchPlan.resolve(List.of(new ModelPair("vanilla-31m", "block-b4-5m")), List.of("vanilla-70m"), configs);
        assertEquals(List.of("vanilla-31m", "block-b4-5m", "vanilla-70m"), r.models());
        assertEquals(List.of(new ModelPair("vanilla-31m", "block-b4-5m")), r.pairs());
        // --models only: the paper's pairs among them.
        r = BenchPlan.resolve(List.of(), List.of("vanilla-31m", "block-b4-19m", "vanilla-70m"), configs);
        assertEquals(List.of(ModelPair.CPU_DEFAULT), r.pairs());
        // One vanilla and one block model that the paper does not pair: compared anyway.
        r = BenchPlan.resolve(List.of(), List.of("vanilla-70m", "block-b4-5m"), configs);
        assertEquals(List.of(new ModelPair("vanilla-70m", "block-b4-5m")), r.pairs());
        // Two vanilla models: nothing to compare.
        r = BenchPlan.resolve(List.of(), List.of("vanilla-70m", "vanilla-31m"), configs);
        assertEquals(List.of(), r.pairs());
        var e = assertThrows(IllegalArgumentException.class, () -> BenchPlan.resolve(
                List.of(new ModelPair("block-b4-5m", "vanilla-31m")), List.of(), configs));
        assertEquals("pair block-b4-5m:vanilla-31m: 'block-b4-5m' is a block model; write VANILLA:BLOCK", e.getMessage());
    }

    @Test
    void configsAreCheckedBeforeRunning() {
        var e = assertThrows(IllegalArgumentException.class, () -> BenchRunner.checkedConfigs(
                List.of("vanilla-31m"), List.of(Scenario.parse("2000:100"))));
        assertEquals("scenario 2000:100 (prompt 2000, 100 new) needs 2100 tokens, more than vanilla-31m handles (2048)",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BenchRunner.checkedConfigs(
                List.of("block-b4-5m", "vanilla-31m"), List.of(Scenario.decodeHeavy())));
        assertTrue(e.getMessage().endsWith("; decode-heavy-2k is the same scenario within 2048 positions"),
                e.getMessage());
        var missing = assertThrows(RuntimeException.class, () -> BenchRunner.checkedConfigs(
                List.of("no-such-model"), List.of(Scenario.decodeHeavy())));
        assertTrue(missing.getMessage().startsWith("'no-such-model' is neither a preset nor a checkpoint directory"),
                missing.getMessage());
    }

    @Test
    void ratiosPerBatchAndBestOfEach() {
        List<ThroughputResult> runs = List.of(run("v", "vanilla", "s", 1, 100), run("v", "vanilla", "s", 8, 400),
                run("b", "block", "s", 1, 80), run("b", "block", "s", 8, 1600), run("b", "block", "s", 64, 6400),
                run("v", "vanilla", "t", 1, 10), run("b", "block", "t", 1, 50));
        List<Ratio> ratios = Ratio.compute(runs, List.of(new ModelPair("v", "b")));
        assertEquals(4, ratios.size(), ratios.toString());
        assertEquals(0.8, ratios.get(0).ratio(), 1e-12);
        assertEquals(4.0, ratios.get(1).ratio(), 1e-12);
        Ratio best = ratios.get(2);
        assertTrue(best.best());
        assertEquals(8, best.vanillaBatch());
        assertEquals(64, best.blockBatch());
        assertEquals(16.0, best.ratio(), 1e-12);
        assertEquals("t", ratios.get(3).scenario());
        assertEquals(5.0, ratios.get(3).ratio(), 1e-12);
        assertEquals("best", best.fields().get("batch_size"));
    }

    @Test
    void maxBatchOnADeviceIsSizedFromItsMemory() {
        var weights = TinyBench.vanilla(org.blocktransformer.model.weights.WeightFormat.F16);
        long weightBytes = DeviceBudget.weightBytes(weights, 2);
        assertEquals(2 * WeightMemory.of(weights).loaded(), weightBytes, "both layouts of the tensor-core path count");
        var geometry = new org.blocktransformer.model.cache.CacheGeometry(TinyBench.VANILLA,
                org.blocktransformer.model.backend.KvFormat.F16);
        Scenario s = new Scenario("custom", 100, 28);
        long perSequence = geometry.bytesPerSequence(100, 28);
        long device = DeviceBudget.RESERVE + weightBytes + 37 * perSequence + perSequence / 2;
        BenchPlan plan = new BenchPlan(List.of("tiny"), List.of(), List.of(s), List.of(), true, 1024, device, 2,
                org.blocktransformer.model.weights.WeightFormat.F16, 1,
                ThroughputHarness.Options.defaults().withKvCache(org.blocktransformer.model.backend.KvFormat.F16));
        long budget = BenchRunner.budget(plan, weights);
        assertEquals(device - weightBytes - DeviceBudget.RESERVE, budget);
        assertEquals(List.of(37), BenchRunner.batchSizes(plan, TinyBench.VANILLA, s, budget, "tiny"));
        // Less than the weights and the reserve: no batch fits, and the error says so.
        BenchPlan small = new BenchPlan(List.of("tiny"), List.of(), List.of(s), List.of(), true, 1024,
                DeviceBudget.RESERVE, 1, org.blocktransformer.model.weights.WeightFormat.F16, 1, plan.run());
        long none = BenchRunner.budget(small, weights);
        assertEquals(0, none);
        var e = assertThrows(IllegalArgumentException.class,
                () -> BenchRunner.batchSizes(small, TinyBench.VANILLA, s, none, "tiny"));
        assertTrue(e.getMessage().contains("not even one sequence"), e.getMessage());
    }

    static ThroughputResult run(String model, String kind, String scenario, int batch, double tps) {
        return new ThroughputResult(model, kind, "f32", "f32", "cpu", "test CPU", scenario, 16, 16, batch, "static", "greedy", batch,
                16L * batch, 16.0 * batch / tps, tps, 12.5, 20.0, 3.0, 7.5, 1 << 20, 1 << 24, 1 << 26, 99, 2);
    }
}
