package org.blocktransformer.model.weights;

import java.util.Objects;

/** A float32 matrix. */
public record F32Matrix(int rows, int cols, float[] data) implements Matrix {

    public F32Matrix {
        Objects.requireNonNull(data, "data");
        if (rows <= 0 || cols <= 0 || (long) rows * cols != data.length) {
            throw new IllegalArgumentException("matrix " + rows + "x" + cols + " does not match " + data.length + " values");
        }
    }

    @Override
    public float get(int r, int c) {
        return data[r * cols + c];
    }

    @Override
    public void copyRow(int r, float[] dst, int offset) {
        System.arraycopy(data, r * cols, dst, offset, cols);
    }

    @Override
    public long bytes() {
        return 4L * data.length;
    }

    @Override
    public String dtype() {
        return "f32";
    }
}
