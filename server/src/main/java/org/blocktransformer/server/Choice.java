package org.blocktransformer.server;

import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.TokenLogprobs;

/**
 * One choice of a request while it runs: its engine request, the tokens and log-probabilities kept so far, its text,
 * and how it finished. Touched only by the request's own thread.
 */
final class Choice {
    final int index;
    final int promptIndex;
    final int[] promptIds;
    /**
     * What the engine runs; null when the choice asks for no new tokens (max_tokens 0, or a chat prompt that fills
     * the context), which the server answers itself: the engine takes only requests for at least one token.
     */
    final GenerationRequest request;
    final String echo;
    final TextTracker text;
    final int eosId;
    final List<Integer> ids = new ArrayList<>();
    final List<TokenLogprobs> logprobs = new ArrayList<>();
    final List<Integer> offsets = new ArrayList<>();
    /** Tokens already sent in stream chunks. */
    int streamed;
    String finishReason;
    long lastTokenNanos;

    Choice(int index, int promptIndex, int[] promptIds, GenerationRequest request, String echo, TextTracker text,
           int eosId) {
        this.index = index;
        this.promptIndex = promptIndex;
        this.promptIds = promptIds;
        this.request = request;
        this.echo = echo;
        this.text = text;
        this.eosId = eosId;
    }

    boolean done() {
        return finishReason != null;
    }

    /**
     * Keeps a token; returns the text that became final. The end-of-sequence token that stops a choice is kept as
     * an id (as {@code bt generate} reports it) but adds no text. Tokens come only from the engine, so only to a
     * choice with a {@link #request}.
     */
    String add(int id, TokenLogprobs lp) {
        ids.add(id);
        offsets.add(text.offset());
        if (lp != null) {
            logprobs.add(lp);
        }
        if (request.stopAtEos() && id == eosId) {
            return "";
        }
        return text.add(id);
    }

    /** Whether tokens were kept since the last chunk. */
    boolean hasUnstreamed() {
        return streamed < ids.size();
    }
}
