package org.blocktransformer.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.loader.Presets;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Token-id completions on presets without a tokenizer (vanilla-31m, block-b4-5m): whole and streamed answers equal
 * the library's result for the same request run alone on its own engine, greedy and seeded.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompletionsTest {
    private final List<AutoCloseable> open = new ArrayList<>();
    private final List<Served> served = new ArrayList<>();

    private record Served(String name, InferenceEngine reference, BtServer server, Http http) {
    }

    @BeforeAll
    void start() {
        for (String preset : List.of("vanilla-31m", "block-b4-5m")) {
            ModelWeights w = Presets.randomInit(preset, 0, WeightFormat.F32);
            InferenceEngine engine = Fixtures.engine(w, 8);
            InferenceEngine reference = Fixtures.engine(w, 1);
            BtServer server = Fixtures.serve(new ServedModel(engine, null, null), preset, 64);
            open.add(server);
            open.add(engine);
            open.add(reference);
            served.add(new Served(preset, reference, server, new Http(server)));
        }
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private static ObjectNode body(String model, int[] prompt, int maxTokens) {
        ObjectNode b = Json.object();
        b.put("model", model);
        b.set("prompt", Json.ids(prompt));
        b.put("max_tokens", maxTokens);
        return b;
    }

    @Test
    void greedyAndSeededEqualTheLibrary() throws Exception {
        for (Served s : served) {
            int[] prompt = {11, 2222, 333, 44, 5, 6666, 7};
            List<ObjectNode> bodies = new ArrayList<>();
            List<GenerationRequest> expected = new ArrayList<>();
            ObjectNode greedy = body(s.name(), prompt, 13);
            greedy.put("temperature", 0);
            bodies.add(greedy);
            expected.add(GenerationRequest.greedy(prompt, 13).withLogprobs(-1));
            ObjectNode seeded = body(s.name(), prompt, 11);
            seeded.put("temperature", 0.9);
            seeded.put("top_k", 40);
            seeded.put("top_p", 0.9);
            seeded.put("seed", 1234);
            bodies.add(seeded);
            expected.add(new GenerationRequest(prompt, 11, SamplingParams.sample(0.9, 40, 0.9, 1234), true));
            for (int i = 0; i < bodies.size(); i++) {
                ObjectNode b = bodies.get(i);
                GenerationResult ref = s.reference().generate(expected.get(i));
                JsonNode whole = s.http().ok("/v1/completions", b);
                assertEquals("text_completion", whole.path("object").asText());
                assertEquals(s.name(), whole.path("model").asText());
                JsonNode choice = whole.path("choices").get(0);
                assertArrayEquals(ref.generatedIds(), ints(choice.path("token_ids")), s.name() + " " + b);
                assertArrayEquals(prompt, ints(choice.path("prompt_token_ids")));
                assertEquals(finish(ref), choice.path("finish_reason").asText());
                assertEquals("", choice.path("text").asText(), "no tokenizer: no text");
                assertEquals(prompt.length, whole.path("usage").path("prompt_tokens").asInt());
                assertEquals(ref.generatedIds().length, whole.path("usage").path("completion_tokens").asInt());
                assertEquals(prompt.length + ref.generatedIds().length,
                        whole.path("usage").path("total_tokens").asInt());

                ObjectNode streamed = b.deepCopy();
                streamed.put("stream", true);
                streamed.putObject("stream_options").put("include_usage", true);
                List<JsonNode> events = s.http().stream("/v1/completions", streamed);
                List<Integer> ids = new ArrayList<>();
                String reason = null;
                for (JsonNode e : events.subList(0, events.size() - 1)) {
                    assertEquals("text_completion", e.path("object").asText());
                    JsonNode c = e.path("choices").get(0);
                    c.path("token_ids").forEach(t -> ids.add(t.asInt()));
                    if (!c.path("finish_reason").isNull()) {
                        reason = c.path("finish_reason").asText();
                    }
                }
                assertArrayEquals(ref.generatedIds(), ids.stream().mapToInt(Integer::intValue).toArray());
                assertEquals(finish(ref), reason);
                JsonNode usage = events.getLast();
                assertEquals(0, usage.path("choices").size(), "the usage chunk has no choices");
                assertEquals(ref.generatedIds().length, usage.path("usage").path("completion_tokens").asInt());
            }
        }
    }

    @Test
    void severalPromptsAndChoicesAreSeededInOrder() throws Exception {
        Served s = served.getFirst();
        int[][] prompts = {{1, 2, 3}, {400, 500, 600, 700, 800}};
        ObjectNode b = Json.object();
        var list = b.putArray("prompt");
        for (int[] p : prompts) {
            list.add(Json.ids(p));
        }
        b.put("max_tokens", 6);
        b.put("n", 3);
        b.put("temperature", 1.2);
        b.put("seed", 77);
        b.put("return_token_ids", true);
        JsonNode whole = s.http().ok("/v1/completions", b);
        assertEquals(6, whole.path("choices").size());
        int completion = 0;
        for (int i = 0; i < 6; i++) {
            JsonNode c = whole.path("choices").get(i);
            assertEquals(i, c.path("index").asInt());
            int[] prompt = prompts[i / 3];
            // Choice i samples with seed + i, as bt generate --seed 77 samples its prompt i.
            var ref = s.reference().generate(new GenerationRequest(prompt, 6,
                    SamplingParams.sample(1.2, 0, 1.0, 77 + i), true));
            assertArrayEquals(ref.generatedIds(), ints(c.path("token_ids")), "choice " + i);
            assertArrayEquals(prompt, ints(c.path("prompt_token_ids")));
            completion += ref.generatedIds().length;
        }
        assertEquals(3 + 5, whole.path("usage").path("prompt_tokens").asInt(), "each prompt counted once");
        assertEquals(completion, whole.path("usage").path("completion_tokens").asInt());
    }

    @Test
    void logprobsAreTheLibrarysAndNamedByIdWithoutATokenizer() throws Exception {
        for (Served s : served) {
            int[] prompt = {5, 6, 7, 8, 9};
            ObjectNode b = body(s.name(), prompt, 5);
            b.put("temperature", 0);
            b.put("logprobs", 3);
            JsonNode c = s.http().ok("/v1/completions", b).path("choices").get(0);
            List<org.blocktransformer.model.generate.TokenLogprobs> lps = new ArrayList<>();
            var ref = s.reference().submit(GenerationRequest.greedy(prompt, 5).withLogprobs(3),
                    new org.blocktransformer.model.generate.TokenListener() {
                        @Override
                        public void onToken(int tokenId) {
                        }

                        @Override
                        public void onToken(int tokenId, org.blocktransformer.model.generate.TokenLogprobs lp) {
                            lps.add(lp);
                        }
                    }).get();
            JsonNode l = c.path("logprobs");
            for (int t = 0; t < ref.generatedIds().length; t++) {
                assertEquals("token_id:" + ref.generatedIds()[t], l.path("tokens").get(t).asText());
                assertEquals(lps.get(t).logprob(), l.path("token_logprobs").get(t).asDouble(), 0.0,
                        "batch-invariant: the same bits as alone");
                JsonNode top = l.path("top_logprobs").get(t);
                assertEquals(3, top.size());
                for (int k = 0; k < 3; k++) {
                    assertEquals(lps.get(t).topLogprobs()[k],
                            top.path("token_id:" + lps.get(t).topIds()[k]).asDouble(), 0.0);
                }
            }
        }
    }

    /**
     * max_tokens 0 is answered by the server itself, since the engine takes only requests for at least one token:
     * every choice ends at once at its length with no tokens, whole and streamed, its log-probabilities empty.
     */
    @Test
    void maxTokensZeroEndsEveryChoiceAtOnceWithNoTokens() throws Exception {
        for (Served s : served) {
            int[][] prompts = {{1, 2, 3}, {400, 500}};
            ObjectNode b = Json.object();
            var list = b.putArray("prompt");
            for (int[] p : prompts) {
                list.add(Json.ids(p));
            }
            b.put("max_tokens", 0);
            b.put("n", 2);
            b.put("logprobs", 2);
            JsonNode whole = s.http().ok("/v1/completions", b);
            assertEquals(4, whole.path("choices").size());
            for (int i = 0; i < 4; i++) {
                JsonNode c = whole.path("choices").get(i);
                assertEquals(i, c.path("index").asInt());
                assertEquals("length", c.path("finish_reason").asText(), s.name() + " choice " + i);
                assertEquals("", c.path("text").asText());
                assertEquals(0, c.path("token_ids").size());
                assertArrayEquals(prompts[i / 2], ints(c.path("prompt_token_ids")));
                assertTrue(c.path("logprobs").path("tokens").isArray());
                assertEquals(0, c.path("logprobs").path("tokens").size());
            }
            assertEquals(5, whole.path("usage").path("prompt_tokens").asInt());
            assertEquals(0, whole.path("usage").path("completion_tokens").asInt());

            b.put("stream", true);
            String[] reasons = new String[4];
            for (JsonNode e : s.http().stream("/v1/completions", b)) {
                JsonNode c = e.path("choices").get(0);
                assertEquals(0, c.path("token_ids").size(), e.toString());
                if (!c.path("finish_reason").isNull()) {
                    reasons[c.path("index").asInt()] = c.path("finish_reason").asText();
                }
            }
            assertArrayEquals(new String[] {"length", "length", "length", "length"}, reasons, s.name());
        }
    }

    static String finish(GenerationResult r) {
        return switch (r.finishReason()) {
            case LENGTH -> "length";
            case EOS -> "stop";
            case CANCELLED -> "cancelled";
        };
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
