package org.blocktransformer.model.generate;

/** Receives a request's tokens as they are produced, on the engine's thread: keep it quick. */
@FunctionalInterface
public interface TokenListener {
    void onToken(int tokenId);

    TokenListener NONE = id -> { };
}
