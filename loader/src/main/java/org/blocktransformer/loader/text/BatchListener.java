package org.blocktransformer.loader.text;

/**
 * What a caller hears of requests while they run ({@link TextEngine#submitAll}, {@link TextEngine#generateAll}):
 * each token as it is produced and each request as it finishes, with the request's index in the list. Calls for one
 * list never overlap, so an implementation needs no locking of its own; token calls come on the engine's thread,
 * so keep them quick (printing a line is fine).
 */
public interface BatchListener {

    /** Hears nothing. */
    BatchListener NONE = new BatchListener() {
        @Override
        public boolean decodesTokens() {
            return false;
        }
    };

    /**
     * Request {@code index} produced token {@code id}. {@code text} is the characters that token completed (often
     * empty in the middle of a character; see {@link IncrementalDecoder}), so that a request's pieces concatenate to
     * its text; null when the engine has no tokenizer or this listener does not decode ({@link #decodesTokens}).
     */
    default void token(int index, int id, String text) {
    }

    /**
     * Request {@code index} finished with {@code result}. {@code tail} is the text its token pieces have not given
     * (a character its last tokens left incomplete, as U+FFFD; usually empty), so that the pieces and the tail make
     * {@code result.text()}; null when the pieces are.
     */
    default void finished(int index, TextResult result, String tail) {
    }

    /**
     * Whether {@link #token} gets each token's text. Decoding as tokens come costs a decode of the request's ids so
     * far for every token, on the engine's thread: a listener that only counts tokens says no.
     */
    default boolean decodesTokens() {
        return true;
    }
}
