package org.blocktransformer.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.blocktransformer.model.generate.GenerationRequest;

/**
 * Reads request bodies into validated records. Policy on fields: every field of OpenAI's request that this server
 * implements is read and checked (type and range); OpenAI fields it does not implement are accepted only at their
 * neutral value ({@code frequency_penalty: 0}, {@code logit_bias: {}}, ...); {@code user} is accepted and ignored;
 * any other field is a 400 naming it.
 */
final class RequestParser {
    static final int MAX_N = 16;
    static final int MAX_STOP = 16;
    /** OpenAI's limit for completions' {@code logprobs} is 5; vLLM allows more, the engine up to this. */
    static final int MAX_LOGPROBS = GenerationRequest.MAX_LOGPROBS;

    private RequestParser() {
    }

    static JsonNode parse(String body) {
        if (body.isBlank()) {
            throw ApiError.invalid("the request body is empty: send a JSON object", null);
        }
        try {
            return Json.MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiError.invalid("malformed JSON in the request body: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")",
                    null);
        }
    }

    static CompletionRequest completion(JsonNode body, String modelName) {
        Fields f = new Fields(body, "the request body");
        checkModel(f, modelName);
        List<PromptInput> prompts = prompts(f);
        Boolean echo = f.bool("echo");
        Integer logprobs = f.integer("logprobs", 0, MAX_LOGPROBS);
        f.onlyNeutral("suffix", "null", false);
        Integer bestOf = f.integer("best_of", 1, MAX_N);
        GenerationParams p = common(f, logprobs == null ? -1 : logprobs);
        if (bestOf != null && bestOf != p.n()) {
            throw ApiError.invalid("'best_of' is not supported by this server (only best_of equal to n is"
                    + " accepted)", "best_of");
        }
        f.rejectUnknown();
        boolean e = echo != null && echo;
        if (e && p.logprobs() >= 0) {
            throw ApiError.invalid("'echo' with 'logprobs' is not supported: this server does not compute the"
                    + " prompt's log-probabilities", "logprobs");
        }
        return new CompletionRequest(prompts, e, p);
    }

    static ChatRequest chat(JsonNode body, String modelName) {
        Fields f = new Fields(body, "the request body");
        checkModel(f, modelName);
        List<Map<String, Object>> messages = messages(f);
        Boolean logprobs = f.bool("logprobs");
        Integer top = f.integer("top_logprobs", 0, MAX_LOGPROBS);
        if (top != null && (logprobs == null || !logprobs)) {
            throw ApiError.invalid("'top_logprobs' needs 'logprobs': true", "top_logprobs");
        }
        JsonNode format = f.get("response_format");
        f.onlyNeutral("response_format", "{\"type\": \"text\"}",
                format != null && "text".equals(format.path("type").asText()) && format.size() == 1);
        f.onlyNeutral("tools", "an empty list", f.has("tools") && f.get("tools").isArray() && f.get("tools").isEmpty());
        f.onlyNeutral("tool_choice", "\"none\"", "none".equals(f.has("tool_choice") ? f.get("tool_choice").asText() : ""));
        f.ignore("parallel_tool_calls");
        Integer maxCompletion = f.integer("max_completion_tokens", 0, Integer.MAX_VALUE);
        GenerationParams p = common(f, logprobs != null && logprobs ? (top == null ? 0 : top) : -1);
        if (maxCompletion != null) {
            if (p.maxTokens() != null && !p.maxTokens().equals(maxCompletion)) {
                throw ApiError.invalid("'max_tokens' and 'max_completion_tokens' disagree; give one",
                        "max_completion_tokens");
            }
            p = new GenerationParams(maxCompletion, p.temperature(), p.topP(), p.topK(), p.seed(), p.stop(), p.n(),
                    p.stream(), p.includeUsage(), p.ignoreEos(), p.returnTokenIds(), p.logprobs());
        }
        f.rejectUnknown();
        return new ChatRequest(messages, p);
    }

    private static void checkModel(Fields f, String modelName) {
        String model = f.text("model");
        if (model != null && !model.equals(modelName)) {
            throw ApiError.notFound("the model '" + model + "' does not exist; this server serves '" + modelName
                    + "' (GET /v1/models)", "model_not_found");
        }
    }

    /** The fields completions and chat share. */
    private static GenerationParams common(Fields f, int logprobs) {
        Integer maxTokens = f.integer("max_tokens", 0, Integer.MAX_VALUE);
        Double temperature = f.number("temperature");
        if (temperature != null && !(temperature >= 0 && temperature <= 100)) {
            throw ApiError.invalid("'temperature' must be in [0, 100] (0 = greedy), got " + temperature,
                    "temperature");
        }
        Double topP = f.number("top_p");
        if (topP != null && !(topP > 0 && topP <= 1)) {
            throw ApiError.invalid("'top_p' must be in (0, 1], got " + topP, "top_p");
        }
        Integer topK = f.integer("top_k", -1, Integer.MAX_VALUE);
        Long seed = f.longInteger("seed");
        List<String> stop = f.strings("stop", MAX_STOP);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw ApiError.invalid("'stop' strings must not be empty", "stop");
            }
        }
        Integer n = f.integer("n", 1, MAX_N);
        Boolean stream = f.bool("stream");
        boolean includeUsage = false;
        Fields options = f.object("stream_options");
        if (options != null) {
            if (stream == null || !stream) {
                throw ApiError.invalid("'stream_options' is only allowed with 'stream': true", "stream_options");
            }
            Boolean usage = options.bool("include_usage");
            includeUsage = usage != null && usage;
            options.rejectUnknown();
        }
        Boolean ignoreEos = f.bool("ignore_eos");
        Boolean returnIds = f.bool("return_token_ids");
        Double frequency = f.number("frequency_penalty");
        f.onlyNeutral("frequency_penalty", "0", frequency != null && frequency == 0);
        Double presence = f.number("presence_penalty");
        f.onlyNeutral("presence_penalty", "0", presence != null && presence == 0);
        JsonNode bias = f.get("logit_bias");
        f.onlyNeutral("logit_bias", "{}", bias != null && bias.isObject() && bias.isEmpty());
        f.ignore("user");
        return new GenerationParams(maxTokens, temperature == null ? 1.0 : temperature, topP == null ? 1.0 : topP,
                topK == null || topK < 0 ? 0 : topK, seed, List.copyOf(stop), n == null ? 1 : n,
                stream != null && stream, includeUsage, ignoreEos != null && ignoreEos,
                returnIds != null && returnIds, logprobs);
    }

    private static List<PromptInput> prompts(Fields f) {
        JsonNode p = f.get("prompt");
        if (p == null) {
            throw ApiError.invalid("'prompt' is missing: give a string, a list of strings, a list of token ids or a"
                    + " list of lists of token ids", "prompt");
        }
        List<PromptInput> out = new ArrayList<>();
        if (p.isTextual()) {
            out.add(new PromptInput.Text(p.asText()));
            return out;
        }
        if (!p.isArray() || p.isEmpty()) {
            throw ApiError.invalid("'prompt' must be a string, a list of strings, a list of token ids or a list of"
                    + " lists of token ids, got " + (p.isArray() ? "an empty list" : Fields.describe(p)), "prompt");
        }
        JsonNode first = p.get(0);
        if (first.isNumber()) {
            out.add(new PromptInput.Ids(ids(p, "prompt")));
            return out;
        }
        for (int i = 0; i < p.size(); i++) {
            JsonNode e = p.get(i);
            if (first.isTextual() && e.isTextual()) {
                out.add(new PromptInput.Text(e.asText()));
            } else if (first.isArray() && e.isArray()) {
                out.add(new PromptInput.Ids(ids(e, "prompt[" + i + "]")));
            } else {
                throw ApiError.invalid("'prompt' mixes kinds: element " + i + " is " + Fields.describe(e)
                        + " but element 0 is " + Fields.describe(first) + " (give all strings or all lists of token"
                        + " ids)", "prompt");
            }
        }
        return out;
    }

    private static int[] ids(JsonNode list, String where) {
        if (list.isEmpty()) {
            throw ApiError.invalid("'" + where + "' is an empty list of token ids", "prompt");
        }
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode v = list.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw ApiError.invalid("'" + where + "' element " + i + " must be a token id (an integer), got "
                        + Fields.describe(v), "prompt");
            }
            ids[i] = v.asInt();
        }
        return ids;
    }

    private static List<Map<String, Object>> messages(Fields f) {
        JsonNode m = f.get("messages");
        if (m == null || !m.isArray() || m.isEmpty()) {
            throw ApiError.invalid("'messages' must be a non-empty list of {\"role\", \"content\"} objects",
                    "messages");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < m.size(); i++) {
            JsonNode e = m.get(i);
            if (!e.isObject()) {
                throw ApiError.invalid("'messages[" + i + "]' must be an object, got " + Fields.describe(e),
                        "messages");
            }
            JsonNode role = e.get("role");
            if (role == null || !role.isTextual()
                    || !List.of("system", "user", "assistant", "developer").contains(role.asText())) {
                throw ApiError.invalid("'messages[" + i + "].role' must be one of system, developer, user,"
                        + " assistant", "messages");
            }
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("role", role.asText());
            message.put("content", content(e.get("content"), i));
            var names = e.fieldNames();
            while (names.hasNext()) {
                String name = names.next();
                if (!name.equals("role") && !name.equals("content") && !name.equals("name")) {
                    throw ApiError.invalid("unknown field 'messages[" + i + "]." + name + "'", "messages");
                }
            }
            if (e.hasNonNull("name")) {
                message.put("name", e.get("name").asText());
            }
            out.add(message);
        }
        return out;
    }

    /** A message's content: a string, or a list of text parts (joined). */
    private static String content(JsonNode c, int i) {
        if (c != null && c.isTextual()) {
            return c.asText();
        }
        if (c != null && c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiError.invalid("'messages[" + i + "].content' parts must be {\"type\": \"text\","
                            + " \"text\": ...}; this server reads text only", "messages");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiError.invalid("'messages[" + i + "].content' must be a string or a list of text parts",
                "messages");
    }
}
