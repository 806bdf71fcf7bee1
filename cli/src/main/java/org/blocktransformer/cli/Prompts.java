package org.blocktransformer.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.loader.JsonSyntax;

/** Parses token id lists and JSON Lines prompt files, with messages that say what is wrong and where. */
public final class Prompts {
    private Prompts() {
    }

    /**
     * Parses "1,2,3" (spaces and surrounding brackets allowed) into ids.
     *
     * @throws IllegalArgumentException with a message naming the bad element
     */
    public static int[] parseIdList(String s) {
        String t = s.strip();
        if (t.startsWith("[") && t.endsWith("]")) {
            t = t.substring(1, t.length() - 1).strip();
        }
        if (t.isEmpty()) {
            throw new IllegalArgumentException("no token ids given (expected comma-separated ids, e.g. 1,2,3)");
        }
        String[] parts = t.split(",", -1);
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].strip();
            if (p.isEmpty()) {
                throw new IllegalArgumentException("empty element " + (i + 1) + " in the token id list '" + s
                        + "' (expected comma-separated ids, e.g. 1,2,3)");
            }
            ids[i] = parseId(p, "'" + p + "' is not a token id (expected comma-separated non-negative integers, e.g. 1,2,3)");
        }
        return ids;
    }

    private static int parseId(String p, String notANumber) {
        long v;
        try {
            v = Long.parseLong(p);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(notANumber);
        }
        if (v < 0) {
            throw new IllegalArgumentException("token id " + v + " is negative");
        }
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("token id " + v + " is too large");
        }
        return (int) v;
    }

    /** Reads a prompts file ("-" = standard input): one JSON string or array of ids per line; blank lines skipped. */
    public static List<Prompt> readFile(String file, InputStream stdin) {
        boolean isStdin = file.equals("-");
        String name = isStdin ? "standard input" : file;
        byte[] content;
        try {
            content = isStdin ? stdin.readAllBytes() : Files.readAllBytes(Path.of(file));
        } catch (NoSuchFileException e) {
            throw new CliException("prompts file not found: " + file);
        } catch (IOException e) {
            throw new CliException("cannot read prompts file " + name + ": " + e.getMessage(), e);
        }
        return parse(content, name);
    }

    /**
     * Parses the bytes of a prompts file: UTF-8 text (a leading byte order mark is ignored), lines ended by LF, CR
     * LF or CR. A line that is not UTF-8 is reported with its number rather than decoded into replacement
     * characters, which would run as a different prompt.
     */
    static List<Prompt> parse(byte[] content, String name) {
        List<String> lines = new ArrayList<>();
        int start = content.length >= 3 && (content[0] & 0xff) == 0xEF && (content[1] & 0xff) == 0xBB
                && (content[2] & 0xff) == 0xBF ? 3 : 0;
        for (int i = start; i <= content.length; i++) {
            if (i == content.length || content[i] == '\n' || content[i] == '\r') {
                lines.add(utf8(content, start, i, "line " + (lines.size() + 1) + " of " + name));
                if (i + 1 < content.length && content[i] == '\r' && content[i + 1] == '\n') {
                    i++;
                }
                start = i + 1;
            }
        }
        return parseLines(lines, name);
    }

    private static String utf8(byte[] content, int from, int to, String where) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(content, from, to - from)).toString();
        } catch (CharacterCodingException e) {
            throw new CliException(where + ": not valid UTF-8 text");
        }
    }

    /** Parses lines of a prompts file; {@code name} is used in messages. */
    public static List<Prompt> parseLines(List<String> lines, String name) {
        List<Prompt> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            String where = "line " + (i + 1) + " of " + name;
            out.add(parseLine(line, where));
        }
        if (out.isEmpty()) {
            throw new CliException(name + " holds no prompts (expected one JSON string or array of token ids per line)");
        }
        return out;
    }

    static Prompt parseLine(String line, String where) {
        JsonNode node = oneValue(line, where);
        if (node.isTextual()) {
            return new Prompt.Text(node.textValue(), where);
        }
        if (node.isArray()) {
            if (node.isEmpty()) {
                throw new CliException(where + ": the id array is empty");
            }
            int[] ids = new int[node.size()];
            for (int k = 0; k < ids.length; k++) {
                JsonNode e = node.get(k);
                if (!e.isIntegralNumber()) {
                    throw new CliException(where + ": element " + (k + 1) + " of the array (" + e
                            + ") is not a token id (expected non-negative integers)");
                }
                if (!e.canConvertToInt() || e.intValue() < 0) {
                    throw new CliException(where + ": token id " + e + " is out of range");
                }
                ids[k] = e.intValue();
            }
            return new Prompt.Ids(ids, where);
        }
        throw new CliException(where + ": expected a JSON string (text) or an array of token ids, got "
                + describe(node));
    }

    /**
     * The line's one JSON value. Anything after it is an error, not ignored: {@code [1,2] [3]} is two prompts on one
     * line or a typo, and running only the first would hide either.
     */
    private static JsonNode oneValue(String line, String where) {
        try (JsonParser p = Json.MAPPER.createParser(line)) {
            if (p.nextToken() == null) {
                throw new CliException(where + ": not valid JSON (no value)");
            }
            JsonNode node = Json.MAPPER.readTree(p);
            int next = (int) p.currentLocation().getCharOffset();
            while (next < line.length() && " \t\r\n".indexOf(line.charAt(next)) >= 0) {
                next++;
            }
            if (next < line.length()) {
                throw new CliException(where + ": unexpected content after the JSON value at column " + (next + 1)
                        + " (one prompt per line: a string or an array of token ids)");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new CliException(where + ": not valid JSON"
                    + JsonSyntax.location(e).map(l -> " at column " + l.column()).orElse("") + " ("
                    + JsonSyntax.problem(e) + ")");
        } catch (IOException e) {
            throw new CliException(where + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static String describe(JsonNode n) {
        return switch (n.getNodeType()) {
            case OBJECT -> "an object";
            case NUMBER -> "a number (wrap ids in an array: [" + n + "])";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
