package org.blocktransformer.spark;

/** A row whose prompt cannot be generated; the message names the row and says why. */
public final class BadPromptException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public BadPromptException(String message) {
        super(message);
    }
}
