package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptsTest {

    @Test
    void parsesIdLists() {
        assertArrayEquals(new int[] {1, 2, 3}, Prompts.parseIdList("1,2,3"));
        assertArrayEquals(new int[] {1, 2, 3}, Prompts.parseIdList(" [1, 2 , 3] "));
        assertArrayEquals(new int[] {0}, Prompts.parseIdList("0"));
    }

    @Test
    void rejectsBadIdLists() {
        assertMessage("'a' is not a token id", () -> Prompts.parseIdList("1,a"));
        assertMessage("'1.5' is not a token id", () -> Prompts.parseIdList("1.5"));
        assertMessage("token id -3 is negative", () -> Prompts.parseIdList("1,-3"));
        assertMessage("too large", () -> Prompts.parseIdList("99999999999"));
        assertMessage("empty element 2", () -> Prompts.parseIdList("1,,2"));
        assertMessage("no token ids", () -> Prompts.parseIdList(""));
        assertMessage("no token ids", () -> Prompts.parseIdList("[]"));
    }

    @Test
    void parsesGoodLines() {
        List<Prompt> ps = Prompts.parseLines(List.of("\"hello\"", "", "  ", "[1, 2, 3]", "\"caf\\u00e9\""), "p.jsonl");
        assertEquals(3, ps.size());
        assertEquals("hello", assertInstanceOf(Prompt.Text.class, ps.get(0)).text());
        Prompt.Ids ids = assertInstanceOf(Prompt.Ids.class, ps.get(1));
        assertArrayEquals(new int[] {1, 2, 3}, ids.ids());
        assertEquals("line 4 of p.jsonl", ids.origin());
        assertEquals("café", ((Prompt.Text) ps.get(2)).text());
    }

    @Test
    void namesTheLineOfABadEntry() {
        assertMessage("line 2 of p.jsonl: not valid JSON", () -> Prompts.parseLines(List.of("[1]", "[1, 2"), "p.jsonl"));
        assertMessage("line 1 of p.jsonl: not valid JSON", () -> Prompts.parseLines(List.of("hello"), "p.jsonl"));
        assertMessage("line 1 of p.jsonl: expected a JSON string (text) or an array of token ids, got an object",
                () -> Prompts.parseLines(List.of("{\"prompt\": \"x\"}"), "p.jsonl"));
        assertMessage("wrap ids in an array: [7]", () -> Prompts.parseLines(List.of("7"), "p.jsonl"));
        assertMessage("line 3 of p.jsonl: element 2 of the array (\"b\") is not a token id",
                () -> Prompts.parseLines(List.of("[1]", "", "[1, \"b\"]"), "p.jsonl"));
        assertMessage("element 1 of the array (1.5)", () -> Prompts.parseLines(List.of("[1.5]"), "p.jsonl"));
        assertMessage("line 1 of p.jsonl: token id -1 is out of range",
                () -> Prompts.parseLines(List.of("[-1]"), "p.jsonl"));
        assertMessage("line 1 of p.jsonl: the id array is empty", () -> Prompts.parseLines(List.of("[]"), "p.jsonl"));
        assertMessage("p.jsonl holds no prompts", () -> Prompts.parseLines(List.of("", " "), "p.jsonl"));
    }

    @Test
    void contentAfterTheValueIsAnErrorWithItsLineAndColumn() {
        assertMessage("line 2 of p.jsonl: unexpected content after the JSON value at column 7",
                () -> Prompts.parseLines(List.of("[1]", "[1,2] [3]"), "p.jsonl"));
        assertMessage("line 1 of p.jsonl: unexpected content after the JSON value at column 9",
                () -> Prompts.parseLines(List.of("\"hello\" x"), "p.jsonl"));
        assertMessage("at column 4", () -> Prompts.parseLines(List.of("[1],"), "p.jsonl"));
        // Whitespace around the value is fine.
        assertEquals(1, Prompts.parseLines(List.of("  [1, 2]\t "), "p.jsonl").size());
    }

    @Test
    void malformedJsonIsOneLineWithTheColumn() {
        RuntimeException e = assertThrows(CliException.class, () -> Prompts.parseLines(List.of("[1, 2"), "p.jsonl"));
        assertEquals("line 1 of p.jsonl: not valid JSON at column 6 (Unexpected end-of-input: expected close marker"
                + " for Array (start marker at line 1, column 1))", e.getMessage());
    }

    @Test
    void bytesAreUtf8LinesEndedByAnyNewline() {
        byte[] crlf = "\uFEFF[1]\r\n\"caf\u00e9\"\r[2]\n".getBytes(StandardCharsets.UTF_8);
        List<Prompt> ps = Prompts.parse(crlf, "p.jsonl");
        assertEquals(3, ps.size());
        assertEquals("café", ((Prompt.Text) ps.get(1)).text());
        assertEquals("line 3 of p.jsonl", ps.get(2).origin());
        byte[] latin1 = "[1]\n\"caf\u00e9\"\n".getBytes(StandardCharsets.ISO_8859_1);
        assertMessage("line 2 of p.jsonl: not valid UTF-8 text", () -> Prompts.parse(latin1, "p.jsonl"));
    }

    @Test
    void readsFilesAndStandardInput(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("p.jsonl");
        Files.writeString(f, "[5, 6]\n\"x\"\n");
        assertEquals(2, Prompts.readFile(f.toString(), null).size());
        var stdin = new ByteArrayInputStream("[1]\n".getBytes(StandardCharsets.UTF_8));
        assertEquals("line 1 of standard input", Prompts.readFile("-", stdin).getFirst().origin());
        assertMessage("prompts file not found: ", () -> Prompts.readFile(dir.resolve("nope.jsonl").toString(), null));
    }

    static void assertMessage(String expectedPart, org.junit.jupiter.api.function.Executable e) {
        RuntimeException ex = assertThrows(RuntimeException.class, e);
        assertTrue(ex.getMessage().contains(expectedPart), () -> "message '" + ex.getMessage() + "' lacks '"
                + expectedPart + "'");
    }
}
