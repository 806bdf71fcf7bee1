package org.blocktransformer.model.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.blocktransformer.model.TinyModels;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.cache.CacheGeometry;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.cpu.CpuBackend;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.TokenListener;
import org.blocktransformer.model.weights.ModelWeights;
import org.junit.jupiter.api.Test;

/** A stepper's own caches: admission reserves a request's whole need or nothing, and release gives it all back. */
class StepperCachesTest {

    private static Sequence sequence(Stepper stepper, int promptLength, int newTokens) {
        var request = GenerationRequest.greedy(new int[promptLength], newTokens);
        return new Sequence(request, stepper.prepareInput(request.promptIds()), TokenListener.NONE);
    }

    private static Stepper open(ModelWeights weights, CpuBackend cpu, int pages, int maxBatch) {
        var geometry = new CacheGeometry(weights.config(), KvFormat.F32);
        return Stepper.open(weights, cpu, budget(weights, cpu, pages * geometry.globalPageBytes(), maxBatch));
    }

    /** {@code bytes} of cache memory asked for: the heap is never read. */
    private static CacheBudget budget(ModelWeights weights, CpuBackend cpu, long bytes, int maxBatch) {
        var options = new EngineOptions(maxBatch, Batching.CONTINUOUS, bytes, 1);
        return new CacheBudget(options.cacheGeometry(weights.config()), options, cpu, () -> {
            throw new AssertionError("a budget asked for reads no heap");
        });
    }

    @Test
    void aRequestOverTheFreePagesIsRefusedWithNothingTaken() {
        try (var cpu = new CpuBackend(1)) {
            Stepper stepper = open(TinyModels.vanilla(1), cpu, 3, 8);
            CachePools caches = stepper.caches();
            assertEquals(3, caches.totalPages());

            // 20 prompt tokens + 13 new (12 fed back): 32 positions, two pages of 16.
            Sequence first = sequence(stepper, 20, 13);
            assertTrue(stepper.reserve(first));
            assertTrue(first.holdsCaches());
            assertEquals(1, caches.freePages());

            Sequence second = sequence(stepper, 20, 13);
            assertFalse(stepper.reserve(second), "two pages asked, one free");
            assertFalse(second.holdsCaches());
            assertEquals(1, caches.freePages(), "a refused reservation takes nothing");

            stepper.release(first);
            assertFalse(first.holdsCaches());
            assertEquals(3, caches.freePages());
            assertTrue(stepper.reserve(second), "admitted once the pages are back");
            stepper.release(second);
            stepper.release(second); // releasing twice is harmless: nothing is held any more
            assertEquals(3, caches.freePages());
        }
    }

    @Test
    void aBlockModelAlsoNeedsAFreeLocalSlot() {
        try (var cpu = new CpuBackend(1)) {
            Stepper stepper = open(TinyModels.block(2, DecodingStrategy.PREFIX, 4, 2), cpu, 8, 1);
            CachePools caches = stepper.caches();
            assertNotNull(caches.local());
            assertEquals(1, caches.local().pageCount(), "one local slot per batch row");

            Sequence first = sequence(stepper, 8, 8);
            assertTrue(stepper.reserve(first));
            assertNotNull(first.localCache());
            int free = caches.freePages();
            Sequence second = sequence(stepper, 8, 8);
            assertFalse(stepper.reserve(second), "global pages are free but the only local slot is taken");
            assertEquals(free, caches.freePages(), "the global pages taken for it went back");
            assertNull(second.localCache());

            stepper.release(first);
            assertEquals(caches.totalPages(), caches.freePages());
            assertEquals(1, caches.local().freePages());
        }
    }

    @Test
    void aBudgetOfLessThanOnePageIsRefusedWithTheSizes() {
        try (var cpu = new CpuBackend(1)) {
            var weights = TinyModels.vanilla(1);
            var geometry = new CacheGeometry(weights.config(), KvFormat.F32);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> Stepper.open(weights, cpu, budget(weights, cpu, geometry.globalPageBytes() - 1, 4)));
            assertEquals("cache memory of " + (geometry.globalPageBytes() - 1) + " bytes holds no page of the KV"
                    + " cache; the model needs at least 2m of KV cache for one sequence of its 2048 positions:"
                    + " --cache-memory 2m", e.getMessage());
        }
    }

    @Test
    void poolsHoldNoMoreThanTheBatchCanUse() {
        var weights = TinyModels.vanilla(1);
        var geometry = new CacheGeometry(weights.config(), KvFormat.F32);
        long longest = CacheGeometry.pagesFor(geometry.globalStack().maxPositions());
        try (var cpu = new CpuBackend(1)) {
            assertEquals(2 * longest, budget(weights, cpu, Long.MAX_VALUE / 2, 2).pages());
            assertEquals(5, budget(weights, cpu, 5 * geometry.globalPageBytes() + 1, 2).pages());
        }
    }
}
