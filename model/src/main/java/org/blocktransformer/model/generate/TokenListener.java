package org.blocktransformer.model.generate;

/** Receives a request's tokens as they are produced, on the engine's thread: keep it quick. */
@FunctionalInterface
public interface TokenListener {
    void onToken(int tokenId);

    /**
     * A token with its log-probabilities: {@code logprobs} is null unless the request asked for them
     * ({@link GenerationRequest#logprobs()}). By default it forwards the id alone.
     */
    default void onToken(int tokenId, TokenLogprobs logprobs) {
        onToken(tokenId);
    }

    TokenListener NONE = id -> { };
}
