package org.blocktransformer.loader.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.blocktransformer.loader.CheckpointException;

/** tokenizer.json files that are malformed or cannot encode: each refused in one line naming the file. */
class TokenizerFileTest {

    @TempDir
    Path tmp;

    /** A word-level tokenizer: lower-cased words split on whitespace, unknown words as [UNK]. */
    static final String WORD_LEVEL = """
            {"version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
             "normalizer": {"type": "Lowercase"}, "pre_tokenizer": {"type": "Whitespace"},
             "post_processor": null, "decoder": null,
             "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "hello": 1, "world": 2}, "unk_token": "[UNK]"}}
            """;

    private Path write(String json) throws IOException {
        Path file = tmp.resolve("tokenizer.json");
        Files.writeString(file, json);
        return file;
    }

    @Test
    void wordLevelTokenizerLoadsAndEncodes() throws IOException {
        try (BtTokenizer tok = BtTokenizer.load(write(WORD_LEVEL))) {
            assertArrayEquals(new int[] {1, 0, 2}, tok.encode("Hello there world"));
            assertEquals(3, tok.vocabSize());
        }
    }

    @Test
    void malformedJsonIsOneLineWithLineAndColumn() throws IOException {
        Path file = write("{\"model\": {\"type\": \"WordLevel\",\n  \"vocab\": {\"a\" 0}}}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> BtTokenizer.load(file));
        assertEquals(file + ":2:17: not valid JSON: Unexpected character ('0' (code 48)): was expecting a colon to"
                + " separate field name and value", e.getMessage());
    }

    @Test
    void contentAfterTheObjectIsRefused() throws IOException {
        Path file = write(WORD_LEVEL.strip() + " []");
        CheckpointException e = assertThrows(CheckpointException.class, () -> BtTokenizer.load(file));
        assertTrue(e.getMessage().startsWith(file + ":4:"), e.getMessage());
        assertTrue(e.getMessage().endsWith("not valid JSON: unexpected content after the JSON value"), e.getMessage());
    }

    /** It loads, but cannot encode an unknown word: the native error becomes ours, naming the file. */
    @Test
    void tokenizerThatCannotEncodeSaysSo() throws IOException {
        Path file = write(WORD_LEVEL.replace("\"unk_token\": \"[UNK]\"", "\"unk_token\": \"<unk>\""));
        try (BtTokenizer tok = BtTokenizer.load(file)) {
            assertArrayEquals(new int[] {1}, tok.encode("hello"));
            CheckpointException e = assertThrows(CheckpointException.class, () -> tok.encode("goodbye"));
            assertTrue(e.getMessage().startsWith(file + ": the tokenizer cannot encode this text: "), e.getMessage());
        }
    }

    /**
     * An added token whose content is not in the vocabulary gets an id after it from the library, whatever id the
     * file states (found by fuzzing): the vocabulary size counts it, so its id decodes.
     */
    @Test
    void addedTokenOutsideTheVocabularyCountsInItsSize() throws IOException {
        Path file = write(WORD_LEVEL.replace("\"added_tokens\": []", "\"added_tokens\": [{\"id\": 0, \"content\":"
                + " \"<eos>\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false,"
                + " \"special\": true}]"));
        try (BtTokenizer tok = BtTokenizer.load(file)) {
            int[] ids = tok.encode("hello <eos>");
            assertArrayEquals(new int[] {1, 3}, ids);
            assertEquals(4, tok.vocabSize());
            assertEquals("hello <eos>", tok.decode(ids));
        }
    }

    @Test
    void idsTooLargeForTheVocabularyAreRefused() throws IOException {
        Path file = write(WORD_LEVEL.replace("\"world\": 2", "\"world\": 2147483647"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> BtTokenizer.load(file));
        assertEquals(file + ": token id 2147483647 is too large", e.getMessage());
    }
}
