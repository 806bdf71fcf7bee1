package org.blocktransformer.cli;

/** A problem the user can fix (a bad file, an unknown model, ...): reported as one line, exit code 1. */
public final class CliException extends RuntimeException {
    public CliException(String message) {
        super(message);
    }

    public CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
