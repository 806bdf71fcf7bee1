package org.blocktransformer.loader.safetensors;

import java.util.Arrays;

/**
 * One tensor's header entry.
 *
 * @param name  the tensor's key
 * @param dtype element type
 * @param shape dimensions, outermost first (row-major, as PyTorch stores them)
 * @param begin first byte, relative to the start of the data section
 * @param end   one past the last byte, relative to the start of the data section
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Product of the dimensions (1 for a scalar). */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long byteLength() {
        return end - begin;
    }

    public boolean hasShape(int... expected) {
        if (expected.length != shape.length) {
            return false;
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    /** The shape as "[64, 32]". */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + shapeString();
    }
}
