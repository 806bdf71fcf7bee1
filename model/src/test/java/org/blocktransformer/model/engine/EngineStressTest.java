package org.blocktransformer.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;
import org.blocktransformer.model.TinyModels;
import org.blocktransformer.model.cache.CacheGeometry;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.weights.ModelWeights;
import org.junit.jupiter.api.Test;

/**
 * Many requests of random shapes arriving at random times through continuous batching on a page pool too small
 * for all of them: each must produce exactly what it produces alone.
 */
class EngineStressTest {

    static List<GenerationRequest> randomRequests(int count, long seed, int maxPrompt, int maxNew) {
        SplittableRandom r = new SplittableRandom(seed);
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] prompt = new int[1 + r.nextInt(maxPrompt)];
            for (int k = 0; k < prompt.length; k++) {
                prompt[k] = r.nextInt(TinyModels.VOCAB);
            }
            SamplingParams sampling = r.nextBoolean() ? SamplingParams.GREEDY
                    : SamplingParams.sample(0.7 + r.nextDouble(), r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(50),
                    r.nextBoolean() ? 1.0 : 0.5 + 0.5 * r.nextDouble(), r.nextLong());
            out.add(new GenerationRequest(prompt, 1 + r.nextInt(maxNew), sampling, r.nextInt(4) == 0));
        }
        return out;
    }

    /** Each request alone, one after another, on an engine of batch 1. */
    static List<int[]> alone(ModelWeights weights, List<GenerationRequest> requests) {
        List<int[]> out = new ArrayList<>();
        try (var engine = InferenceEngine.open(weights, new EngineOptions(1, Batching.STATIC, 4L << 20, 1))) {
            for (GenerationRequest r : requests) {
                out.add(engine.generate(r).generatedIds());
            }
        }
        return out;
    }

    private static void stress(ModelWeights weights, int count, long seed) throws Exception {
        List<GenerationRequest> requests = randomRequests(count, seed, 200, 40);
        List<int[]> expected = alone(weights, requests);

        var config = weights.config();
        int layers = config instanceof org.blocktransformer.model.config.BlockConfig b ? b.blockDecoder().numLayers()
                : ((org.blocktransformer.model.config.VanillaConfig) config).stack().numLayers();
        long pageBytes = PagePool.pageBytes(layers, 64, CacheGeometry.PAGE_SIZE);
        // Room for only a few long requests at a time: admission must wait for pages.
        long budget = 24 * pageBytes;
        InferenceEngine engine = InferenceEngine.open(weights, new EngineOptions(8, Batching.CONTINUOUS, budget, 2));
        List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
        SplittableRandom arrival = new SplittableRandom(seed + 1);
        for (GenerationRequest r : requests) {
            futures.add(engine.submit(r));
            if (arrival.nextInt(4) == 0) {
                LockSupport.parkNanos(arrival.nextInt(2_000_000));
            }
        }
        for (int i = 0; i < requests.size(); i++) {
            assertArrayEquals(expected.get(i), futures.get(i).get().generatedIds(), "request " + i);
        }
        assertEquals(engine.totalCachePages(), engine.freeCachePages(), "every page back in the pool");
        assertTrue(engine.stats().waitsForPages() > 0, "the small pool made requests wait: " + engine.stats());
        assertTrue(engine.stats().peakBatch() > 1, "requests ran batched: " + engine.stats());
        engine.close();
        assertTrue(engine.isTerminated(), "engine thread ended");
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("bt-engine") && t.isAlive()),
                "no engine thread left running");
    }

    @Test
    void thousandRandomRequestsOnABlockModel() throws Exception {
        stress(TinyModels.block(11, DecodingStrategy.PREFIX, 4, 2), 1000, 42);
    }

    @Test
    void randomRequestsOnAVanillaModel() throws Exception {
        stress(TinyModels.vanilla(12), 300, 43);
    }

    @Test
    void randomRequestsOnASummationModel() throws Exception {
        stress(TinyModels.block(13, DecodingStrategy.SUMMATION, 4, 4), 200, 44);
    }
}
