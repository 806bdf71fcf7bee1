package org.blocktransformer.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.weights.ModelWeights;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Text in and out (the golden tokenizer on tiny models of its vocabulary): text equals the tokenizer's decoding of
 * the library's ids, streamed text equals the whole answer, stop strings, echo, ignore_eos, chat through a
 * checkpoint's template, and the endpoints besides generation.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TextApiTest {
    static final String TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
            + "{% if add_generation_prompt %}<|assistant|>{% endif %}";

    private BtTokenizer tokenizer;
    private final List<AutoCloseable> open = new ArrayList<>();
    private InferenceEngine reference;
    private BtServer server;
    private Http http;
    private BtServer plain;
    private Http plainHttp;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        tokenizer = BtTokenizer.load(Fixtures.goldenTokenizer());
        open.add(tokenizer);
        ModelWeights w = Fixtures.tinyBlock(5);
        InferenceEngine engine = Fixtures.engine(w, 8);
        reference = Fixtures.engine(w, 1);
        Files.writeString(dir.resolve("tokenizer_config.json"), Json.write(Json.object()
                .put("chat_template", "{% if messages[0]['role'] == 'assistant' %}"
                        + "{{ raise_exception('the first message must not be the assistant') }}{% endif %}" + TEMPLATE)
                .put("eos_token", "<|endoftext|>")));
        ChatTemplate template = ChatTemplate.find(dir).orElseThrow();
        server = Fixtures.serve(new ServedModel(engine, tokenizer, template), "tiny-block", 64);
        http = new Http(server);
        // The same model without a chat template, for chat's 400.
        InferenceEngine engine2 = Fixtures.engine(w, 4);
        plain = Fixtures.serve(new ServedModel(engine2, tokenizer, null), "tiny-block", 8);
        plainHttp = new Http(plain);
        open.addAll(List.of(server, plain, engine, engine2, reference));
    }

    @AfterAll
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    /** Text of the library's ids as the server reports it: the EOS that stops a choice adds no text. */
    private String text(GenerationResult r) {
        int[] ids = r.generatedIds();
        if (r.finishReason() == org.blocktransformer.model.generate.FinishReason.EOS) {
            ids = Arrays.copyOf(ids, ids.length - 1);
        }
        return tokenizer.decode(ids);
    }

    @Test
    void textPromptsStreamTheSameTextAsTheWholeAnswer() throws Exception {
        String prompt = "Once upon a time, in a small village,";
        int[] ids = tokenizer.encode(prompt);
        for (boolean greedy : new boolean[] {true, false}) {
            ObjectNode b = Json.object();
            b.put("prompt", prompt);
            b.put("max_tokens", 30);
            b.put("temperature", greedy ? 0 : 0.8);
            b.put("seed", 5);
            GenerationResult ref = reference.generate(new GenerationRequest(ids, 30,
                    greedy ? SamplingParams.GREEDY : SamplingParams.sample(0.8, 0, 1, 5), true));
            JsonNode c = http.ok("/v1/completions", b).path("choices").get(0);
            assertEquals(text(ref), c.path("text").asText());
            assertTrue(c.path("token_ids").isMissingNode(), "ids only when asked for");
            b.put("stream", true);
            b.put("return_token_ids", true);
            StringBuilder streamed = new StringBuilder();
            List<Integer> streamedIds = new ArrayList<>();
            for (JsonNode e : http.stream("/v1/completions", b)) {
                JsonNode ch = e.path("choices").get(0);
                streamed.append(ch.path("text").asText());
                ch.path("token_ids").forEach(t -> streamedIds.add(t.asInt()));
            }
            assertEquals(text(ref), streamed.toString());
            assertArrayEquals(ref.generatedIds(), streamedIds.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    @Test
    void stopStringsEndTheTextBeforeThem() throws Exception {
        String prompt = "The quick brown fox";
        GenerationResult ref = reference.generate(GenerationRequest.greedy(tokenizer.encode(prompt), 40)
                .withLogprobs(-1));
        String full = text(ref);
        assertTrue(full.length() > 12, "a long enough continuation: " + full);
        String stop = full.substring(8, 11);
        String expected = full.substring(0, full.indexOf(stop));
        ObjectNode b = Json.object();
        b.put("prompt", prompt);
        b.put("max_tokens", 40);
        b.put("temperature", 0);
        b.putArray("stop").add("never-there-zzz").add(stop);
        JsonNode c = http.ok("/v1/completions", b).path("choices").get(0);
        assertEquals(expected, c.path("text").asText());
        assertEquals("stop", c.path("finish_reason").asText());
        b.put("stream", true);
        StringBuilder streamed = new StringBuilder();
        String reason = null;
        for (JsonNode e : http.stream("/v1/completions", b)) {
            streamed.append(e.path("choices").get(0).path("text").asText());
            if (!e.path("choices").get(0).path("finish_reason").isNull()) {
                reason = e.path("choices").get(0).path("finish_reason").asText();
            }
        }
        assertEquals(expected, streamed.toString());
        assertEquals("stop", reason);
    }

    @Test
    void echoPrependsThePromptAndLogprobsHaveOffsets() throws Exception {
        String prompt = "Hello there";
        ObjectNode b = Json.object();
        b.put("prompt", prompt);
        b.put("max_tokens", 6);
        b.put("temperature", 0);
        b.put("echo", true);
        GenerationResult ref = reference.generate(GenerationRequest.greedy(tokenizer.encode(prompt), 6));
        assertEquals(prompt + text(ref), http.ok("/v1/completions", b).path("choices").get(0).path("text").asText());
        b.remove("echo");
        b.put("logprobs", 2);
        JsonNode l = http.ok("/v1/completions", b).path("choices").get(0).path("logprobs");
        int[] ids = ref.generatedIds();
        for (int t = 0; t < ids.length; t++) {
            assertEquals(tokenizer.decode(new int[] {ids[t]}), l.path("tokens").get(t).asText());
            assertEquals(tokenizer.decode(Arrays.copyOf(ids, t)).length(), l.path("text_offset").get(t).asInt());
            assertEquals(2, l.path("top_logprobs").get(t).size());
        }
    }

    @Test
    void ignoreEosKeepsGoingThroughTheEndToken() throws Exception {
        // Near-uniform sampling finds a seed whose continuation holds the EOS id (0) early on.
        int[] prompt = {9, 8, 7};
        for (long seed = 0; seed < 3000; seed++) {
            var through = reference.generate(new GenerationRequest(prompt, 24,
                    SamplingParams.sample(50, 0, 1.0, seed), false));
            int eos = indexOf(through.generatedIds(), 0);
            if (eos < 0 || eos == through.generatedIds().length - 1) {
                continue;
            }
            ObjectNode b = Json.object();
            b.set("prompt", Json.ids(prompt));
            b.put("max_tokens", 24);
            b.put("temperature", 50);
            b.put("seed", seed);
            b.put("return_token_ids", true);
            JsonNode stopped = http.ok("/v1/completions", b).path("choices").get(0);
            assertArrayEquals(Arrays.copyOf(through.generatedIds(), eos + 1),
                    CompletionsTest.ints(stopped.path("token_ids")));
            assertEquals("stop", stopped.path("finish_reason").asText());
            assertEquals(tokenizer.decode(Arrays.copyOf(through.generatedIds(), eos)), stopped.path("text").asText());
            b.put("ignore_eos", true);
            JsonNode kept = http.ok("/v1/completions", b).path("choices").get(0);
            assertArrayEquals(through.generatedIds(), CompletionsTest.ints(kept.path("token_ids")));
            assertEquals("length", kept.path("finish_reason").asText());
            return;
        }
        throw new AssertionError("no seed of 3000 produced the EOS id");
    }

    @Test
    void chatRendersTheTemplateAndEqualsTheLibrary() throws Exception {
        ObjectNode b = Json.object();
        b.put("model", "tiny-block");
        var messages = b.putArray("messages");
        messages.addObject().put("role", "system").put("content", "Be brief.");
        messages.addObject().put("role", "user").put("content", "Hi!");
        b.put("max_tokens", 12);
        b.put("temperature", 0);
        b.put("return_token_ids", true);
        int[] prompt = tokenizer.encode("<|system|>Be brief.\n<|user|>Hi!\n<|assistant|>");
        GenerationResult ref = reference.generate(GenerationRequest.greedy(prompt, 12).withLogprobs(-1));
        JsonNode whole = http.ok("/v1/chat/completions", b);
        assertEquals("chat.completion", whole.path("object").asText());
        JsonNode c = whole.path("choices").get(0);
        assertArrayEquals(prompt, CompletionsTest.ints(c.path("prompt_token_ids")), "the template's rendering");
        assertEquals("assistant", c.path("message").path("role").asText());
        assertEquals(text(ref), c.path("message").path("content").asText());
        assertArrayEquals(ref.generatedIds(), CompletionsTest.ints(c.path("token_ids")));
        assertEquals(prompt.length, whole.path("usage").path("prompt_tokens").asInt());

        b.put("stream", true);
        b.put("logprobs", true);
        b.put("top_logprobs", 1);
        List<JsonNode> events = http.stream("/v1/chat/completions", b);
        assertEquals("assistant", events.getFirst().path("choices").get(0).path("delta").path("role").asText());
        StringBuilder content = new StringBuilder();
        int logprobEntries = 0;
        for (JsonNode e : events) {
            assertEquals("chat.completion.chunk", e.path("object").asText());
            JsonNode ch = e.path("choices").get(0);
            content.append(ch.path("delta").path("content").asText(""));
            logprobEntries += ch.path("logprobs").path("content").size();
        }
        assertEquals(text(ref), content.toString());
        assertEquals(ref.generatedIds().length, logprobEntries, "one logprobs entry per token");
        assertEquals(CompletionsTest.finish(ref),
                events.getLast().path("choices").get(0).path("finish_reason").asText());

        ObjectNode refused = Json.object();
        refused.putArray("messages").addObject().put("role", "assistant").put("content", "I start");
        Http.Reply r = http.post("/v1/chat/completions", refused);
        assertEquals(400, r.status());
        assertTrue(r.errorMessage().contains("the first message must not be the assistant"), r.errorMessage());
    }

    /**
     * A chat prompt that fills the whole context leaves room for no token: without max_tokens (the rest of the
     * context, here none) it is answered at once with no content and finish_reason length, whole and streamed, as
     * is max_tokens 0; a longer prompt is a 400.
     */
    @Test
    void aChatPromptThatFillsTheContextEndsAtItsLength() throws Exception {
        int limit = http.get("/v1/models").body().path("data").get(0).path("max_model_len").asInt();
        String content = contentFilling(limit);
        ObjectNode b = Json.object();
        b.putArray("messages").addObject().put("role", "user").put("content", content);
        b.put("return_token_ids", true);
        JsonNode whole = http.ok("/v1/chat/completions", b);
        JsonNode c = whole.path("choices").get(0);
        assertEquals("length", c.path("finish_reason").asText());
        assertEquals("", c.path("message").path("content").asText());
        assertEquals(0, c.path("token_ids").size());
        assertEquals(limit, c.path("prompt_token_ids").size());
        assertEquals(limit, whole.path("usage").path("prompt_tokens").asInt());
        assertEquals(0, whole.path("usage").path("completion_tokens").asInt());

        b.put("stream", true);
        List<JsonNode> events = http.stream("/v1/chat/completions", b);
        assertEquals("assistant", events.getFirst().path("choices").get(0).path("delta").path("role").asText());
        assertEquals("length", events.getLast().path("choices").get(0).path("finish_reason").asText());
        for (JsonNode e : events) {
            assertEquals("", e.path("choices").get(0).path("delta").path("content").asText(""), e.toString());
        }

        ObjectNode none = Json.object();
        none.putArray("messages").addObject().put("role", "user").put("content", "Hi");
        none.put("max_tokens", 0);
        JsonNode empty = http.ok("/v1/chat/completions", none).path("choices").get(0);
        assertEquals("length", empty.path("finish_reason").asText());
        assertEquals("", empty.path("message").path("content").asText());

        b.put("stream", false);
        b.putArray("messages").addObject().put("role", "user").put("content", content + "!");
        Http.Reply over = http.post("/v1/chat/completions", b);
        assertEquals(400, over.status(), over.raw().body());
        assertTrue(over.errorMessage().contains("maximum context length is " + limit), over.errorMessage());
    }

    /** A user message whose rendering through the template is exactly {@code tokens} tokens. */
    private String contentFilling(int tokens) {
        StringBuilder content = new StringBuilder();
        for (String piece : new String[] {" hello", " a", "."}) {
            while (rendered(content + piece) <= tokens) {
                content.append(piece);
            }
        }
        assertEquals(tokens, rendered(content.toString()), "a message of exactly the context's length");
        return content.toString();
    }

    private int rendered(String userContent) {
        return tokenizer.encode("<|user|>" + userContent + "\n<|assistant|>").length;
    }

    @Test
    void badChatRequestsAreClear400s() throws Exception {
        String hi = "[{\"role\": \"user\", \"content\": \"Hi\"}]";
        List<String[]> cases = List.of(
                new String[] {"{}", "'messages' must be a non-empty list"},
                new String[] {"{\"messages\": []}", "'messages' must be a non-empty list"},
                new String[] {"{\"messages\": [5]}", "'messages[0]' must be an object"},
                new String[] {"{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}",
                        "'messages[0].role' must be one of"},
                new String[] {"{\"messages\": [{\"role\": \"user\", \"content\": 5}]}",
                        "'messages[0].content' must be a string"},
                new String[] {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\", \"mood\": 1}]}",
                        "unknown field 'messages[0].mood'"},
                new String[] {"{\"messages\": " + hi + ", \"top_logprobs\": 2}", "'top_logprobs' needs 'logprobs'"},
                new String[] {"{\"messages\": " + hi + ", \"logprobs\": 3}", "'logprobs' must be true or false"},
                new String[] {"{\"messages\": " + hi + ", \"max_tokens\": 3, \"max_completion_tokens\": 4}",
                        "disagree"},
                new String[] {"{\"messages\": " + hi + ", \"tools\": [{\"type\": \"function\"}]}",
                        "'tools' is not supported"},
                new String[] {"{\"messages\": " + hi + ", \"response_format\": {\"type\": \"json_object\"}}",
                        "'response_format' is not supported"},
                new String[] {"{\"messages\": " + hi + ", \"prompt\": \"x\"}", "unknown field 'prompt'"});
        for (String[] c : cases) {
            Http.Reply r = http.postText("/v1/chat/completions", c[0]);
            assertEquals(400, r.status(), () -> c[0] + " -> " + r.raw().body());
            assertTrue(r.errorMessage().contains(c[1]), () -> c[0] + " says " + r.errorMessage());
        }
        Http.Reply ok = http.postText("/v1/chat/completions", "{\"messages\": " + hi
                + ", \"max_completion_tokens\": 3, \"response_format\": {\"type\": \"text\"}}");
        assertEquals(200, ok.status(), ok.raw().body());
        assertTrue(ok.body().path("usage").path("completion_tokens").asInt() <= 3);
    }

    @Test
    void chatWithoutATemplateIsAClear400() throws Exception {
        ObjectNode b = Json.object();
        b.putArray("messages").addObject().put("role", "user").put("content", "Hi");
        Http.Reply r = plainHttp.post("/v1/chat/completions", b);
        assertEquals(400, r.status());
        assertTrue(r.errorMessage().contains("this model has no chat template"), r.errorMessage());
        assertEquals("invalid_request_error", r.body().path("error").path("type").asText());
        // Completions still work there.
        ObjectNode c = Json.object();
        c.put("prompt", "Hi");
        c.put("max_tokens", 2);
        assertEquals(200, plainHttp.post("/v1/completions", c).status());
    }

    @Test
    void modelsHealthMetricsAndUnknownRoutes() throws Exception {
        JsonNode models = http.get("/v1/models").body();
        assertEquals("list", models.path("object").asText());
        assertEquals("tiny-block", models.path("data").get(0).path("id").asText());
        assertEquals(1024, models.path("data").get(0).path("max_model_len").asInt());
        Http.Reply health = http.get("/health");
        assertEquals(200, health.status());
        assertEquals("ok", health.body().path("status").asText());
        var metrics = http.client.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(http.base + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        for (String name : List.of("bt_prompt_tokens_total", "bt_generation_tokens_total", "bt_queue_depth",
                "bt_running_batch_size", "bt_cache_pages_in_use", "bt_cache_pages_total",
                "bt_time_to_first_token_seconds_count", "bt_inter_token_latency_seconds_count")) {
            assertTrue(Http.metric(metrics.body(), name) >= 0, name + " in\n" + metrics.body());
        }
        Http.Reply missing = http.get("/v1/nothing");
        assertEquals(404, missing.status());
        assertTrue(missing.errorMessage().contains("no route GET /v1/nothing"));
        Http.Reply wrongMethod = http.get("/v1/completions");
        assertEquals(405, wrongMethod.status());
        assertEquals(405, http.postText("/health", "{}").status());
        ObjectNode other = Json.object();
        other.put("model", "gpt-4");
        other.put("prompt", "x");
        Http.Reply notServed = http.post("/v1/completions", other);
        assertEquals(404, notServed.status());
        assertEquals("model_not_found", notServed.body().path("error").path("code").asText());
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }
}
