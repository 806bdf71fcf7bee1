package org.blocktransformer.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import org.blocktransformer.loader.CheckpointException;
import org.blocktransformer.loader.OneLine;
import org.blocktransformer.model.backend.DeviceException;
import org.blocktransformer.model.generate.NonFiniteLogitsException;

/** Turns an exception into the one line the user sees. */
final class Errors {
    private Errors() {
    }

    /** Problems the user caused and can fix, whose message is written for them. */
    static boolean isInternal(Throwable t) {
        Throwable c = unwrap(t);
        return !(c instanceof CliException
                || c instanceof CheckpointException
                || c instanceof IllegalArgumentException
                || c instanceof DeviceException
                || c instanceof NonFiniteLogitsException
                || c instanceof IOException
                || c instanceof OutOfMemoryError);
    }

    /** One line whatever the exception: messages of other libraries may quote input with line breaks in it. */
    static String describe(Throwable t) {
        Throwable c = unwrap(t);
        String msg = c.getMessage() == null ? "" : c.getMessage();
        return OneLine.of(switch (c) {
            case CliException e -> msg;
            case CheckpointException e -> msg;
            case IllegalArgumentException e -> msg;
            case DeviceException e -> msg;
            case NonFiniteLogitsException e -> msg;
            case NoSuchFileException e -> "file not found: " + msg;
            case AccessDeniedException e -> "permission denied: " + msg;
            case IOException e -> "I/O error: " + msg;
            case OutOfMemoryError e -> OutOfMemoryAdvice.describe(e);
            default -> "internal error: " + c.getClass().getName() + (msg.isEmpty() ? "" : ": " + msg);
        });
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof UncheckedIOException || c instanceof java.util.concurrent.ExecutionException
                || c instanceof java.util.concurrent.CompletionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
