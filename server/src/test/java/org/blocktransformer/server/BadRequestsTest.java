package org.blocktransformer.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.junit.jupiter.api.Test;

/**
 * Every malformed, mistyped or out-of-range request is a 400 with OpenAI's error body and a message that says what
 * is wrong. Unknown fields are refused (a misspelt option must not be silently ignored); OpenAI fields the server
 * does not implement pass only at their neutral value; {@code user} is accepted and ignored.
 */
class BadRequestsTest {

    private record Case(String body, String says) {
    }

    static final List<Case> COMPLETIONS = List.of(
            new Case("{", "malformed JSON"),
            new Case("", "the request body is empty"),
            new Case("[1, 2]", "must be a JSON object"),
            new Case("{}", "'prompt' is missing"),
            new Case("{\"prompt\": 5}", "'prompt' must be a string, a list of strings"),
            new Case("{\"prompt\": []}", "got an empty list"),
            new Case("{\"prompt\": [1, \"a\"]}", "element 1 must be a token id (an integer), got a string"),
            new Case("{\"prompt\": [1, 2.5]}", "element 1 must be a token id"),
            new Case("{\"prompt\": [[1], []]}", "'prompt[1]' is an empty list of token ids"),
            new Case("{\"prompt\": [\"a\", [1]]}", "'prompt' mixes kinds"),
            new Case("{\"prompt\": [1, 512]}", "token 1 is 512, outside the vocabulary [0, 512)"),
            new Case("{\"prompt\": [-1]}", "token 0 is -1, outside the vocabulary"),
            new Case("{\"prompt\": \"some text\"}", "this model has no tokenizer"),
            new Case("{\"prompt\": [1], \"max_tokens\": \"5\"}", "'max_tokens' must be an integer, got a string"),
            new Case("{\"prompt\": [1], \"max_tokens\": 1.5}", "'max_tokens' must be an integer, got the number 1.5"),
            new Case("{\"prompt\": [1], \"max_tokens\": -1}", "'max_tokens' must be in 0.."),
            new Case("{\"prompt\": [1], \"max_tokens\": 100000}", "maximum context length is 512 tokens"),
            new Case("{\"prompt\": " + ids(600) + ", \"max_tokens\": 1}", "maximum context length is 512 tokens"),
            new Case("{\"prompt\": [1], \"temperature\": -0.5}", "'temperature' must be in [0, 100]"),
            new Case("{\"prompt\": [1], \"temperature\": \"hot\"}", "'temperature' must be a number, got a string"),
            new Case("{\"prompt\": [1], \"top_p\": 0}", "'top_p' must be in (0, 1]"),
            new Case("{\"prompt\": [1], \"top_p\": 1.5}", "'top_p' must be in (0, 1]"),
            new Case("{\"prompt\": [1], \"top_k\": -2}", "'top_k' must be in -1.."),
            new Case("{\"prompt\": [1], \"n\": 0}", "'n' must be in 1..16"),
            new Case("{\"prompt\": [1], \"n\": 100}", "'n' must be in 1..16"),
            new Case("{\"prompt\": [1], \"logprobs\": 50}", "'logprobs' must be in 0..20"),
            new Case("{\"prompt\": [1], \"logprobs\": true}", "'logprobs' must be an integer, got a boolean"),
            new Case("{\"prompt\": [1], \"seed\": \"x\"}", "'seed' must be a 64-bit integer"),
            new Case("{\"prompt\": [1], \"stream\": \"yes\"}", "'stream' must be true or false"),
            new Case("{\"prompt\": [1], \"echo\": 1}", "'echo' must be true or false"),
            new Case("{\"prompt\": [1], \"stop\": \"x\"}", "'stop' strings need a tokenizer"),
            new Case("{\"prompt\": [1], \"stop\": [\"\"]}", "'stop' strings must not be empty"),
            new Case("{\"prompt\": [1], \"stop\": 5}", "'stop' must be a string or a list of strings"),
            new Case("{\"prompt\": [1], \"max_token\": 5}", "unknown field 'max_token'"),
            new Case("{\"prompt\": [1], \"frequency_penalty\": 0.5}", "'frequency_penalty' is not supported"),
            new Case("{\"prompt\": [1], \"logit_bias\": {\"5\": 1}}", "'logit_bias' is not supported"),
            new Case("{\"prompt\": [1], \"suffix\": \"x\"}", "'suffix' is not supported"),
            new Case("{\"prompt\": [1], \"best_of\": 3}", "'best_of' is not supported"),
            new Case("{\"prompt\": [1], \"stream_options\": {\"include_usage\": true}}",
                    "'stream_options' is only allowed with 'stream': true"),
            new Case("{\"prompt\": [1], \"stream\": true, \"stream_options\": {\"foo\": 1}}",
                    "unknown field 'stream_options.foo'"),
            new Case("{\"prompt\": [1], \"echo\": true, \"logprobs\": 1}", "'echo' with 'logprobs' is not supported"),
            new Case("{\"prompt\": [1], \"ignore_eos\": \"no\"}", "'ignore_eos' must be true or false"),
            new Case("{\"prompt\": [1], \"return_token_ids\": 0}", "'return_token_ids' must be true or false"));

