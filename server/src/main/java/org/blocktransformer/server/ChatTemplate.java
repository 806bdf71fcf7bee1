package org.blocktransformer.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A checkpoint's chat template: the Jinja template of its {@code tokenizer_config.json} ({@code chat_template}, a
 * string or a list of named templates, "default" chosen), rendered with Jinjava the way Hugging Face's
 * {@code apply_chat_template} renders it: {@code messages}, {@code add_generation_prompt}, {@code bos_token},
 * {@code eos_token} and {@code raise_exception}.
 */
public final class ChatTemplate {
    static final String CONFIG_FILE = "tokenizer_config.json";

    private final String template;
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinjava;
    /** The message of a template's raise_exception during this thread's rendering (Jinjava wraps the exception). */
    private static final ThreadLocal<String> REFUSAL = new ThreadLocal<>();

    ChatTemplate(String template, String bosToken, String eosToken) {
        this.template = template;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(false).withLstripBlocks(false).build());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
    }

    /** The template of the {@code tokenizer_config.json} in {@code dir}, if the file exists and has one. */
    public static Optional<ChatTemplate> find(Path dir) {
        Path file = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        JsonNode config;
        try {
            config = Json.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read JSON: " + e.getMessage(), e);
        }
        JsonNode t = config.path("chat_template");
        String text = null;
        if (t.isTextual()) {
            text = t.asText();
        } else if (t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText()) || text == null) {
                    text = named.path("template").asText(null);
                }
            }
        }
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(new ChatTemplate(text, token(config.path("bos_token")), token(config.path("eos_token"))));
    }

    /** A template given as text (e.g. from {@code --chat-template FILE}). */
    public static ChatTemplate of(String template, String bosToken, String eosToken) {
        return new ChatTemplate(template, bosToken == null ? "" : bosToken, eosToken == null ? "" : eosToken);
    }

    private static String token(JsonNode n) {
        if (n.isTextual()) {
            return n.asText();
        }
        return n.path("content").asText("");
    }

    /** The prompt text for {@code messages} (maps of role and content), ready for the assistant's reply. */
    String render(List<Map<String, Object>> messages) {
        Map<String, Object> context = new HashMap<>();
        context.put("messages", messages);
        context.put("add_generation_prompt", true);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);
        REFUSAL.remove();
        RenderResult result;
        try {
            result = jinjava.renderForResult(template, context);
        } finally {
            String refusal = REFUSAL.get();
            REFUSAL.remove();
            if (refusal != null) {
                throw ApiError.invalid("the chat template refused the messages: " + refusal, "messages");
            }
        }
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw ApiError.invalid("the chat template failed on these messages: " + e.getMessage(), "messages");
            }
        }
        return result.getOutput();
    }

    /** Called by templates to refuse a conversation (Hugging Face's {@code raise_exception}). */
    public static String raiseException(String message) {
        REFUSAL.set(message);
        throw new IllegalArgumentException(message);
    }
}
