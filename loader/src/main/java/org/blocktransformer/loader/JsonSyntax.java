package org.blocktransformer.loader;

import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;

/**
 * A JSON syntax error as one line for a user: where (line and column) and what was wrong. Jackson's own message
 * adds a second line with its source description ("at [Source: REDACTED ...; line: 2, column: 7]") and embeds the
 * same description in some messages; neither is meant for a user of a command-line tool.
 */
public final class JsonSyntax {

    /** Jackson's location text, e.g. {@code [Source: (String)"..."; line: 1, column: 1]}. */
    private static final Pattern SOURCE_LOCATION = Pattern.compile("\\[Source: .*?; line: (\\d+), column: (\\d+)]");
    /** Where a limit comes from, e.g. {@code , from `StreamReadConstraints.getMaxNestingDepth()`}. */
    private static final Pattern LIMIT_SOURCE = Pattern.compile(", from `[^`]*`");

    private JsonSyntax() {
    }

    /** {@code "FILE:LINE:COLUMN: not valid JSON: PROBLEM"} (without the position when Jackson has none). */
    public static String inFile(Path file, JsonProcessingException e) {
        return file + location(e).map(l -> ":" + l.line() + ":" + l.column()).orElse("") + ": not valid JSON: "
                + problem(e);
    }

    /** Where the parser stopped, when it knows. */
    public static Optional<Position> location(JsonProcessingException e) {
        JsonLocation l = e.getLocation();
        if (l == null || l.getLineNr() < 1 || l.getColumnNr() < 1) {
            return Optional.empty();
        }
        return Optional.of(new Position(l.getLineNr(), l.getColumnNr()));
    }

    /** What was wrong, on one line, without Jackson's source descriptions. */
    public static String problem(JsonProcessingException e) {
        if (e instanceof MismatchedInputException && String.valueOf(e.getOriginalMessage()).startsWith("Trailing token")) {
            return "unexpected content after the JSON value";
        }
        String m = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
        m = SOURCE_LOCATION.matcher(m).replaceAll("line $1, column $2");
        m = LIMIT_SOURCE.matcher(m).replaceAll("");
        return m.replaceAll("[\\r\\n]+", " ").strip();
    }

    /** A 1-based line and column. */
    public record Position(int line, int column) {
    }
}
