package org.blocktransformer.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Typed reads of a request object's fields, each failure a 400 that names the field and says what was expected.
 * Every field read is remembered, so {@link #rejectUnknown()} can refuse the others: a misspelt field (say
 * {@code max_token}) is an error rather than silently ignored.
 */
final class Fields {
    private final ObjectNode node;
    private final String prefix;
    private final Set<String> known = new HashSet<>();

    Fields(JsonNode node, String what) {
        if (node == null || !node.isObject()) {
            throw ApiError.invalid(what + " must be a JSON object", null);
        }
        this.node = (ObjectNode) node;
        this.prefix = "";
    }

    private Fields(ObjectNode node, String prefix) {
        this.node = node;
        this.prefix = prefix;
    }

    /** The field, or null when absent or JSON null. */
    JsonNode get(String name) {
        known.add(name);
        JsonNode v = node.get(name);
        return v == null || v.isNull() ? null : v;
    }

    boolean has(String name) {
        return get(name) != null;
    }

    String name(String field) {
        return prefix + field;
    }

    Integer integer(String field, long min, long max) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiError.invalid("'" + name(field) + "' must be an integer, got " + describe(v), name(field));
        }
        long x = v.asLong();
        if (x < min || x > max) {
            throw ApiError.invalid("'" + name(field) + "' must be in " + min + ".." + max + ", got " + x, name(field));
        }
        return (int) x;
    }

    Long longInteger(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiError.invalid("'" + name(field) + "' must be a 64-bit integer, got " + describe(v), name(field));
        }
        return v.asLong();
    }

    Double number(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw ApiError.invalid("'" + name(field) + "' must be a number, got " + describe(v), name(field));
        }
        return v.asDouble();
    }

    Boolean bool(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw ApiError.invalid("'" + name(field) + "' must be true or false, got " + describe(v), name(field));
        }
        return v.asBoolean();
    }

    String text(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiError.invalid("'" + name(field) + "' must be a string, got " + describe(v), name(field));
        }
        return v.asText();
    }

    /** A nested object's fields, or null when absent. */
    Fields object(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isObject()) {
            throw ApiError.invalid("'" + name(field) + "' must be an object, got " + describe(v), name(field));
        }
        return new Fields((ObjectNode) v, name(field) + ".");
    }

    /** A string or a list of strings (e.g. {@code stop}); empty list when absent. */
    List<String> strings(String field, int maxCount) {
        JsonNode v = get(field);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v.isTextual()) {
            out.add(v.asText());
        } else if (v.isArray()) {
            for (JsonNode e : v) {
                if (!e.isTextual()) {
                    throw ApiError.invalid("'" + name(field) + "' must be a string or a list of strings, got an"
                            + " element " + describe(e), name(field));
                }
                out.add(e.asText());
            }
        } else {
            throw ApiError.invalid("'" + name(field) + "' must be a string or a list of strings, got " + describe(v),
                    name(field));
        }
        if (out.size() > maxCount) {
            throw ApiError.invalid("'" + name(field) + "' may hold at most " + maxCount + " strings, got "
                    + out.size(), name(field));
        }
        return out;
    }

    /** Refuses a field this server does not implement unless it has its neutral value (what OpenAI assumes). */
    void onlyNeutral(String field, String neutral, boolean isNeutral) {
        if (has(field) && !isNeutral) {
            throw ApiError.invalid("'" + name(field) + "' is not supported by this server (only " + neutral
                    + " is accepted)", name(field));
        }
    }

    /** Accepts a field and ignores it (e.g. {@code user}). */
    void ignore(String field) {
        known.add(field);
    }

    void rejectUnknown() {
        for (String f : (Iterable<String>) node::fieldNames) {
            if (!known.contains(f)) {
                throw ApiError.invalid("unknown field '" + name(f) + "' (this server rejects fields it does not"
                        + " know, so that a misspelt option is not silently ignored)", name(f));
            }
        }
    }

    static String describe(JsonNode v) {
        String kind = v.isTextual() ? "a string" : v.isBoolean() ? "a boolean" : v.isArray() ? "a list"
                : v.isObject() ? "an object" : v.isNumber() ? "the number" : "null";
        String text = v.isContainerNode() ? "" : " " + Json.write(v);
        return kind + (text.length() > 40 ? text.substring(0, 40) + "..." : text);
    }
}
