package org.blocktransformer.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.SamplingParams;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}: validate, admit (or 429), run the choices on
 * the shared engine, answer whole or streamed. A request only ever touches its own sequences, so a bad or
 * cancelled one never disturbs the others.
 */
final class GenerationEndpoint {
    /** OpenAI's default {@code max_tokens} for completions. */
    static final int DEFAULT_MAX_TOKENS = 16;

    private final ServedModel model;
    private final String modelName;
    private final Metrics metrics;
    private final Admission admission;
    private final Set<Generation> live;

    GenerationEndpoint(ServedModel model, String modelName, Metrics metrics, Admission admission,
                       Set<Generation> live) {
        this.model = model;
        this.modelName = modelName;
        this.metrics = metrics;
        this.admission = admission;
        this.live = live;
    }

    /** One prompt as the engine sees it, and the text a completion with {@code echo} starts with. */
    private record Prompt(int[] ids, String echo) {
    }

    void completions(Exchange x, JsonNode body, long arrival) {
        CompletionRequest r = RequestParser.completion(body, modelName);
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < r.prompts().size(); i++) {
            prompts.add(prompt(r.prompts().get(i), i, r.echo(), r.prompts().size() > 1));
        }
        run(x, false, prompts, r.params(), arrival);
    }

    void chat(Exchange x, JsonNode body, long arrival) {
        if (model.chatTemplate() == null) {
            throw ApiError.invalid("this model has no chat template (its tokenizer_config.json has no"
                    + " 'chat_template'); use /v1/completions, or start the server with --chat-template FILE",
                    "messages");
        }
        ChatRequest r = RequestParser.chat(body, modelName);
        String text = model.chatTemplate().render(r.messages());
        int[] ids = model.tokenizer().encode(text);
        if (ids.length == 0) {
            throw ApiError.invalid("the chat template made an empty prompt of these messages", "messages");
        }
        run(x, true, List.of(new Prompt(ids, "")), r.params(), arrival);
    }

    private Prompt prompt(PromptInput p, int index, boolean echo, boolean several) {
        String where = several ? "prompt[" + index + "]" : "prompt";
        return switch (p) {
            case PromptInput.Text t -> {
                if (!model.hasTokenizer()) {
                    throw ApiError.invalid("'" + where + "' is text, but this model has no tokenizer: give token"
                            + " ids, or start the server with --tokenizer", "prompt");
                }
                int[] ids = model.tokenizer().encode(t.text());
                if (ids.length == 0) {
                    throw ApiError.invalid("'" + where + "' is empty (it encodes to no tokens)", "prompt");
                }
                yield new Prompt(ids, echo ? t.text() : "");
            }
            case PromptInput.Ids d -> {
                int vocab = model.config().vocabSize();
                for (int k = 0; k < d.ids().length; k++) {
                    if (d.ids()[k] < 0 || d.ids()[k] >= vocab) {
                        throw ApiError.invalid("'" + where + "' token " + k + " is " + d.ids()[k]
                                + ", outside the vocabulary [0, " + vocab + ")", "prompt");
                    }
                }
                // Ids the model has but the tokenizer lacks (a padded vocabulary) echo as no text.
                yield new Prompt(d.ids(), echo && model.hasTokenizer() ? model.tokenizer().decodeGenerated(d.ids())
                        : "");
            }
        };
    }

    private void run(Exchange x, boolean chat, List<Prompt> prompts, GenerationParams p, long arrival) {
        if (!p.stop().isEmpty() && !model.hasTokenizer()) {
            throw ApiError.invalid("'stop' strings need a tokenizer, and this model has none", "stop");
        }
        List<Choice> choices = choices(chat, prompts, p);
        if (!admission.tryAcquire(choices.size())) {
            x.header("Retry-After", "1");
            throw ApiError.queueFull("the server's queue is full (" + admission.limit() + " sequences running or"
                    + " waiting); retry later");
        }
        String endpoint = chat ? "chat" : "completions";
        int promptTokens = 0;
        for (Prompt pr : prompts) {
            promptTokens += pr.ids().length;
        }
        metrics.promptTokens.add(promptTokens);
        Generation g = new Generation(choices, arrival, metrics);
        Responses out = new Responses(chat, (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID(),
                System.currentTimeMillis() / 1000, modelName, model.tokenizer(), p.returnTokenIds(), p.logprobs());
        DisconnectWatch watch = null;
        live.add(g);
        try {
            watch = DisconnectWatch.start(x.request, g::clientGone);
            x.watch(watch);
            g.start(model.engine());
            if (p.stream()) {
                x.startEvents();
                for (Choice c : choices) {
                    var first = out.opening(c);
                    if (first != null) {
                        x.event(first);
                    }
                }
                g.run((c, piece, finished) -> {
                    boolean logprobs = p.logprobs() >= 0 && c.hasUnstreamed();
                    if (finished || !piece.isEmpty() || logprobs || (c.hasUnstreamed() && idsShown(p))) {
                        x.event(out.chunk(c, piece));
                    }
                });
                if (p.includeUsage()) {
                    x.event(out.usageChunk(choices, promptTokens));
                }
                x.endEvents();
            } else {
                g.run((c, piece, finished) -> { });
                x.json(200, out.full(choices, promptTokens));
            }
            metrics.request(endpoint, Metrics.Outcome.OK);
            metrics.requestDuration.observe((System.nanoTime() - arrival) / 1e9);
        } catch (Exchange.ClientGone e) {
            metrics.request(endpoint, Metrics.Outcome.CANCELLED);
        } catch (ApiError e) {
            if (g.wasClientGone()) {
                metrics.request(endpoint, Metrics.Outcome.CANCELLED);
                return;
            }
            if (!x.streaming()) {
                throw e; // the handler counts it and writes the error response
            }
            metrics.request(endpoint, e.outcome());
            try {
                x.event(Json.error(e));
                x.endEvents();
            } catch (Exchange.ClientGone gone) {
                // nothing left to tell
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            metrics.request(endpoint, Metrics.Outcome.ERROR);
        } finally {
            g.cancelRemaining();
            if (watch != null) {
                watch.stop();
            }
            live.remove(g);
            admission.release(choices.size());
        }
    }

    private boolean idsShown(GenerationParams p) {
        return p.returnTokenIds() || !model.hasTokenizer();
    }

    /** Choice i (prompt-major, n per prompt) samples with seed + i, as {@code bt generate} seeds prompt i. */
    private List<Choice> choices(boolean chat, List<Prompt> prompts, GenerationParams p) {
        int limit = model.maxModelLength();
        List<Choice> out = new ArrayList<>();
        for (int pi = 0; pi < prompts.size(); pi++) {
            Prompt pr = prompts.get(pi);
            int maxTokens = p.maxTokens() != null ? p.maxTokens()
                    : chat ? Math.max(0, limit - pr.ids().length) : DEFAULT_MAX_TOKENS;
            if ((long) pr.ids().length + maxTokens > limit) {
                throw ApiError.invalid("this model's maximum context length is " + limit + " tokens, but the prompt"
                        + (prompts.size() > 1 ? " " + pi : "") + " has " + pr.ids().length + " and max_tokens is "
                        + maxTokens + ": shorten the prompt or lower max_tokens", p.maxTokens() == null ? "prompt"
                        : "max_tokens");
            }
            for (int j = 0; j < p.n(); j++) {
                int index = pi * p.n() + j;
                SamplingParams sampling = p.greedy() ? SamplingParams.GREEDY
                        : SamplingParams.sample(p.temperature(), p.topK(), p.topP(),
                        p.seed() != null ? p.seed() + index : ThreadLocalRandom.current().nextLong());
                // No tokens to generate (max_tokens 0, or a chat prompt that fills the context): nothing for the
                // engine, whose requests ask for at least one. Its length is checked above, its ids when it was read
                // (prompt(); a tokenizer's ids are all within the model's vocabulary: ServedModel).
                GenerationRequest request = null;
                if (maxTokens > 0) {
                    request = new GenerationRequest(pr.ids(), maxTokens, sampling, !p.ignoreEos(), p.logprobs());
                    try {
                        model.engine().validate(request);
                    } catch (IllegalArgumentException e) {
                        throw ApiError.invalid(e.getMessage(), "prompt");
                    }
                }
                out.add(new Choice(index, pi, pr.ids(), request, pr.echo(),
                        new TextTracker(model.tokenizer(), p.stop()), model.config().eosTokenId()));
            }
        }
        return out;
    }
}