    /** Neutral values of unimplemented fields, and {@code user}, pass. */
    static final List<String> ACCEPTED = List.of(
            "{\"prompt\": [1], \"max_tokens\": 2, \"frequency_penalty\": 0, \"presence_penalty\": 0.0,"
                    + " \"logit_bias\": {}, \"user\": \"me\", \"best_of\": 1, \"suffix\": null, \"top_k\": -1}",
            "{\"prompt\": [1], \"max_tokens\": 0}",
            "{\"prompt\": [[1, 2], [3]], \"max_tokens\": 1, \"model\": \"tiny\"}");

    private static String ids(int n) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append(i % 500 + 1);
        }
        return sb.append(']').toString();
    }

    @Test
    void everyBadRequestIsAClear400AndNoneDisturbsTheServer() throws Exception {
        try (InferenceEngine engine = Fixtures.engine(Fixtures.tinyVanilla(3), 4);
             BtServer server = Fixtures.serve(new ServedModel(engine, null, null), "tiny", 16)) {
            Http http = new Http(server);
            int[] prompt = {4, 5, 6};
            int[] expected = engine.generate(GenerationRequest.greedy(prompt, 8)).generatedIds();
            for (Case c : COMPLETIONS) {
                Http.Reply r = http.postText("/v1/completions", c.body());
                assertEquals(400, r.status(), () -> c.body() + " -> " + r.raw().body());
                var error = r.body().path("error");
                assertEquals("invalid_request_error", error.path("type").asText(), c.body());
                assertTrue(error.has("param") && error.has("code"), "OpenAI's error shape: " + r.raw().body());
                assertTrue(error.path("message").asText().contains(c.says()),
                        () -> c.body() + " says: " + error.path("message").asText() + "; expected: " + c.says());
            }
            for (String ok : ACCEPTED) {
                Http.Reply r = http.postText("/v1/completions", ok);
                assertEquals(200, r.status(), () -> ok + " -> " + r.raw().body());
            }
            var good = Json.object();
            good.set("prompt", Json.ids(prompt));
            good.put("max_tokens", 8);
            good.put("temperature", 0);
            var choice = http.ok("/v1/completions", good).path("choices").get(0);
            org.junit.jupiter.api.Assertions.assertArrayEquals(expected, CompletionsTest.ints(choice.path("token_ids")));
            assertEquals(COMPLETIONS.size(), server.metrics.requests("completions", Metrics.Outcome.INVALID));
            // A request is counted as it ends, just after its response is written: wait (bounded) for the last one.
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (server.metrics.requests("completions", Metrics.Outcome.OK) < ACCEPTED.size() + 1
                    && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(ACCEPTED.size() + 1, server.metrics.requests("completions", Metrics.Outcome.OK));
            assertEquals(engine.totalCachePages(), engine.freeCachePages());
        }
    }
}
