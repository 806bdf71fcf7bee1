package org.blocktransformer.model.weights;

/** A matrix stored in 16 bits per weight (bfloat16 or float16 bits), widened to float32 for arithmetic. */
public sealed interface HalfMatrix extends Matrix permits Bf16Matrix, F16Matrix {

    /** The weights' bits, row-major. */
    short[] data();

    /** {@link WeightFormat#BF16} or {@link WeightFormat#F16}. */
    WeightFormat format();

    /** One weight's bits as float32, exactly. */
    float widen(short bits);

    @Override
    default float get(int r, int c) {
        return widen(data()[r * cols() + c]);
    }

    @Override
    default void copyRow(int r, float[] dst, int offset) {
        short[] data = data();
        int cols = cols();
        int base = r * cols;
        for (int c = 0; c < cols; c++) {
            dst[offset + c] = widen(data[base + c]);
        }
    }

    @Override
    default long bytes() {
        return 2L * data().length;
    }

    /** {@code f} rounded to nearest even in {@code format}'s bits (float16 refuses values beyond its range). */
    static short round(WeightFormat format, float f) {
        return switch (format) {
            case BF16 -> Bf16Matrix.fromFloat(f);
            case F16 -> F16Matrix.fromFloat(f);
            case F32 -> throw new IllegalArgumentException("float32 is not a 16-bit format");
        };
    }

    /** The {@code format} matrix of {@code rows x cols} holding {@code data}. */
    static HalfMatrix of(WeightFormat format, int rows, int cols, short[] data) {
        return switch (format) {
            case BF16 -> new Bf16Matrix(rows, cols, data);
            case F16 -> new F16Matrix(rows, cols, data);
            case F32 -> throw new IllegalArgumentException("float32 is not a 16-bit format");
        };
    }

    /** Checks a matrix's shape against its number of values. */
    static void checkShape(int rows, int cols, short[] data) {
        if (rows <= 0 || cols <= 0 || (long) rows * cols != data.length) {
            throw new IllegalArgumentException("matrix " + rows + "x" + cols + " does not match " + data.length + " values");
        }
    }
}
