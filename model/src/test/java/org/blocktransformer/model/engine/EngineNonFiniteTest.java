package org.blocktransformer.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.blocktransformer.model.TinyModels;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.NonFiniteLogitsException;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.VanillaWeights;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A request whose logits hold NaN fails alone with an error naming the token, and the request sharing its batch
 * completes exactly as on a healthy model, however tokens are chosen (the backend's argmax, its top-k candidates,
 * the whole row, with log-probabilities) and for vanilla and block models; the engine goes on serving and every cache
 * page comes back. The NaN comes from one token's embedding row: a request that feeds that token gets NaN hidden
 * states and logits, the others never touch it (rows only attend to their own cache).
 */
class EngineNonFiniteTest {
    private static final VanillaWeights VANILLA = TinyModels.vanilla(5);

    private static GenerationRequest request(int[] prompt, String choice) {
        return switch (choice) {
            case "greedy" -> GenerationRequest.greedy(prompt, 6);
            case "logprobs" -> GenerationRequest.greedy(prompt, 6).withLogprobs(3);
            case "top-k" -> new GenerationRequest(prompt, 6, SamplingParams.sample(0.9, 20, 1.0, 11), false);
            case "whole-row" -> new GenerationRequest(prompt, 6, SamplingParams.sample(0.9, 0, 0.95, 11), false);
            default -> throw new IllegalArgumentException(choice);
        };
    }

    private static int[] generate(ModelWeights weights, GenerationRequest r) {
        try (var engine = InferenceEngine.open(weights, options())) {
            return engine.generate(r).generatedIds();
        }
    }

    private static EngineOptions options() {
        return new EngineOptions(4, Batching.CONTINUOUS, 1 << 20, 1).withBackend("cpu", "");
    }

    private static boolean uses(int[] prompt, int[] generated, int token) {
        return IntStream.of(prompt).anyMatch(t -> t == token) || IntStream.of(generated).anyMatch(t -> t == token);
    }

    @ParameterizedTest
    @ValueSource(strings = {"greedy", "logprobs", "top-k", "whole-row"})
    void nonFiniteLogitsFailOnlyTheirRequest(String choice) throws Exception {
        // The failing request feeds back its second new token, met there for the first time: its first two tokens
        // come out, the third cannot.
        int[] failing = IntStream.range(0, 50).mapToObj(i -> new int[] {5 + i, 9, 13 + 2 * i})
                .filter(p -> {
                    int[] g = generate(VANILLA, request(p, choice));
                    return !uses(p, new int[] {g[0]}, g[1]);
                }).findFirst().orElseThrow();
        int poison = generate(VANILLA, request(failing, choice))[1];
        // A companion that never meets the poisoned token.
        int[] companion = IntStream.range(0, 50).mapToObj(i -> new int[] {20 + i, 40 + i, 3})
                .filter(p -> !uses(p, generate(VANILLA, request(p, choice)), poison)).findFirst().orElseThrow();
        int[] want = generate(VANILLA, request(companion, choice));

        var weights = TinyModels.withNaNToken(VANILLA, poison);
        try (var engine = InferenceEngine.open(weights, options())) {
            var futures = engine.submitAll(List.of(request(failing, choice), request(companion, choice)));
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> futures.get(0).get(30, TimeUnit.SECONDS));
            assertInstanceOf(NonFiniteLogitsException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("non-finite logits (NaN or infinity) at new token 3"),
                    e.getCause().getMessage());
            assertArrayEquals(want, futures.get(1).get(30, TimeUnit.SECONDS).generatedIds(), choice);
            assertArrayEquals(want, engine.generate(request(companion, choice)).generatedIds(), "served after");
            assertEquals(engine.totalCachePages(), engine.freeCachePages(), "every page returned");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"greedy", "top-k"})
    void aBlockModelFailsOnlyTheRequestWhosePromptBlockIsNonFinite(String choice) throws Exception {
        BlockWeights block = TinyModels.block(3, DecodingStrategy.PREFIX, 4, 2);
        int poison = 77;
        int[] failing = {1, 2, poison, 4, 5};
        int[] companion = {6, 7, 8, 9, 10, 11};
        int[] want = generate(block, request(companion, choice));
        assertTrue(!uses(companion, want, poison));
        var weights = TinyModels.withNaNToken(block, poison);
        try (var engine = InferenceEngine.open(weights, options())) {
            var futures = engine.submitAll(List.of(request(failing, choice), request(companion, choice)));
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> futures.get(0).get(30, TimeUnit.SECONDS));
            assertInstanceOf(NonFiniteLogitsException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("at new token 1 of the request (prompt of 5 tokens)"),
                    e.getCause().getMessage());
            GenerationResult ok = futures.get(1).get(30, TimeUnit.SECONDS);
            assertArrayEquals(want, ok.generatedIds(), choice);
            assertEquals(engine.totalCachePages(), engine.freeCachePages(), "every page returned");
        }
    }
}
