package org.blocktransformer.loader.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Predicate;

import org.blocktransformer.loader.CheckpointException;
import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.PanelMatrix;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * One safetensors file, memory-mapped read-only through the FFM API. The header is validated when the file is opened
 * (see {@link SafetensorsHeader}); reads then copy a tensor's bytes into a Java array, so nothing returned refers to
 * the mapping after {@link #close()}, which unmaps the file at once (a shared arena, so that reads may run on any
 * thread).
 */
public final class SafetensorsFile implements TensorSource {

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final Arena arena;
    private final MemorySegment data;
    private final SafetensorsHeader header;

    private SafetensorsFile(Path file, Arena arena, MemorySegment data, SafetensorsHeader header) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.header = header;
    }

    /** Maps and validates {@code file}. */
    public static SafetensorsFile open(Path file) {
        return open(file, name -> false);
    }

    /**
     * Maps and validates {@code file}, leaving out the tensors {@code skip} names (unread and unchecked, whatever
     * their dtype: for the non-parameter buffers of a checkpoint).
     */
    public static SafetensorsFile open(Path file, Predicate<String> skip) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw tooShort(file, size);
            }
            return of(file, channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena), arena, skip);
        } catch (NoSuchFileException e) {
            arena.close();
            throw CheckpointException.inFile(file, "file not found");
        } catch (IOException e) {
            arena.close();
            throw new CheckpointException(file + ": cannot read: " + e, e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Validates the bytes of a whole safetensors file (mapped by {@link #open}, or in memory, e.g. for tests) and
     * reads tensors from them; {@link #close()} closes {@code arena}.
     *
     * @param file for messages
     */
    static SafetensorsFile of(Path file, MemorySegment whole, Arena arena, Predicate<String> skip) {
        long size = whole.byteSize();
        if (size < 8) {
            throw tooShort(file, size);
        }
        long headerLength = whole.get(I64_LE, 0);
        if (headerLength < 0 || headerLength > size - 8) {
            throw CheckpointException.inFile(file, "header length " + Long.toUnsignedString(headerLength)
                    + " is larger than the " + (size - 8) + " bytes that follow it: not a safetensors file, or"
                    + " truncated");
        }
        if (headerLength > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw CheckpointException.inFile(file, "header length " + headerLength + " exceeds the limit of "
                    + SafetensorsHeader.MAX_HEADER_BYTES + " bytes");
        }
        byte[] json = whole.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        long dataStart = 8 + headerLength;
        SafetensorsHeader header = SafetensorsHeader.parse(file, json, size - dataStart, skip);
        return new SafetensorsFile(file, arena, whole.asSlice(dataStart), header);
    }

    private static CheckpointException tooShort(Path file, long size) {
        return CheckpointException.inFile(file, "file is " + size
                + " bytes, too short for the 8-byte header length of a safetensors file");
    }

    public Path path() {
        return file;
    }

    /** The {@code __metadata__} strings, e.g. {@code {"format": "pt"}}. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    @Override
    public SortedSet<String> names() {
        return new TreeSet<>(header.tensors().keySet());
    }

    @Override
    public boolean has(String name) {
        return header.tensors().containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo info = header.tensors().get(name);
        if (info == null) {
            throw CheckpointException.inTensor(file, name, "no such tensor in this file");
        }
        return info;
    }

    @Override
    public Path fileOf(String name) {
        info(name);
        return file;
    }

    @Override
    public float[] floats(String name) {
        TensorInfo info = info(name);
        requireFloat(info);
        return readFloats(info);
    }

    @Override
    public float[] floats(String name, int... expectedShape) {
        TensorInfo info = checked(name, expectedShape);
        requireFloat(info);
        return readFloats(info);
    }

    @Override
    public short[] bf16(String name, int... expectedShape) {
        TensorInfo info = checked(name, expectedShape);
        requireFloat(info);
        if (info.dtype() == DType.BF16) {
            return readBits(info);
        }
        float[] f = readFloats(info);
        short[] out = new short[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = Bf16Matrix.fromFloat(f[i]);
        }
        return out;
    }

    @Override
    public short[] f16(String name, int... expectedShape) {
        TensorInfo info = checked(name, expectedShape);
        requireFloat(info);
        if (info.dtype() == DType.F16) {
            return readBits(info);
        }
        float[] f = readFloats(info);
        short[] out = new short[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = toF16(info, i, f[i]);
        }
        return out;
    }

    @Override
    public PanelMatrix panels(String name, int rows, int cols, WeightFormat format) {
        TensorInfo info = checked(name, new int[] {rows, cols});
        requireFloat(info);
        return switch (format) {
            case F32 -> PanelMatrix.packFloats(rows, cols, (r, dst) -> floatRow(info, r, dst));
            case BF16, F16 -> PanelMatrix.packBits(rows, cols, format, (r, dst) -> {
                if (info.dtype() == (format == WeightFormat.BF16 ? DType.BF16 : DType.F16)) {
                    readBits(info, (long) r * cols, dst, 0, cols);
                } else {
                    float[] f = new float[cols];
                    floatRow(info, r, f);
                    for (int c = 0; c < cols; c++) {
                        long at = (long) r * cols + c;
                        dst[c] = format == WeightFormat.BF16 ? Bf16Matrix.fromFloat(f[c]) : toF16(info, at, f[c]);
                    }
                }
            });
        };
    }

    /** Row r of a float matrix tensor of {@code dst.length} columns, widened to float32 and checked. */
    private void floatRow(TensorInfo info, int r, float[] dst) {
        int cols = dst.length;
        readFloats(info, (long) r * cols, dst, 0, cols, info.dtype() == DType.F32 ? null : new short[cols]);
    }

    @Override
    public long[] longs(String name, int... expectedShape) {
        TensorInfo info = checked(name, expectedShape);
        if (info.dtype() != DType.I64) {
            throw CheckpointException.inTensor(file, name, "expected dtype I64 but found " + info.dtype());
        }
        long[] out = new long[count(info)];
        MemorySegment.copy(data, I64_LE, info.begin(), out, 0, out.length);
        return out;
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + file + ", " + header.tensors().size() + " tensors]";
    }

    private TensorInfo checked(String name, int[] expectedShape) {
        TensorInfo info = info(name);
        if (!info.hasShape(expectedShape)) {
            throw CheckpointException.inTensor(file, name, "expected shape " + Arrays.toString(expectedShape)
                    + " but found " + info.shapeString());
        }
        return info;
    }

    private void requireFloat(TensorInfo info) {
        if (!info.dtype().isFloat()) {
            throw CheckpointException.inTensor(file, info.name(), "expected a float tensor (F32, F16 or BF16) but found "
                    + info.dtype());
        }
    }

    private int count(TensorInfo info) {
        long n = info.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw CheckpointException.inTensor(file, info.name(), "has " + n
                    + " elements, more than one Java array can hold");
        }
        return (int) n;
    }

    /** The whole float tensor, widened to float32, in chunks that are checked while they are in the cache. */
    private float[] readFloats(TensorInfo info) {
        int n = count(info);
        float[] out = new float[n];
        short[] raw = info.dtype() == DType.F32 ? null : new short[Math.min(n, FiniteValues.CHUNK)];
        for (int at = 0; at < n; at += FiniteValues.CHUNK) {
            readFloats(info, at, out, at, Math.min(FiniteValues.CHUNK, n - at), raw);
        }
        return out;
    }

    /**
     * {@code count} values from element {@code first} of a float tensor into {@code dst[at..]}, widened to float32
     * ({@code raw} holds 16-bit values on the way); a NaN or an infinity among them is refused.
     */
    private void readFloats(TensorInfo info, long first, float[] dst, int at, int count, short[] raw) {
        long offset = info.begin() + first * info.dtype().bytes();
        switch (info.dtype()) {
            case F32 -> {
                MemorySegment.copy(data, F32_LE, offset, dst, at, count);
                int bad = FiniteValues.firstNonFinite(dst, at, at + count);
                if (bad >= 0) {
                    throw nonFinite(info, first + bad - at, dst[bad]);
                }
            }
            case F16, BF16 -> {
                readBits(info, first, raw, 0, count);
                boolean f16 = info.dtype() == DType.F16;
                for (int i = 0; i < count; i++) {
                    dst[at + i] = f16 ? Float.float16ToFloat(raw[i]) : Bf16Matrix.toFloat(raw[i]);
                }
            }
            case I64 -> throw new IllegalStateException("checked by requireFloat");
        }
    }

    /** The whole 16-bit float tensor's bits as stored, checked chunk by chunk. */
    private short[] readBits(TensorInfo info) {
        int n = count(info);
        short[] out = new short[n];
        for (int at = 0; at < n; at += FiniteValues.CHUNK) {
            readBits(info, at, out, at, Math.min(FiniteValues.CHUNK, n - at));
        }
        return out;
    }

    /** {@code count} bits from element {@code first} of a 16-bit float tensor into {@code dst[at..]}, checked. */
    private void readBits(TensorInfo info, long first, short[] dst, int at, int count) {
        MemorySegment.copy(data, I16_LE, info.begin() + 2 * first, dst, at, count);
        int bad = FiniteValues.firstNonFinite(dst, at, at + count, info.dtype());
        if (bad >= 0) {
            throw nonFinite(info, first + bad - at, FiniteValues.widen(dst[bad], info.dtype()));
        }
    }

    /** Element {@code index} of a tensor rounded to float16; beyond float16's range it is an error naming it. */
    private short toF16(TensorInfo info, long index, float value) {
        try {
            return F16Matrix.fromFloat(value);
        } catch (IllegalArgumentException e) {
            throw CheckpointException.inTensor(file, info.name(), "index " + index + ": " + e.getMessage());
        }
    }

    private CheckpointException nonFinite(TensorInfo info, long index, float value) {
        long[] shape = info.shape();
        String where = shape.length == 2 ? " (row " + index / shape[1] + ", column " + index % shape[1] + ")" : "";
        return CheckpointException.inTensor(file, info.name(), "holds " + value + " at index " + index + where
                + " (weights must be finite)");
    }
}
