package org.blocktransformer.tornado;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.blocktransformer.loader.Presets;
import org.blocktransformer.model.backend.StackExecutor;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.CacheTable;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.EmbedderConfig;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.eval.PerplexityEvaluator;
import org.blocktransformer.model.eval.PerplexityResult;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.StackWeights;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Device memory stays flat over many perplexity windows, and pools used one after the other on a stack share one
 * device copy of its weights (a plan, with its compiled kernels); only pools in use at once have one each. Memory
 * is TornadoVM's own bookkeeping of the backend's plans ({@link TornadoBackend#deviceMemoryBytes}): a new plan, or
 * one never freed, shows in it.
 */
class TornadoDeviceMemoryTest {
    private static final NeoXConfig STACK = NeoXConfig.pythia(64, 2, 2, 48, 256);

    private static ModelWeights model(String kind) {
        ModelConfig config = kind.equals("vanilla") ? new VanillaConfig(512, STACK, 0, 0, 0)
                : new BlockConfig(4, 512, new EmbedderConfig(16, EmbedderProjection.CONCAT), DecodingStrategy.PREFIX,
                        2, STACK, STACK, 0, 0, 0);
        return Presets.randomInit("device-memory-" + kind, config, 1, WeightFormat.F32);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vanilla", "block"})
    void perplexityWindowsKeepDeviceMemoryFlat(String kind) {
        ModelWeights w = model(kind);
        int[] doc = new SplittableRandom(3).ints(6 * 40 + 17, 1, 512).toArray();
        var options = PerplexityEvaluator.Options.defaults().withWindow(40);
        try (TornadoBackend device = TornadoTestSupport.backend();
             var eval = PerplexityEvaluator.open(w, options, device);
             var cpu = PerplexityEvaluator.open(w, options.withBackend("cpu", "").withThreads(1))) {
            List<Long> memory = new ArrayList<>();
            PerplexityResult got = eval.score(List.of(doc), (done, total) -> memory.add(device.deviceMemoryBytes()));
            assertEquals(7, memory.size(), "a figure per window");
            assertTrue(memory.getFirst() > 0, "the plans' buffers are counted: " + memory);
            for (int i = 1; i < memory.size(); i++) {
                assertEquals(memory.getFirst(), memory.get(i), "device memory after window " + (i + 1) + ": " + memory);
            }
            PerplexityResult want = cpu.score(doc);
            assertEquals(want.predicted(), got.predicted());
            assertEquals(want.nllSum(), got.nllSum(), 1e-4 * want.predicted(), "the device's NLL is the CPU's");
        }
    }

    @Test
    void poolsUsedOneAfterTheOtherShareOneCopyOfTheWeights() {
        SplittableRandom r = new SplittableRandom(4);
        StackWeights weights = TornadoTestSupport.stack(r, STACK);
        float[] x = TornadoTestSupport.random(r, 20 * STACK.hiddenSize(), 1);
        try (TornadoBackend device = TornadoTestSupport.backend()) {
            StackExecutor stack = device.stack(STACK, weights);
            PagePool first = new PagePool(STACK.numLayers(), STACK.hiddenSize(), 16, 4);
            CacheTable a = first.newTable();
            float[] fromFirst = forward(stack, a, x);
            long one = device.deviceMemoryBytes();
            a.release();

            // The first pool holds no pages: the second takes over its plan, and computes the same.
            PagePool second = new PagePool(STACK.numLayers(), STACK.hiddenSize(), 16, 3);
            CacheTable b = second.newTable();
            assertArrayEquals(fromFirst, forward(stack, b, x), "the same call through the plan taken over");
            assertEquals(one, device.deviceMemoryBytes(), "no second copy of the weights");

            // While the second holds pages, a third pool needs a plan of its own.
            PagePool third = new PagePool(STACK.numLayers(), STACK.hiddenSize(), 16, 4);
            assertArrayEquals(fromFirst, forward(stack, third.newTable(), x));
            assertTrue(device.deviceMemoryBytes() > one, "a second plan for a pool in use at the same time");
        }
    }

    private static float[] forward(StackExecutor stack, CacheTable table, float[] x) {
        int tokens = x.length / STACK.hiddenSize();
        assertTrue(table.reserve(tokens));
        float[] out = x.clone();
        stack.forward(out, new StackRow[] {new StackRow(table, tokens)});
        return out;
    }
}
