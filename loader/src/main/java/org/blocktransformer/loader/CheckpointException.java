package org.blocktransformer.loader;

import java.nio.file.Path;

/**
 * A checkpoint, config or tokenizer file that cannot be used. The message always names the file and, where there is
 * one, the tensor or key, and says what is wrong, so that a user can fix the file without reading this code. It is
 * one line: whatever it quotes from a file is escaped by {@link OneLine}.
 */
public class CheckpointException extends RuntimeException {

    public CheckpointException(String message) {
        super(OneLine.of(message));
    }

    public CheckpointException(String message, Throwable cause) {
        super(OneLine.of(message), cause);
    }

    /** "{@code file}: {@code problem}". */
    public static CheckpointException inFile(Path file, String problem) {
        return new CheckpointException(file + ": " + problem);
    }

    /** "{@code file}: tensor '{@code tensor}': {@code problem}". */
    public static CheckpointException inTensor(Path file, String tensor, String problem) {
        return new CheckpointException(file + ": tensor '" + tensor + "': " + problem);
    }
}
