package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.blocktransformer.loader.safetensors.SafetensorsFile;
import org.blocktransformer.loader.safetensors.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model whose logits overflow (the golden GPT-NeoX with every {@code embed_out} weight at 3e38: finite, so it
 * loads, but every logit is an infinity or NaN) is an error that says so: {@code bt perplexity} used to answer
 * "every window is too short", and {@code bt generate} answered token 0 with exit status 0.
 */
class NonFiniteLogitsCommandsTest {

    private static CliRun bt(String... args) {
        return CliRun.run(new LibraryServices(), args);
    }

    /** A copy of the golden vanilla model whose output projection overflows every logit. */
    private static Path overflowing(Path dir) throws IOException {
        Path golden = PerplexityCommandTest.golden("vanilla-neox");
        Path model = Files.createDirectories(dir.resolve("overflow"));
        Files.copy(golden.resolve("config.json"), model.resolve("config.json"));
        Path weights = Files.copy(golden.resolve("model.safetensors"), model.resolve("model.safetensors"));
        TensorInfo head;
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            head = f.info("embed_out.weight");
        }
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(length, 0);
            long dataStart = 8 + length.flip().getLong();
            ByteBuffer values = ByteBuffer.allocate((int) head.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
            while (values.hasRemaining()) {
                values.putFloat(3e38f);
            }
            ch.write(values.flip(), dataStart + head.begin());
        }
        return model;
    }

    @Test
    void perplexitySaysTheLogitsAreNotFinite(@TempDir Path dir) throws IOException {
        Path model = overflowing(dir);
        Path ids = Files.writeString(dir.resolve("ids.txt"), "1 2 3 4 5 6");
        CliRun r = bt("perplexity", "--model", model.toString(), "--ids-file", ids.toString());
        assertEquals(1, r.code(), r::toString);
        assertEquals("error: non-finite logits (NaN or infinity) predicting token 1 of the window of tokens 0..5\n",
                r.err());
    }

    @Test
    void generateFailsTheRequestInsteadOfAnsweringToken0(@TempDir Path dir) throws IOException {
        Path model = overflowing(dir);
        for (String format : new String[] {"text", "json"}) {
            CliRun r = bt("generate", "--model", model.toString(), "--prompt-ids", "1,2,3", "--max-new-tokens", "4",
                    "--format", format);
            assertEquals(1, r.code(), r::toString);
            assertTrue(r.err().contains("error: non-finite logits (NaN or infinity) at new token 1 of the request"
                    + " (prompt of 3 tokens)"), r::toString);
        }
    }
}
