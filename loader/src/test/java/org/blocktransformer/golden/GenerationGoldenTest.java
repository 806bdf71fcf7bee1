package org.blocktransformer.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.blocktransformer.model.engine.Batching;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Greedy generation through the cached decode loop reproduces every reference token: each prompt alone, and the
 * four prompts batched (static and continuous batching).
 */
class GenerationGoldenTest {
    private static final int NEW_TOKENS = 24;

    static Stream<Arguments> cases() {
        return Golden.ALL_MODELS.stream().flatMap(m -> Stream.of(
                Arguments.of(m, 1, Batching.STATIC),
                Arguments.of(m, 4, Batching.STATIC),
                Arguments.of(m, 4, Batching.CONTINUOUS),
                Arguments.of(m, 3, Batching.CONTINUOUS)));
    }

    @ParameterizedTest(name = "{0} batch {1} {2}")
    @MethodSource("cases")
    void greedyTokensMatchReference(String model, int batch, Batching batching) {
        var weights = Golden.weights(model);
        try (var data = Golden.data(model);
             var engine = InferenceEngine.open(weights, new EngineOptions(batch, batching, 16L << 20, 2))) {
            List<GenerationRequest> requests = new ArrayList<>();
            for (int i = 0; i < Golden.PROMPTS; i++) {
                requests.add(GenerationRequest.greedy(Golden.ints(data, "prompt_" + i), NEW_TOKENS));
            }
            List<GenerationResult> results = engine.generateAll(requests);
            int[] batchExpected = Golden.ints(data, "batch_generated");
            for (int i = 0; i < Golden.PROMPTS; i++) {
                int[] expected = Golden.ints(data, "generated_" + i);
                assertArrayEquals(expected, results.get(i).generatedIds(), model + " prompt " + i);
                // The reference's own batched run agrees with its single runs; so must ours.
                assertArrayEquals(Arrays.copyOfRange(batchExpected, i * NEW_TOKENS, (i + 1) * NEW_TOKENS),
                        results.get(i).generatedIds(), model + " prompt " + i + " vs batch_generated");
            }
            assertEquals(engine.totalCachePages(), engine.freeCachePages(), "every cache page returned");
        }
    }
}
