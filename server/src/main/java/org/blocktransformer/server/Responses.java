package org.blocktransformer.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.generate.TokenLogprobs;

/**
 * OpenAI's response bodies for completions ({@code text_completion}) and chat ({@code chat.completion}), whole or
 * as stream chunks. Token ids appear as vLLM writes them ({@code token_ids}, {@code prompt_token_ids}) when asked
 * for, and always when the model has no tokenizer (there is no text then).
 */
final class Responses {
    private final boolean chat;
    private final String id;
    private final long created;
    private final String model;
    private final BtTokenizer tokenizer;
    private final boolean ids;
    private final int logprobs;

    /** {@code logprobs}: the request's, -1 for none, else the number of alternatives per token. */
    Responses(boolean chat, String id, long created, String model, BtTokenizer tokenizer, boolean returnTokenIds,
              int logprobs) {
        this.chat = chat;
        this.id = id;
        this.created = created;
        this.model = model;
        this.tokenizer = tokenizer;
        this.ids = returnTokenIds || tokenizer == null;
        this.logprobs = logprobs;
    }

    private ObjectNode head(boolean chunk) {
        ObjectNode o = Json.object();
        o.put("id", id);
        o.put("object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion")
                : "text_completion");
        o.put("created", created);
        o.put("model", model);
        return o;
    }

    /** The whole response. */
    ObjectNode full(List<Choice> choices, int promptTokens) {
        ObjectNode o = head(false);
        ArrayNode list = o.putArray("choices");
        for (Choice c : choices) {
            ObjectNode j = list.addObject();
            j.put("index", c.index);
            String text = c.text.released();
            if (chat) {
                ObjectNode m = j.putObject("message");
                m.put("role", "assistant");
                m.put("content", text);
            } else {
                j.put("text", c.echo + text);
            }
            j.set("logprobs", logprobs(c, 0, c.ids.size()));
            j.put("finish_reason", c.finishReason);
            if (ids) {
                j.set("prompt_token_ids", Json.ids(c.promptIds));
                j.set("token_ids", Json.ids(c.ids));
            }
        }
        o.set("usage", usage(choices, promptTokens));
        return o;
    }

    /** The first chunk of a choice: chat's role, or completions' echo and prompt ids; null when none is due. */
    ObjectNode opening(Choice c) {
        if (!chat && c.echo.isEmpty() && !ids) {
            return null;
        }
        ObjectNode o = head(true);
        ObjectNode j = o.putArray("choices").addObject();
        j.put("index", c.index);
        if (chat) {
            ObjectNode delta = j.putObject("delta");
            delta.put("role", "assistant");
            delta.put("content", "");
        } else {
            j.put("text", c.echo);
        }
        j.putNull("logprobs");
        j.putNull("finish_reason");
        if (ids) {
            j.set("prompt_token_ids", Json.ids(c.promptIds));
            j.set("token_ids", Json.array());
        }
        return o;
    }

    /** A chunk with a choice's new text and tokens since its last chunk (and its finish reason when it ended). */
    ObjectNode chunk(Choice c, String piece) {
        ObjectNode o = head(true);
        ObjectNode j = o.putArray("choices").addObject();
        j.put("index", c.index);
        if (chat) {
            ObjectNode delta = j.putObject("delta");
            if (!piece.isEmpty() || !c.done()) {
                delta.put("content", piece);
            }
        } else {
            j.put("text", piece);
        }
        j.set("logprobs", logprobs(c, c.streamed, c.ids.size()));
        if (c.finishReason == null) {
            j.putNull("finish_reason");
        } else {
            j.put("finish_reason", c.finishReason);
        }
        if (ids) {
            j.set("token_ids", Json.ids(c.ids.subList(c.streamed, c.ids.size())));
        }
        c.streamed = c.ids.size();
        return o;
    }

    /** The last chunk when {@code stream_options.include_usage} is set: no choices, the usage counts. */
    ObjectNode usageChunk(List<Choice> choices, int promptTokens) {
        ObjectNode o = head(true);
        o.putArray("choices");
        o.set("usage", usage(choices, promptTokens));
        return o;
    }

    private static ObjectNode usage(List<Choice> choices, int promptTokens) {
        int completion = 0;
        for (Choice c : choices) {
            completion += c.ids.size();
        }
        ObjectNode u = Json.object();
        u.put("prompt_tokens", promptTokens);
        u.put("completion_tokens", completion);
        u.put("total_tokens", promptTokens + completion);
        return u;
    }

    /** Log-probabilities of tokens [from, to) in the endpoint's format, or null when not asked for. */
    private ObjectNode logprobs(Choice c, int from, int to) {
        if (logprobs < 0) {
            return null;
        }
        int top = logprobs;
        ObjectNode o = Json.object();
        if (chat) {
            ArrayNode content = o.putArray("content");
            for (int t = from; t < to; t++) {
                TokenLogprobs lp = c.logprobs.get(t);
                ObjectNode e = chatEntry(c.ids.get(t), lp.logprob());
                ArrayNode alternatives = e.putArray("top_logprobs");
                for (int k = 0; k < lp.topIds().length; k++) {
                    alternatives.add(chatEntry(lp.topIds()[k], lp.topLogprobs()[k]));
                }
                content.add(e);
            }
            return o;
        }
        ArrayNode tokens = o.putArray("tokens");
        ArrayNode values = o.putArray("token_logprobs");
        ArrayNode tops = o.putArray("top_logprobs");
        ArrayNode offsets = o.putArray("text_offset");
        for (int t = from; t < to; t++) {
            TokenLogprobs lp = c.logprobs.get(t);
            tokens.add(token(c.ids.get(t)));
            values.add(lp.logprob());
            if (top == 0) {
                tops.addNull();
            } else {
                ObjectNode m = tops.addObject();
                for (int k = 0; k < lp.topIds().length; k++) {
                    m.put(token(lp.topIds()[k]), lp.topLogprobs()[k]);
                }
            }
            offsets.add(c.echo.length() + c.offsets.get(t));
        }
        return o;
    }

    private ObjectNode chatEntry(int tokenId, double logprob) {
        ObjectNode e = Json.object();
        String s = token(tokenId);
        e.put("token", s);
        e.put("logprob", logprob);
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            bytes.add(b & 0xff);
        }
        return e;
    }

    /**
     * A token as text, or vLLM's {@code token_id:N} when there is no tokenizer; an id past the tokenizer's vocabulary
     * (a model's padded ids) is empty text.
     */
    private String token(int tokenId) {
        return tokenizer == null ? "token_id:" + tokenId : tokenizer.decodeGenerated(new int[] {tokenId});
    }
}
