package org.blocktransformer.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.weights.ModelWeights;
import org.junit.jupiter.api.Test;

/**
 * A request whose logits turn non-finite (NaN or infinity) gets OpenAI's error body naming the cause, whole or
 * streamed (a 422, not a 5xx that clients would retry), and the server goes on serving: a request sent at the same
 * time and the next one get what a healthy model gives. The NaN comes from one token's embedding row, so only requests that feed that token meet it.
 */
class NonFiniteLogitsTest {

    private static ObjectNode body(int[] prompt, int maxTokens) {
        ObjectNode b = Json.object();
        b.set("prompt", Json.ids(prompt));
        b.put("max_tokens", maxTokens);
        b.put("temperature", 0);
        return b;
    }

    @Test
    void aRequestWithNonFiniteLogitsGetsAClearErrorAndTheOthersAreServed() throws Exception {
        ModelWeights healthy = Fixtures.tinyVanilla(3);
        int[] good = {4, 5, 6};
        int[] expected;
        try (InferenceEngine alone = Fixtures.engine(healthy, 1)) {
            expected = alone.generate(GenerationRequest.greedy(good, 40)).generatedIds();
        }
        // A token the good request never feeds.
        int poison = IntStream.range(100, Fixtures.VOCAB).filter(t -> IntStream.of(expected).noneMatch(e -> e == t))
                .findFirst().orElseThrow();
        int[] bad = {1, poison, 3};
        try (InferenceEngine engine = Fixtures.engine(Fixtures.withNaNToken(healthy, poison), 4);
             BtServer server = Fixtures.serve(new ServedModel(engine, null, null), "tiny", 16)) {
            Http http = new Http(server);
            CompletableFuture<HttpResponse<String>> beside = http.client.sendAsync(
                    http.post("/v1/completions", Json.write(body(good, 40))).build(),
                    HttpResponse.BodyHandlers.ofString());

            Http.Reply failed = http.post("/v1/completions", body(bad, 8));
            assertEquals(422, failed.status(), failed.raw().body());
            JsonNode error = failed.body().path("error");
            assertEquals("model_error", error.path("type").asText(), failed.raw().body());
            assertEquals("non_finite_logits", error.path("code").asText(), failed.raw().body());
            assertTrue(error.path("message").asText().contains("non-finite logits (NaN or infinity) at new token 1"),
                    failed.raw().body());

            ObjectNode streamed = body(bad, 8).put("stream", true);
            List<JsonNode> events = http.stream("/v1/completions", streamed);
            JsonNode last = events.getLast().path("error");
            assertEquals("non_finite_logits", last.path("code").asText(), events.getLast().toString());
            assertTrue(last.path("message").asText().contains("non-finite logits"), events.getLast().toString());

            HttpResponse<String> ran = beside.get();
            assertEquals(200, ran.statusCode(), ran.body());
            assertArrayEquals(expected, CompletionsTest.ints(
                    Json.MAPPER.readTree(ran.body()).path("choices").get(0).path("token_ids")), "the request beside");
            JsonNode after = http.ok("/v1/completions", body(good, 40)).path("choices").get(0);
            assertArrayEquals(expected, CompletionsTest.ints(after.path("token_ids")), "the next request");
            assertEquals(2, server.metrics.requests("completions", Metrics.Outcome.ERROR));
            assertEquals(engine.totalCachePages(), engine.freeCachePages(), "every page returned");
        }
    }
}
