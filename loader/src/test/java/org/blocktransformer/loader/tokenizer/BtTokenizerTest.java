package org.blocktransformer.loader.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.blocktransformer.loader.Golden;

class BtTokenizerTest {

    private static BtTokenizer tokenizer;
    private static JsonNode cases;

    @BeforeAll
    static void load() throws IOException {
        Path dir = Golden.path("tokenizer");
        tokenizer = BtTokenizer.load(dir.resolve("tokenizer.json"));
        cases = new ObjectMapper().readTree(dir.resolve("cases.json").toFile()).get("cases");
    }

    @AfterAll
    static void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }

    @Test
    void allGoldenCasesEncodeAndDecodeLikePython() {
        assertEquals(60, cases.size());
        List<String> failures = new ArrayList<>();
        for (JsonNode c : cases) {
            String text = c.get("text").asText();
            int[] expected = ints(c.get("ids"));
            int[] ids = tokenizer.encode(text);
            if (!java.util.Arrays.equals(expected, ids)) {
                failures.add("encode " + quote(text));
            }
            if (!c.get("decoded").asText().equals(tokenizer.decode(expected))) {
                failures.add("decode " + quote(text));
            }
            if (!c.get("decoded_skip_special").asText().equals(tokenizer.decode(expected, true))) {
                failures.add("decode(skip special) " + quote(text));
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void longTextIsNeverTruncated() {
        String text = "The quick brown fox jumps over the lazy dog, again and again. ".repeat(120);
        int[] ids = tokenizer.encode(text);
        assertTrue(ids.length > 2000, "expected well over 512 tokens, got " + ids.length);
        assertEquals(text, tokenizer.decode(ids));
    }

    @Test
    void vocabSizeCoversAddedTokens() {
        assertEquals(512, tokenizer.vocabSize());
    }

    @Test
    void specialTokenIsKeptOrSkippedOnDecode() {
        int[] ids = tokenizer.encode("a<|endoftext|>b");
        assertArrayEquals(ids, tokenizer.encode("a<|endoftext|>b"));
        assertEquals("a<|endoftext|>b", tokenizer.decode(ids));
        assertEquals("ab", tokenizer.decode(ids, true));
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    private static String quote(String s) {
        return '"' + s.replace("\n", "\\n") + '"';
    }
}
