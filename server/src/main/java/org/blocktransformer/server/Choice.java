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

    Choice(int index, int promptIndex, GenerationRequest request, String echo, TextTracker text, int eosId) {
        this.index = index;
        this.promptIndex = promptIndex;
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
     * an id (as {@code bt generate} reports it) but adds no text.
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
