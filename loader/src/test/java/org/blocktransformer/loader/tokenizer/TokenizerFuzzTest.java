package org.blocktransformer.loader.tokenizer;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Timeout;

import org.blocktransformer.loader.CheckpointException;
import org.blocktransformer.loader.Refusal;

/**
 * {@code tokenizer.json} through the whole load: our pre-checks (JSON syntax, the vocabulary size) and then DJL's
 * native Hugging Face tokenizers library. Each input is either refused with a one-line {@link CheckpointException},
 * or loads into a tokenizer that encodes and decodes text. Seeds: small hand-written BPE, WordPiece and WordLevel
 * tokenizers in {@code TokenizerFuzzTestInputs}.
 */
class TokenizerFuzzTest {

    /** The native library reads a file: one per JVM, rewritten for each input. */
    private static Path file;

    @DictionaryEntries({"\"model\"", "\"vocab\"", "\"merges\"", "\"added_tokens\"", "\"type\"", "\"BPE\"",
            "\"WordLevel\"", "\"WordPiece\"", "\"Unigram\"", "\"unk_token\"", "\"normalizer\"", "\"pre_tokenizer\"",
            "\"decoder\"", "\"ByteLevel\"", "\"id\"", "\"content\"", "\"special\""})
    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void tokenizerJson(byte[] json) throws IOException {
        Files.write(file(), json);
        BtTokenizer tok;
        try {
            tok = BtTokenizer.load(file());
        } catch (CheckpointException refused) {
            Refusal.assertOneLine(refused);
            return;
        }
        try (tok) {
            assertTrue(tok.vocabSize() > 0);
            int[] ids = tok.encode("Hello, world! 123 caf\u00e9 \u6f22\u5b57 <|endoftext|>");
            for (int id : ids) {
                // An id the vocabulary does not hold would fail later, far from the file that caused it.
                assertTrue(id >= 0 && id < tok.vocabSize(), () -> "id " + id + " outside [0, " + tok.vocabSize() + ")");
            }
            assertNotNull(tok.decode(ids));
            assertNotNull(tok.decode(new int[] {0, tok.vocabSize() - 1}, true));
        } catch (CheckpointException cannotEncode) {
            // A file can load yet fail on some text (an unknown word without an unknown token): refused then.
            Refusal.assertOneLine(cannotEncode);
        }
    }

    private static synchronized Path file() throws IOException {
        if (file == null) {
            file = Files.createTempFile("bt-fuzz-", "-tokenizer.json");
            file.toFile().deleteOnExit();
        }
        return file;
    }
}
