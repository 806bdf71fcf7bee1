package org.blocktransformer.loader.safetensors;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
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
import org.blocktransformer.loader.JsonSyntax;

/**
 * The parsed and validated JSON header of a safetensors file.
 *
 * <p>Format: 8 bytes little-endian unsigned header length N, N bytes of UTF-8 JSON, then the data section. The JSON
 * maps each tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to the data
 * section) and may hold a {@code "__metadata__"} object of strings. Everything a later read relies on is checked here
 * once, so that reads never go outside the file: sizes match shapes, offsets lie in the data section. As the format
 * requires (and its reference implementation checks), the tensors cover the data section exactly: no two share
 * bytes, no bytes lie between them, none follow the last one; a file with bytes nobody accounts for was not written
 * by a safetensors writer (or lost part of its header).
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
            root = JSON.readTree(utf8(file, json));
        } catch (JsonProcessingException e) {
            throw CheckpointException.inFile(file, "safetensors header is not valid JSON"
                    + JsonSyntax.location(e).map(l -> " at line " + l.line() + ", column " + l.column()).orElse("")
                    + ": " + JsonSyntax.problem(e));
        }
        if (root == null || !root.isObject()) {
            throw CheckpointException.inFile(file, "safetensors header must be a JSON object, found "
                    + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Extent> extents = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals("__metadata__")) {
                readMetadata(file, e.getValue(), metadata);
            } else if (skip.test(e.getKey())) {
                // Left unread, but its bytes are part of the data section all the same.
                extents.add(extent(file, e.getKey(), e.getValue(), dataBytes));
            } else {
                TensorInfo info = readTensor(file, e.getKey(), e.getValue(), dataBytes);
                tensors.put(e.getKey(), info);
                extents.add(new Extent(info.name(), info.begin(), info.end()));
            }
        }
        checkCoverage(file, extents, dataBytes);
        return new SafetensorsHeader(tensors, metadata);
    }

    /**
     * The header as text. It must be UTF-8: the reference refuses anything else, and a lenient decoder would turn bad
     * bytes into U+FFFD and tensor names nobody wrote.
     */
    private static String utf8(Path file, byte[] json) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(json)).toString();
        } catch (CharacterCodingException e) {
            throw CheckpointException.inFile(file, "safetensors header is not valid UTF-8");
        }
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
        Extent extent = extent(file, name, node, dataBytes);
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw CheckpointException.inTensor(file, name, "header entry has no string \"dtype\"");
        }
        DType dtype = DType.fromHeader(dtypeNode.asText()).orElseThrow(() -> CheckpointException.inTensor(file, name,
                "dtype " + dtypeNode.asText() + " is not supported (supported: F32, F16, BF16, I64)"));
        long[] shape = nonNegativeLongs(file, name, node.get("shape"), "shape", -1);
        long begin = extent.begin(), end = extent.end();
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

    /** An entry's data_offsets, checked to lie in the data section. */
    private static Extent extent(Path file, String name, JsonNode node, long dataBytes) {
        if (!node.isObject()) {
            throw CheckpointException.inTensor(file, name, "header entry must be a JSON object");
        }
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
        return new Extent(name, begin, end);
    }

    /** The bytes of one header entry, relative to the data section. */
    private record Extent(String name, long begin, long end) {
        String range() {
            return "[" + begin + ", " + end + "]";
        }
    }

    /**
     * Sorted by offsets, each entry must begin where the previous one ended, the first at 0 and the last must end
     * where the data section ends: the reference implementation's rule, so that every byte belongs to exactly one
     * tensor.
     */
    private static void checkCoverage(Path file, List<Extent> extents, long dataBytes) {
        List<Extent> sorted = new ArrayList<>(extents);
        sorted.sort(Comparator.comparingLong(Extent::begin).thenComparingLong(Extent::end));
        Extent previous = null;
        long at = 0;
        for (Extent e : sorted) {
            if (e.begin() < at) {
                throw CheckpointException.inTensor(file, e.name(), "data_offsets " + e.range() + " overlap tensor '"
                        + previous.name() + "' at " + previous.range());
            }
            if (e.begin() > at) {
                throw CheckpointException.inTensor(file, e.name(), "data_offsets " + e.range() + " leave bytes ["
                        + at + ", " + e.begin() + ") of the data section unused ("
                        + (previous == null ? "before the first tensor" : "after tensor '" + previous.name() + "'")
                        + "): tensors must cover the data section without gaps");
            }
            at = e.end();
            previous = e;
        }
        if (at != dataBytes) {
            throw CheckpointException.inFile(file, (dataBytes - at) + " trailing bytes after the "
                    + (previous == null ? "header, which lists no tensor data"
                    : "last tensor's data (tensor '" + previous.name() + "' ends at " + at + " of the " + dataBytes
                    + "-byte data section)") + ": tensors must cover the data section exactly");
        }
    }
}
