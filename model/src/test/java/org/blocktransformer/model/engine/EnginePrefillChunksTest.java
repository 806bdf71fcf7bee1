package org.blocktransformer.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.blocktransformer.model.TinyModels;
import org.blocktransformer.model.backend.BackendOptions;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.weights.ModelWeights;
import org.junit.jupiter.api.Test;

/**
 * A step feeds at most the backend's {@link ComputeBackend#prefillTokens()} prompt tokens (a block model: that many
 * in whole blocks), whatever the prompts' lengths, and how the prompts are cut does not change what is generated.
 */
class EnginePrefillChunksTest {
    /** The "prefill-7-test" backend's prompt tokens per step. */
    private static final int CHUNK = 7;
    /** The most positions one stack call of a "prefill-7-test" engine held. */
    private static final AtomicInteger LARGEST_CALL = new AtomicInteger();

    /** Registered for this module's tests: the CPU backend, feeding 7 prompt tokens a step and noting call sizes. */
    public static final class SmallPrefillProvider extends CpuDelegate.Provider {
        public SmallPrefillProvider() {
            super("prefill-7-test", List.of());
        }

        @Override
        public ComputeBackend open(BackendOptions options) {
            return new CpuDelegate(name()) {
                @Override
                public int prefillTokens() {
                    return CHUNK;
                }

                @Override
                void beforeStack(StackRow[] rows) {
                    int tokens = 0;
                    for (StackRow r : rows) {
                        tokens += r.count();
                    }
                    LARGEST_CALL.accumulateAndGet(tokens, Math::max);
                }
            };
        }
    }

    @Test
    void vanillaPromptsAreFedInTheBackendsChunks() {
        // Three prompts decode beside each other's prefill: at most 7 prompt tokens plus one token per row a call.
        assertChunkedAsTheDefault(TinyModels.vanilla(3), CHUNK + 3);
    }

    @Test
    void blockPromptsAreFedInWholeBlocksOfTheChunk() {
        // L_B = 2: 3 blocks (6 tokens) of prompt a step in the block decoder; the token decoder's calls are one
        // block per row at most (R + L_B - 1 positions, here 1 + 2 - 1 = 2, per row).
        assertChunkedAsTheDefault(TinyModels.block(3, DecodingStrategy.PREFIX, 2, 1), CHUNK / 2 + 3 * 2);
    }

    private static void assertChunkedAsTheDefault(ModelWeights w, int largestCall) {
        SplittableRandom r = new SplittableRandom(11);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int length : new int[] {23, 9, 1}) {
            int[] prompt = new int[length];
            for (int i = 0; i < length; i++) {
                prompt[i] = r.nextInt(TinyModels.VOCAB);
            }
            requests.add(GenerationRequest.greedy(prompt, 6));
        }
        EngineOptions options = new EngineOptions(3, Batching.CONTINUOUS, 0, 1);
        List<GenerationResult> want;
        try (var engine = InferenceEngine.open(w, options.withBackend("cpu", ""))) {
            want = engine.generateAll(requests);
        }
        LARGEST_CALL.set(0);
        List<GenerationResult> got;
        try (var engine = InferenceEngine.open(w, options.withBackend("prefill-7-test", ""))) {
            got = engine.generateAll(requests);
        }
        for (int i = 0; i < requests.size(); i++) {
            assertArrayEquals(want.get(i).generatedIds(), got.get(i).generatedIds(), "request " + i);
        }
        assertTrue(LARGEST_CALL.get() <= largestCall, "a call held " + LARGEST_CALL.get() + " positions");
        assertTrue(LARGEST_CALL.get() > 3, "the prompts were fed in chunks, not a token at a time");
        assertEquals(6, got.get(0).generatedIds().length);
    }
}
