package org.blocktransformer.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
        try (Reader r = isStdin
                ? new InputStreamReader(stdin, StandardCharsets.UTF_8)
                : Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
            return parseLines(new BufferedReader(r).lines().toList(), name);
        } catch (NoSuchFileException e) {
            throw new CliException("prompts file not found: " + file);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new CliException("cannot read prompts file " + name + ": " + e.getMessage(), e);
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
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            throw new CliException(where + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (node == null) {
            throw new CliException(where + ": not valid JSON");
        }
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
