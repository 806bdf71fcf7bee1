package org.blocktransformer.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** The server's JSON: one mapper, compact output, and the OpenAI error body. */
final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder().build();

    private Json() {
    }

    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    static ArrayNode array() {
        return MAPPER.createArrayNode();
    }

    static ArrayNode ids(int[] ids) {
        ArrayNode a = array();
        for (int id : ids) {
            a.add(id);
        }
        return a;
    }

    static ArrayNode ids(List<Integer> ids) {
        ArrayNode a = array();
        ids.forEach(a::add);
        return a;
    }

    static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    static ObjectNode error(ApiError e) {
        ObjectNode error = object();
        error.put("message", e.getMessage());
        error.put("type", e.type);
        error.put("param", e.param);
        error.put("code", e.code);
        ObjectNode body = object();
        body.set("error", error);
        return body;
    }
}
