package org.blocktransformer.cli;

import org.blocktransformer.loader.OneLine;

/**
 * A problem the user can fix (a bad file, an unknown model, ...): reported as one line, exit code 1, so whatever the
 * message quotes from an input (a file name, a prompt) has its line breaks escaped.
 */
public final class CliException extends RuntimeException {
    public CliException(String message) {
        super(OneLine.of(message));
    }

    public CliException(String message, Throwable cause) {
        super(OneLine.of(message), cause);
    }
}
