package org.blocktransformer.model.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.blocktransformer.model.TinyModels;
import org.blocktransformer.model.backend.BackendOptions;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.backend.LinearExecutor;
import org.blocktransformer.model.backend.StackExecutor;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.StackWeights;
import org.blocktransformer.model.weights.VanillaWeights;
import org.junit.jupiter.api.Test;

/**
 * The default KV cache is half of the heap left once the backend holds its copies of the weights (the figure is
 * injected, read when the engine asks for it, never this JVM's), at most what the largest batch of full-length
 * sequences uses; the CPU's float16 cache, kept in float arrays, gets pages for the memory it really takes; and when
 * memory is short the error says how much cache memory to give. Sizes of the tiny vanilla model: a page of 16
 * positions is 2 x 2 layers x 64 x 16 x 4 bytes = 16 KiB, a full-length sequence (2048 positions) 128 pages, 2 MiB.
 */
class EngineCacheBudgetTest {
    private static final VanillaWeights VANILLA = TinyModels.vanilla(5);
    private static final long PAGE = 16 << 10;

    /** Copies made by "copying-test" backends (one per stack or Linear layer), and whether one was closed. */
    private static final AtomicInteger COPIES = new AtomicInteger();
    private static final AtomicBoolean CLOSED = new AtomicBoolean();

    /** Registered for this module's tests: the CPU backend, counting the executors (its copies of the weights). */
    public static final class CopyingProvider extends CpuDelegate.Provider {
        public CopyingProvider() {
            super("copying-test", List.of());
        }

        @Override
        public ComputeBackend open(BackendOptions options) {
            return new CpuDelegate(name()) {
                @Override
                public StackExecutor stack(NeoXConfig config, StackWeights weights) {
                    COPIES.incrementAndGet();
                    return super.stack(config, weights);
                }

                @Override
                public LinearExecutor linear(Linear layer) {
                    COPIES.incrementAndGet();
                    return super.linear(layer);
                }

                @Override
                public void close() {
                    CLOSED.set(true);
                    super.close();
                }
            };
        }
    }

    private static EngineOptions defaults(String backend) {
        return new EngineOptions(32, Batching.CONTINUOUS, 0, 1).withBackend(backend, "");
    }

    /** Opens an engine whose heap left is {@code heap}, checking that it is asked only once every copy is made. */
    private static InferenceEngine open(ModelWeights w, EngineOptions options, long heap, int copies) {
        COPIES.set(0);
        return InferenceEngine.open(w, options, () -> {
            assertEquals(copies, COPIES.get(), "the heap left is read after the backend made its copies");
            return heap;
        });
    }

    @Test
    void theDefaultIsHalfTheHeapLeftAfterTheBackendsCopies() {
        try (var engine = open(VANILLA, defaults("copying-test"), 10L << 20, 2)) {
            assertEquals((5L << 20) / PAGE, engine.totalCachePages());
            assertEquals(5L << 20, engine.cacheBytes());
        }
        // Never more than 32 sequences of 2048 positions can use.
        try (var engine = open(VANILLA, defaults("copying-test"), 1L << 40, 2)) {
            assertEquals(32 * 128, engine.totalCachePages());
        }
        // A block model: its local slots (32 rows of one 16 KiB page: R + L_B - 1 = 5 positions, as one page)
        // come out of the heap first; stacks, expansion and head are its four copies.
        BlockWeights block = TinyModels.block(3, DecodingStrategy.PREFIX, 4, 2);
        try (var engine = open(block, defaults("copying-test"), (10L << 20) + 32 * PAGE, 4)) {
            assertEquals((5L << 20) / PAGE, engine.totalCachePages());
        }
    }

    @Test
    void theCpusFloat16CacheGetsPagesForTheFloatsItHolds() {
        var f16 = defaults("cpu").withKvCache(KvFormat.F16);
        try (var half = InferenceEngine.open(VANILLA, f16, () -> 10L << 20);
             var full = InferenceEngine.open(VANILLA, defaults("cpu"), () -> 10L << 20)) {
            assertEquals(full.totalCachePages(), half.totalCachePages());
            assertEquals(full.cacheBytes(), 2 * half.cacheBytes());
        }
    }

    @Test
    void aHeapTooSmallForOnePageSaysHowMuchToGive() {
        CLOSED.set(false);
        var e = assertThrows(IllegalArgumentException.class, () -> open(VANILLA, defaults("copying-test"), 20 << 10,
                2));
        assertEquals("the heap left after the weights (20k) has no room for the KV cache; the model needs at least 2m"
                + " of KV cache for one sequence of its 2048 positions: --cache-memory 2m or raise -Xmx", e.getMessage());
        assertTrue(CLOSED.get(), "the backend is closed when the engine cannot open");
        BlockWeights block = TinyModels.block(3, DecodingStrategy.PREFIX, 4, 2);
        e = assertThrows(IllegalArgumentException.class, () -> open(block, defaults("copying-test"), 32 * PAGE, 4));
        assertTrue(e.getMessage().endsWith("for one sequence of its 2048 blocks (8192 tokens): --cache-memory 2m or"
                + " raise -Xmx"), e.getMessage());
    }

    @Test
    void cacheMemoryBelowOnePageSaysHowMuchToGive() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> InferenceEngine.open(VANILLA, defaults("cpu").withCacheMemoryBytes(1000)));
        assertEquals("cache memory of 1000 bytes holds no page of the KV cache; the model needs at least 2m of KV cache"
                + " for one sequence of its 2048 positions: --cache-memory 2m", e.getMessage());
    }

    @Test
    void aRequestLongerThanTheCacheSaysHowMuchToGive() {
        try (var engine = open(VANILLA, defaults("copying-test"), 256 << 10, 2)) {
            assertEquals(8, engine.totalCachePages());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> engine.generate(GenerationRequest.greedy(new int[100], 50)));
            assertEquals("prompt of 100 tokens plus 50 new tokens needs 160k of KV cache, more than the engine's whole"
                    + " cache of 128k: --cache-memory 160k or more (and -Xmx to hold it)", e.getMessage());
            assertEquals(1, engine.generate(GenerationRequest.greedy(new int[] {1, 2}, 1)).generatedIds().length);
        }
    }
}
