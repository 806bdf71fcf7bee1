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
            short[] out = new short[count(info)];
            MemorySegment.copy(data, I16_LE, info.begin(), out, 0, out.length);
            return out;
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
        short[] out = new short[count(info)];
        if (info.dtype() == DType.F16) {
            MemorySegment.copy(data, I16_LE, info.begin(), out, 0, out.length);
            for (int i = 0; i < out.length; i++) {
                if ((out[i] & 0x7C00) == 0x7C00) {
                    throw CheckpointException.inTensor(file, name, "holds " + Float.float16ToFloat(out[i])
                            + " at index " + i + " (weights must be finite)");
                }
            }
            return out;
        }
        float[] f = readFloats(info);
        for (int i = 0; i < f.length; i++) {
            try {
                out[i] = F16Matrix.fromFloat(f[i]);
            } catch (IllegalArgumentException e) {
                throw CheckpointException.inTensor(file, name, "index " + i + ": " + e.getMessage());
            }
        }
        return out;
    }

    @Override
    public PanelMatrix panels(String name, int rows, int cols, WeightFormat format) {
        TensorInfo info = checked(name, new int[] {rows, cols});
        requireFloat(info);
        return switch (format) {
            case F32 -> PanelMatrix.packFloats(rows, cols, (r, dst) -> floatRow(info, r, dst));
            case BF16 -> PanelMatrix.packBits(rows, cols, WeightFormat.BF16, (r, dst) -> {
                if (info.dtype() == DType.BF16) {
                    MemorySegment.copy(data, I16_LE, info.begin() + 2L * r * cols, dst, 0, cols);
                } else {
                    float[] f = new float[cols];
                    floatRow(info, r, f);
                    for (int c = 0; c < cols; c++) {
                        dst[c] = Bf16Matrix.fromFloat(f[c]);
                    }
                }
            });
            case F16 -> PanelMatrix.packBits(rows, cols, WeightFormat.F16, (r, dst) -> {
                if (info.dtype() == DType.F16) {
                    MemorySegment.copy(data, I16_LE, info.begin() + 2L * r * cols, dst, 0, cols);
                    for (int c = 0; c < cols; c++) {
                        if ((dst[c] & 0x7C00) == 0x7C00) {
                            throw CheckpointException.inTensor(file, name, "holds " + Float.float16ToFloat(dst[c])
                                    + " at index " + ((long) r * cols + c) + " (weights must be finite)");
                        }
                    }
                } else {
                    float[] f = new float[cols];
                    floatRow(info, r, f);
                    for (int c = 0; c < cols; c++) {
                        try {
                            dst[c] = F16Matrix.fromFloat(f[c]);
                        } catch (IllegalArgumentException e) {
                            throw CheckpointException.inTensor(file, name, "index " + ((long) r * cols + c) + ": "
                                    + e.getMessage());
                        }
                    }
                }
            });
        };
    }

    /** Row r of a float matrix tensor of {@code dst.length} columns, widened to float32. */
    private void floatRow(TensorInfo info, int r, float[] dst) {
        int cols = dst.length;
        long at = info.begin() + (long) r * cols * info.dtype().bytes();
        switch (info.dtype()) {
            case F32 -> MemorySegment.copy(data, F32_LE, at, dst, 0, cols);
            case F16, BF16 -> {
                short[] raw = new short[cols];
                MemorySegment.copy(data, I16_LE, at, raw, 0, cols);
                boolean f16 = info.dtype() == DType.F16;
                for (int c = 0; c < cols; c++) {
                    dst[c] = f16 ? Float.float16ToFloat(raw[c]) : Bf16Matrix.toFloat(raw[c]);
                }
            }
            case I64 -> throw new IllegalStateException("checked by requireFloat");
        }
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

    private float[] readFloats(TensorInfo info) {
        int n = count(info);
        float[] out = new float[n];
        switch (info.dtype()) {
            case F32 -> MemorySegment.copy(data, F32_LE, info.begin(), out, 0, n);
            case F16, BF16 -> {
                short[] raw = new short[n];
                MemorySegment.copy(data, I16_LE, info.begin(), raw, 0, n);
                if (info.dtype() == DType.F16) {
                    for (int i = 0; i < n; i++) {
                        out[i] = Float.float16ToFloat(raw[i]);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        out[i] = Bf16Matrix.toFloat(raw[i]);
                    }
                }
            }
            case I64 -> throw new IllegalStateException("checked by requireFloat");
        }
        return out;
    }
}
