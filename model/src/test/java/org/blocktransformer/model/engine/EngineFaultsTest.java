package org.blocktransformer.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.blocktransformer.model.TinyModels;
import org.blocktransformer.model.backend.BackendOptions;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.weights.ModelWeights;
import org.junit.jupiter.api.Test;

/**
 * Faults stay with the requests they concern: a backend that throws at a chosen stack call fails that call's
 * sequences (with the cause) and the engine serves the next requests with the same results as a healthy one; a
 * request whose token listener throws fails alone; nothing waits forever, and every cache page comes back.
 */
class EngineFaultsTest {
    private static final ModelWeights WEIGHTS = TinyModels.vanilla(5);

    /**
     * Registered for this module's tests: the CPU backend whose stacks throw at forward call {@code device}
     * ("fail-at=N", counted from 1 over the backend's stacks; "error-at=N" throws an Error instead).
     */
    public static final class FaultyProvider extends CpuDelegate.Provider {
        public FaultyProvider() {
            super("faulty-test", List.of("fail-at=N", "error-at=N"));
        }

        @Override
        public ComputeBackend open(BackendOptions options) {
            String[] kv = options.device().split("=");
            int failAt = Integer.parseInt(kv[1]);
            boolean error = kv[0].equals("error-at");
            AtomicInteger calls = new AtomicInteger();
            return new CpuDelegate(name()) {
                @Override
                void beforeStack(StackRow[] rows) {
                    if (calls.incrementAndGet() == failAt) {
                        if (error) {
                            throw new AssertionError("injected error at call " + failAt);
                        }
                        throw new IllegalStateException("injected fault at call " + failAt);
                    }
                }
            };
        }
    }

    private static List<GenerationRequest> requests(int n, int seed) {
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(GenerationRequest.greedy(new int[] {1 + (seed + i) % 50, 7, 3 + i}, 6 + i % 3));
        }
        return out;
    }

    private static List<int[]> healthy(List<GenerationRequest> requests) {
        try (var engine = InferenceEngine.open(WEIGHTS, new EngineOptions(4, Batching.CONTINUOUS, 1 << 20, 1)
                .withBackend("cpu", ""))) {
            return engine.generateAll(requests).stream().map(GenerationResult::generatedIds).toList();
        }
    }

    @Test
    void aFailingStepFailsItsSequencesAndTheEngineGoesOn() throws Exception {
        for (String kind : new String[] {"fail-at", "error-at"}) {
            var options = new EngineOptions(4, Batching.STATIC, 1 << 20, 1).withBackend("faulty-test", kind + "=3");
            try (var engine = InferenceEngine.open(WEIGHTS, options)) {
                List<CompletableFuture<GenerationResult>> first = engine.submitAll(requests(4, 0));
                for (var f : first) {
                    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
                    assertTrue(e.getCause().getMessage().contains("injected"), kind + ": " + e.getCause());
                }
                // The same engine serves the next batch as a healthy one would.
                List<GenerationRequest> next = requests(4, 9);
                List<int[]> want = healthy(next);
                var got = engine.generateAll(next);
                for (int i = 0; i < next.size(); i++) {
                    assertArrayEquals(want.get(i), got.get(i).generatedIds(), kind + " request " + i);
                }
                assertEquals(engine.totalCachePages(), engine.freeCachePages(), kind + ": every page returned");
            }
        }
    }

    @Test
    void aThrowingListenerFailsOnlyItsRequest() throws Exception {
        List<GenerationRequest> reqs = requests(3, 4);
        List<int[]> want = healthy(reqs);
        try (var engine = InferenceEngine.open(WEIGHTS, new EngineOptions(4, Batching.CONTINUOUS, 1 << 20, 1)
                .withBackend("cpu", ""))) {
            var ok0 = engine.submit(reqs.get(0));
            var bad = engine.submit(reqs.get(1), id -> {
                throw new IllegalArgumentException("listener bug");
            });
            var ok2 = engine.submit(reqs.get(2));
            ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("listener bug"), e.getCause().toString());
            assertArrayEquals(want.get(0), ok0.get(30, TimeUnit.SECONDS).generatedIds());
            assertArrayEquals(want.get(2), ok2.get(30, TimeUnit.SECONDS).generatedIds());
            assertEquals(engine.totalCachePages(), engine.freeCachePages(), "every page returned");
        }
    }

    @Test
    void aClosedEngineAnswersAtOnce() {
        var engine = InferenceEngine.open(WEIGHTS, new EngineOptions(2, Batching.CONTINUOUS, 1 << 20, 1)
                .withBackend("cpu", ""));
        engine.close();
        var f = engine.submit(requests(1, 0).getFirst());
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("closed"), e.getCause().toString());
    }
}
