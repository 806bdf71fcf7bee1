package org.blocktransformer.model.weights;

/** A matrix stored in 16 bits per weight (bfloat16 or float16 bits), widened to float32 for arithmetic. */
public sealed interface HalfMatrix extends Matrix permits Bf16Matrix, F16Matrix {

    /** The weights' bits, row-major. */
    short[] data();

    /** {@link WeightFormat#BF16} or {@link WeightFormat#F16}. */
    WeightFormat format();

    /** Checks a matrix's shape against its number of values. */
    static void checkShape(int rows, int cols, short[] data) {
        if (rows <= 0 || cols <= 0 || (long) rows * cols != data.length) {
            throw new IllegalArgumentException("matrix " + rows + "x" + cols + " does not match " + data.length + " values");
        }
    }
}
