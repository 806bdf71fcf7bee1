package org.blocktransformer.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** Jackson's errors as one line: position first, then what was wrong, no source descriptions. */
class JsonSyntaxTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonProcessingException error(String json) {
        return assertThrows(JsonProcessingException.class, () -> JSON.readTree(json));
    }

    @Test
    void positionAndProblem() {
        assertEquals("c.json:2:3: not valid JSON: Unexpected end-of-input: expected close marker for Array (start"
                + " marker at line 1, column 1)", JsonSyntax.inFile(Path.of("c.json"), error("[1,\n 2")));
    }

    @Test
    void limitsWithoutTheirSourceInJackson() {
        assertEquals("Document nesting depth (1001) exceeds the maximum allowed (1000)",
                JsonSyntax.problem(error("[".repeat(1001) + "]".repeat(1001))));
    }
}
