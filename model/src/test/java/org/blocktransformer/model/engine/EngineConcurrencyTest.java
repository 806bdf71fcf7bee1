package org.blocktransformer.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.blocktransformer.model.TinyModels;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.generate.FinishReason;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.weights.ModelWeights;
import org.junit.jupiter.api.Test;

class EngineConcurrencyTest {
    private final ModelWeights weights = TinyModels.block(21, DecodingStrategy.PREFIX, 4, 2);

    @Test
    void sixteenThreadsGetTheSequentialResults() throws Exception {
        List<GenerationRequest> requests = EngineStressTest.randomRequests(64, 7, 60, 20);
        List<int[]> expected = EngineStressTest.alone(weights, requests);
        try (var engine = InferenceEngine.open(weights, new EngineOptions(16, Batching.CONTINUOUS, 0, 2))) {
            @SuppressWarnings("unchecked")
            CompletableFuture<GenerationResult>[] futures = new CompletableFuture[requests.size()];
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                int first = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = first; i < requests.size(); i += 16) {
                        futures[i] = engine.submit(requests.get(i));
                    }
                }));
            }
            start.countDown();
            for (Thread t : threads) {
                t.join();
            }
            for (int i = 0; i < requests.size(); i++) {
                assertArrayEquals(expected.get(i), futures[i].get().generatedIds(), "request " + i);
            }
        }
    }

    @Test
    void invalidRequestsAreRejectedWithoutDisturbingOthers() throws Exception {
        try (var engine = InferenceEngine.open(weights, new EngineOptions(4, Batching.CONTINUOUS, 0, 1))) {
            var good = GenerationRequest.greedy(new int[] {5, 6, 7}, 12);
            int[] expected = engine.generate(good).generatedIds();
            var running = engine.submit(good);
            var outOfVocab = engine.submit(GenerationRequest.greedy(new int[] {1, TinyModels.VOCAB}, 4));
            var negative = engine.submit(GenerationRequest.greedy(new int[] {-1}, 4));
            var tooLong = engine.submit(GenerationRequest.greedy(new int[2048 * 4], 8));
            var error = assertThrows(ExecutionException.class, outOfVocab::get).getCause();
            assertTrue(error.getMessage().contains("outside the vocabulary [0, 512)"), error.getMessage());
            assertTrue(assertThrows(ExecutionException.class, negative::get).getCause().getMessage().contains("id -1"));
            String tooLongMessage = assertThrows(ExecutionException.class, tooLong::get).getCause().getMessage();
            assertTrue(tooLongMessage.contains("more than the model's 2048"), tooLongMessage);
            assertArrayEquals(expected, running.get().generatedIds());
            assertEquals(engine.totalCachePages(), engine.freeCachePages());
        }
        assertThrows(IllegalArgumentException.class, () -> GenerationRequest.greedy(new int[0], 3), "empty prompt");
        for (int none : new int[] {0, -1}) {
            var refused = assertThrows(IllegalArgumentException.class, () -> GenerationRequest.greedy(new int[] {1},
                    none), "a request for " + none + " tokens");
            assertEquals("max new tokens must be at least 1, got " + none, refused.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.sample(-1, 0, 1, 0), "negative temperature");
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.sample(1, 0, 0, 0), "top-p 0");
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.sample(1, -2, 1, 0), "negative top-k");
    }

    /** Billions of new tokens are too many for any model, not a position count that wrapped around to a few. */
    @Test
    void aRequestForBillionsOfTokensIsTooLong() {
        for (ModelWeights w : List.of(TinyModels.vanilla(3), weights)) {
            try (var engine = InferenceEngine.open(w, new EngineOptions(4, Batching.CONTINUOUS, 0, 1))) {
                var e = assertThrows(IllegalArgumentException.class,
                        () -> engine.validate(GenerationRequest.greedy(new int[] {1, 2}, Integer.MAX_VALUE)));
                assertTrue(e.getMessage().startsWith("prompt of 2 tokens plus 2147483647 new tokens needs"),
                        e.getMessage());
                assertTrue(e.getMessage().contains("more than the model's 2048"), e.getMessage());
            }
        }
    }

    @Test
    void submittingTogetherChecksEveryRequestFirstAndNamesTheBadOne() {
        try (var engine = InferenceEngine.open(weights, new EngineOptions(4, Batching.CONTINUOUS, 0, 1))) {
            var good = GenerationRequest.greedy(new int[] {5, 6, 7}, 12);
            var bad = GenerationRequest.greedy(new int[] {1, TinyModels.VOCAB}, 4);
            var e = assertThrows(IllegalArgumentException.class, () -> engine.submitAll(List.of(good, bad, good)));
            assertEquals("request 1: prompt token 1 has id 512, outside the vocabulary [0, 512)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> engine.generateAll(List.of(good, good,
                    GenerationRequest.greedy(new int[2048 * 4], 8))));
            assertTrue(e.getMessage().startsWith("request 2: prompt of 8192 tokens"), e.getMessage());
            assertEquals(0, engine.stats().peakBatch(), "nothing ran");
            assertEquals(engine.totalCachePages(), engine.freeCachePages());
        }
    }

    @Test
    void cancellationStopsARequestAndFreesItsPages() throws Exception {
        try (var engine = InferenceEngine.open(weights, new EngineOptions(4, Batching.CONTINUOUS, 0, 1))) {
            CountDownLatch firstToken = new CountDownLatch(1);
            var longOne = engine.submit(GenerationRequest.greedy(new int[] {3, 4}, 2000), id -> firstToken.countDown());
            var other = GenerationRequest.greedy(new int[] {9, 9, 9}, 10);
            var otherFuture = engine.submit(other);
            assertTrue(firstToken.await(30, TimeUnit.SECONDS));
            longOne.cancel(true);
            assertEquals(10, otherFuture.get().generatedIds().length);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (engine.freeCachePages() != engine.totalCachePages() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(engine.totalCachePages(), engine.freeCachePages(), "cancelled request's pages returned");
        }
    }

    @Test
    void aStaticBatchSubmittedTogetherRunsTogether() {
        List<GenerationRequest> requests = EngineStressTest.randomRequests(6, 9, 30, 10);
        try (var engine = InferenceEngine.open(weights, new EngineOptions(6, Batching.STATIC, 0, 1))) {
            engine.generateAll(requests);
            assertEquals(6, engine.stats().peakBatch(), "all six requests in one static batch");
        }
    }

    @Test
    void streamingDeliversEveryTokenInOrder() throws Exception {
        try (var engine = InferenceEngine.open(weights, EngineOptions.defaults())) {
            List<Integer> streamed = new java.util.concurrent.CopyOnWriteArrayList<>();
            GenerationResult r = engine.submit(GenerationRequest.greedy(new int[] {1, 2, 3}, 9), streamed::add).get();
            assertEquals(9, r.generatedIds().length);
            assertEquals(FinishReason.LENGTH, r.finishReason());
            assertArrayEquals(r.generatedIds(), streamed.stream().mapToInt(Integer::intValue).toArray());
        }
    }
}
