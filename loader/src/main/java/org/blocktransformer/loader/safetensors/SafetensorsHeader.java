package org.blocktransformer.loader.safetensors;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import org.blocktransformer.loader.CheckpointException;

/**
 * The parsed and validated JSON header of a safetensors file.
 *
 * <p>Format: 8 bytes little-endian unsigned header length N, N bytes of UTF-8 JSON, then the data section. The JSON
 * maps each tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to the data
 * section) and may hold a {@code "__metadata__"} object of strings. Everything a later read relies on is checked here
 * once, so that reads never go outside the file: sizes match shapes, offsets lie in the data section, no two tensors
 * share bytes.
 *
 * @param tensors  header entries in file order
 * @param metadata the {@code __metadata__} strings (empty when absent)
 */
public record SafetensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata) {

    /** The reference implementation refuses headers above 100 MB; so do we, before allocating anything. */
    static final long MAX_HEADER_BYTES = 100L << 20;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    public SafetensorsHeader {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = Map.copyOf(metadata);
    }

    /**
     * Validates the header.
     *
     * @param file      for messages
     * @param json      the header bytes
     * @param dataBytes size of the data section (file size - 8 - header length)
     * @param skip      names of entries to leave out unread, whatever their dtype (non-parameter buffers)
     */
    static SafetensorsHeader parse(Path file, byte[] json, long dataBytes, Predicate<String> skip) {
        JsonNode root;
        try {
            root = JSON.readTree(new String(json, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw CheckpointException.inFile(file, "safetensors header is not valid JSON: "
                    + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw CheckpointException.inFile(file, "safetensors header must be a JSON object, found "
                    + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase()));
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals("__metadata__")) {
                readMetadata(file, e.getValue(), metadata);
            } else if (!skip.test(e.getKey())) {
                tensors.put(e.getKey(), readTensor(file, e.getKey(), e.getValue(), dataBytes));
            }
        }
        checkNoOverlap(file, tensors.values());
        return new SafetensorsHeader(tensors, metadata);
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) {
            throw CheckpointException.inFile(file, "__metadata__ must be a JSON object");
        }
        node.properties().forEach(m -> {
            if (!m.getValue().isTextual()) {
                throw CheckpointException.inFile(file, "__metadata__ value '" + m.getKey() + "' must be a string");
            }
            out.put(m.getKey(), m.getValue().asText());
        });
    }

    private static TensorInfo readTensor(Path file, String name, JsonNode node, long dataBytes) {
        if (!node.isObject()) {
            throw CheckpointException.inTensor(file, name, "header entry must be a JSON object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw CheckpointException.inTensor(file, name, "header entry has no string \"dtype\"");
        }
        DType dtype = DType.fromHeader(dtypeNode.asText()).orElseThrow(() -> CheckpointException.inTensor(file, name,
                "dtype " + dtypeNode.asText() + " is not supported (supported: F32, F16, BF16, I64)"));
        long[] shape = nonNegativeLongs(file, name, node.get("shape"), "shape", -1);
        long[] offsets = nonNegativeLongs(file, name, node.get("data_offsets"), "data_offsets", 2);
        long begin = offsets[0], end = offsets[1];
        if (begin > end) {
            throw CheckpointException.inTensor(file, name, "data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > dataBytes) {
            throw CheckpointException.inTensor(file, name, "data_offsets [" + begin + ", " + end
                    + "] run past the end of the data section (" + dataBytes + " bytes): the file is truncated or the"
                    + " offsets are out of range");
        }
        TensorInfo info = new TensorInfo(name, dtype, shape, begin, end);
        long elements;
        try {
            elements = info.elementCount();
            long needed = Math.multiplyExact(elements, dtype.bytes());
            if (needed != info.byteLength()) {
                throw CheckpointException.inTensor(file, name, "data_offsets [" + begin + ", " + end + "] hold "
                        + info.byteLength() + " bytes but shape " + info.shapeString() + " of " + dtype + " needs "
                        + needed + " bytes");
            }
        } catch (ArithmeticException overflow) {
            throw CheckpointException.inTensor(file, name, "shape " + info.shapeString() + " is too large");
        }
        return info;
    }

    private static long[] nonNegativeLongs(Path file, String name, JsonNode node, String key, int requiredLength) {
        if (node == null || !node.isArray()) {
            throw CheckpointException.inTensor(file, name, "header entry has no array \"" + key + "\"");
        }
        if (requiredLength >= 0 && node.size() != requiredLength) {
            throw CheckpointException.inTensor(file, name, "\"" + key + "\" must have " + requiredLength
                    + " entries, found " + node);
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                throw CheckpointException.inTensor(file, name, "\"" + key + "\" must hold non-negative integers, found "
                        + node);
            }
            values[i] = v.asLong();
        }
        return values;
    }

    /** Sorted by start, each tensor with bytes must begin at or after the end of every earlier one. */
    private static void checkNoOverlap(Path file, Iterable<TensorInfo> all) {
        List<TensorInfo> sorted = new ArrayList<>();
        for (TensorInfo t : all) {
            if (t.byteLength() > 0) {
                sorted.add(t);
            }
        }
        sorted.sort(Comparator.comparingLong(TensorInfo::begin));
        TensorInfo furthest = null;
        for (TensorInfo t : sorted) {
            if (furthest != null && t.begin() < furthest.end()) {
                throw CheckpointException.inTensor(file, t.name(), "data_offsets [" + t.begin() + ", " + t.end()
                        + "] overlap tensor '" + furthest.name() + "' at [" + furthest.begin() + ", " + furthest.end()
                        + "]");
            }
            if (furthest == null || t.end() > furthest.end()) {
                furthest = t;
            }
        }
    }
}
