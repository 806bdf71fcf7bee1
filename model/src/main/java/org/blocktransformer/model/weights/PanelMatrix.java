package org.blocktransformer.model.weights;

import java.util.Objects;
import java.util.stream.IntStream;

/**
 * A weight matrix laid out for the CPU matmul: outputs in panels of {@link #PANEL}, each panel stored k-major
 * ({@code panel p, input k, output j} at {@code (p*K + k)*PANEL + j}), zero-padded past the last output; float32
 * in {@link #f32}, or 16-bit bits ({@link WeightFormat#BF16} / {@link WeightFormat#F16}) in {@link #half}.
 *
 * <p>Why this layout: the kernels vectorise over outputs, accumulating every output lane in k order with FMAs and
 * no horizontal reductions, which keeps results bitwise independent of the batch, the JIT tier and the vector width
 * (see {@code CpuKernels}). A loader can build it straight from the file ({@link MatrixLayout#PANELS}), so the CPU
 * backend holds the weights once.
 */
public record PanelMatrix(int rows, int cols, float[] f32, short[] half, WeightFormat format) implements Matrix {

    /** Outputs per panel: four 512-bit vectors. */
    public static final int PANEL = 64;

    public PanelMatrix {
        Objects.requireNonNull(format, "format");
        long size = size(rows, cols);
        if ((format == WeightFormat.F32) != (f32 != null) || (f32 == null) == (half == null)) {
            throw new IllegalArgumentException("a " + format + " panel matrix needs exactly its own array");
        }
        int length = f32 != null ? f32.length : half.length;
        if (length != size) {
            throw new IllegalArgumentException("panels of " + rows + "x" + cols + " hold " + size + " values, not "
                    + length);
        }
    }

    /** Values a {@code rows x cols} matrix takes in panels (rows padded to whole panels). */
    public static long size(int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("matrix " + rows + "x" + cols + " is empty");
        }
        long size = (long) ((rows + PANEL - 1) / PANEL) * PANEL * cols;
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("matrix " + rows + "x" + cols + " is too large for one array");
        }
        return size;
    }

    public int panels() {
        return (rows + PANEL - 1) / PANEL;
    }

    /** Where element (r, c) sits. */
    public static int index(int r, int c, int cols) {
        return ((r / PANEL) * cols + c) * PANEL + r % PANEL;
    }

    public boolean isHalf() {
        return half != null;
    }

    /** Weight {@code at} (a panel index) as float32, exactly (both 16-bit formats widen without rounding). */
    public float weight(int at) {
        return switch (format) {
            case F32 -> f32[at];
            case BF16 -> Bf16Matrix.toFloat(half[at]);
            case F16 -> F16Matrix.toFloat(half[at]);
        };
    }

    @Override
    public float get(int r, int c) {
        return weight(index(r, c, cols));
    }

    @Override
    public void copyRow(int r, float[] dst, int offset) {
        int at = index(r, 0, cols);
        for (int c = 0; c < cols; c++, at += PANEL) {
            dst[offset + c] = weight(at);
        }
    }

    @Override
    public long bytes() {
        return (long) format.bytesPerWeight() * (f32 != null ? f32.length : half.length);
    }

    @Override
    public String dtype() {
        return format.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Reads row r of a float32 matrix being packed. */
    @FunctionalInterface
    public interface FloatRows {
        void read(int r, float[] dst);
    }

    /** Reads row r of a 16-bit matrix being packed, as its bits. */
    @FunctionalInterface
    public interface BitRows {
        void read(int r, short[] dst);
    }

    /** A float32 matrix packed row by row from {@code source}, panels in parallel (see {@link #panelRange}). */
    public static PanelMatrix packFloats(int rows, int cols, FloatRows source) {
        float[] f32 = new float[(int) size(rows, cols)];
        panelRange(rows, cols).forEach(p -> {
            float[] row = new float[cols];
            for (int r = p * PANEL; r < Math.min(rows, (p + 1) * PANEL); r++) {
                source.read(r, row);
                int base = index(r, 0, cols);
                for (int c = 0; c < cols; c++) {
                    f32[base + c * PANEL] = row[c];
                }
            }
        });
        return new PanelMatrix(rows, cols, f32, null, WeightFormat.F32);
    }

    /** A bfloat16 or float16 matrix packed row by row from {@code source}'s bits, panels in parallel. */
    public static PanelMatrix packBits(int rows, int cols, WeightFormat format, BitRows source) {
        if (format == WeightFormat.F32) {
            throw new IllegalArgumentException("float32 is not a 16-bit format");
        }
        short[] half = new short[(int) size(rows, cols)];
        panelRange(rows, cols).forEach(p -> {
            short[] row = new short[cols];
            for (int r = p * PANEL; r < Math.min(rows, (p + 1) * PANEL); r++) {
                source.read(r, row);
                int base = index(r, 0, cols);
                for (int c = 0; c < cols; c++) {
                    half[base + c * PANEL] = row[c];
                }
            }
        });
        return new PanelMatrix(rows, cols, null, half, format);
    }

    /**
     * The panels to fill, in parallel on the common pool for matrices of a million weights or more: each panel is
     * written by one task, so the result does not depend on the split.
     */
    private static IntStream panelRange(int rows, int cols) {
        IntStream panels = IntStream.range(0, (rows + PANEL - 1) / PANEL);
        return (long) rows * cols >= 1 << 20 ? panels.parallel() : panels;
    }

    /** {@code m} in panels, in its own format (a panel matrix is returned as it is). */
    public static PanelMatrix of(Matrix m) {
        return switch (m) {
            case PanelMatrix p -> p;
            case F32Matrix f -> packFloats(f.rows(), f.cols(),
                    (r, dst) -> System.arraycopy(f.data(), r * f.cols(), dst, 0, f.cols()));
            case HalfMatrix h -> packBits(h.rows(), h.cols(), h.format(),
                    (r, dst) -> System.arraycopy(h.data(), r * h.cols(), dst, 0, h.cols()));
        };
    }
}
