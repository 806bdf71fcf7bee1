package org.blocktransformer.loader.config;

import java.nio.file.Path;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import org.blocktransformer.loader.CheckpointException;

/**
 * A JSON object of a config file with typed, checked accessors. Every error names the file and the full key path
 * (e.g. {@code block_decoder.hidden_size}). A key whose value is JSON {@code null} counts as absent, as in
 * transformers, whose configs write e.g. {@code "rope_scaling": null}.
 */
final class JsonObject {

    private final Path file;
    private final String path;
    private final JsonNode node;

    JsonObject(Path file, String path, JsonNode node) {
        this.file = file;
        this.path = path;
        this.node = node;
    }

    Path file() {
        return file;
    }

    /** Where this object sits in the file, e.g. "block_decoder"; empty for the top level. */
    String path() {
        return path;
    }

    boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    int requireInt(String key) {
        return intValue(key, require(key));
    }

    int optInt(String key, int fallback) {
        return has(key) ? intValue(key, node.get(key)) : fallback;
    }

    double requireDouble(String key) {
        return doubleValue(key, require(key));
    }

    double optDouble(String key, double fallback) {
        return has(key) ? doubleValue(key, node.get(key)) : fallback;
    }

    boolean optBoolean(String key, boolean fallback) {
        if (!has(key)) {
            return fallback;
        }
        JsonNode v = node.get(key);
        if (!v.isBoolean()) {
            throw error(key, "must be true or false, found " + v);
        }
        return v.booleanValue();
    }

    String requireString(String key) {
        return stringValue(key, require(key));
    }

    String optString(String key, String fallback) {
        return has(key) ? stringValue(key, node.get(key)) : fallback;
    }

    JsonObject requireObject(String key) {
        return objectValue(key, require(key));
    }

    Optional<JsonObject> optObject(String key) {
        return has(key) ? Optional.of(objectValue(key, node.get(key))) : Optional.empty();
    }

    /** "file: key 'a.b': problem". */
    CheckpointException error(String key, String problem) {
        return CheckpointException.inFile(file, "key '" + qualified(key) + "' " + problem);
    }

    private String qualified(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    private JsonNode require(String key) {
        if (!has(key)) {
            throw CheckpointException.inFile(file, "required key '" + qualified(key) + "' is missing");
        }
        return node.get(key);
    }

    private int intValue(String key, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw error(key, "must be an integer, found " + v);
        }
        return v.intValue();
    }

    private double doubleValue(String key, JsonNode v) {
        if (!v.isNumber()) {
            throw error(key, "must be a number, found " + v);
        }
        // JSON has no infinity, but a literal such as 1e999 overflows to one, and would pass "must be positive".
        if (!Double.isFinite(v.doubleValue())) {
            throw error(key, "must be a finite number, found " + v.asText() + " (too large for a double)");
        }
        return v.doubleValue();
    }

    private String stringValue(String key, JsonNode v) {
        if (!v.isTextual()) {
            throw error(key, "must be a string, found " + v);
        }
        return v.textValue();
    }

    private JsonObject objectValue(String key, JsonNode v) {
        if (!v.isObject()) {
            throw error(key, "must be a JSON object, found " + v);
        }
        return new JsonObject(file, qualified(key), v);
    }
}
