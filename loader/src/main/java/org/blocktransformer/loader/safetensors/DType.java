package org.blocktransformer.loader.safetensors;

import java.util.Arrays;
import java.util.Optional;

/**
 * The safetensors element types this loader reads. Weights may be stored in any of the three float types (they are
 * widened to float32 on load); I64 is for token ids in test data. Other safetensors types (F64, I32, U8, BOOL,
 * F8_*, ...) are rejected with the tensor's name rather than guessed at.
 */
public enum DType {
    F32(4),
    F16(2),
    BF16(2),
    I64(8);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    public boolean isFloat() {
        return this != I64;
    }

    /** The type spelled as in a safetensors header ("F32", "BF16", ...), if supported. */
    public static Optional<DType> fromHeader(String name) {
        return Arrays.stream(values()).filter(t -> t.name().equals(name)).findFirst();
    }
}
