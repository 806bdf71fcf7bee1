package org.blocktransformer.loader.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;

import org.blocktransformer.model.weights.Bf16Matrix;

/** A minimal safetensors writer for tests: well-formed files in any supported dtype, and raw malformed ones. */
public final class SafetensorsWriter {

    /** Encoded tensor bytes; the dtype as the header spells it (any string, so tests can write BOOL or U8). */
    public record Tensor(String dtype, long[] shape, byte[] data) {
        Tensor(DType dtype, long[] shape, byte[] data) {
            this(dtype.name(), shape, data);
        }
    }

    /** A tensor of any dtype from its raw little-endian bytes (e.g. BOOL or U8 buffers, one byte per element). */
    public static Tensor raw(String dtype, byte[] data, long... shape) {
        return new Tensor(dtype, shape, data);
    }

    private SafetensorsWriter() {
    }

    public static Tensor f32(float[] values, long... shape) {
        ByteBuffer b = buffer(values.length * 4);
        for (float v : values) {
            b.putFloat(v);
        }
        return new Tensor(DType.F32, shape, b.array());
    }

    public static Tensor f16(float[] values, long... shape) {
        ByteBuffer b = buffer(values.length * 2);
        for (float v : values) {
            b.putShort(Float.floatToFloat16(v));
        }
        return new Tensor(DType.F16, shape, b.array());
    }

    public static Tensor bf16(float[] values, long... shape) {
        ByteBuffer b = buffer(values.length * 2);
        for (float v : values) {
            b.putShort(Bf16Matrix.fromFloat(v));
        }
        return new Tensor(DType.BF16, shape, b.array());
    }

    public static Tensor i64(long[] values, long... shape) {
        ByteBuffer b = buffer(values.length * 8);
        for (long v : values) {
            b.putLong(v);
        }
        return new Tensor(DType.I64, shape, b.array());
    }

    /** Converts a float tensor to another float dtype. */
    public static Tensor as(DType dtype, float[] values, long... shape) {
        return switch (dtype) {
            case F32 -> f32(values, shape);
            case F16 -> f16(values, shape);
            case BF16 -> bf16(values, shape);
            case I64 -> throw new IllegalArgumentException("not a float type");
        };
    }

    /** Writes tensors in name order, contiguous, with {"format":"pt"} metadata and a header padded to 8 bytes. */
    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        StringJoiner header = new StringJoiner(",", "{", "}");
        header.add("\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        Map<String, Tensor> sorted = new TreeMap<>(tensors);
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            Tensor t = e.getValue();
            header.add(entry(e.getKey(), t.dtype(), t.shape(), offset, offset + t.data().length));
            offset += t.data().length;
        }
        byte[] data = new byte[Math.toIntExact(offset)];
        int at = 0;
        for (Tensor t : sorted.values()) {
            System.arraycopy(t.data(), 0, data, at, t.data().length);
            at += t.data().length;
        }
        String json = header.toString();
        json = json + " ".repeat((8 - json.length() % 8) % 8);
        writeRaw(file, json, data);
    }

    /** One header entry, written by hand so that tests can state any dtype, shape or offsets. */
    public static String entry(String name, String dtype, long[] shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + Arrays.toString(shape).replace(" ", "")
                + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    /** 8-byte little-endian header length, the header bytes, the data. */
    public static void writeRaw(Path file, String headerJson, byte[] data) throws IOException {
        writeRaw(file, headerJson.getBytes(StandardCharsets.UTF_8).length, headerJson, data);
    }

    /** As {@link #writeRaw(Path, String, byte[])} with a stated (possibly wrong) header length. */
    public static void writeRaw(Path file, long statedHeaderLength, String headerJson, byte[] data) throws IOException {
        byte[] json = headerJson.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = buffer(8 + json.length + data.length);
        b.putLong(statedHeaderLength).put(json).put(data);
        Files.write(file, b.array());
    }

    /** All tensors of a file, re-encoded as {@code dtype} (floats) or kept (I64). */
    public static Map<String, Tensor> readAll(Path file, DType dtype) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : f.names()) {
                TensorInfo info = f.info(name);
                out.put(name, info.dtype() == DType.I64
                        ? i64(f.longs(name, ints(info.shape())), info.shape())
                        : as(dtype, f.floats(name), info.shape()));
            }
        }
        return out;
    }

    public static int[] ints(long[] shape) {
        return Arrays.stream(shape).mapToInt(Math::toIntExact).toArray();
    }

    private static ByteBuffer buffer(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
