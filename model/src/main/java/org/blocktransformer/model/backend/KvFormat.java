package org.blocktransformer.model.backend;

import java.util.Locale;

/**
 * How a backend stores the KV cache: float32, or IEEE float16 (round to nearest even as each key and value is
 * written; attention widens exactly and computes in float32). float16 halves the bytes every decode step reads
 * and the memory a sequence holds, so twice the sequences fit; its values are rounded (relative 2^-11).
 */
public enum KvFormat {
    F32(Float.BYTES),
    F16(Short.BYTES);

    private final int bytes;

    KvFormat(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes of one stored key or value element. */
    public int bytes() {
        return bytes;
    }

    /** "f32" or "f16". */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "f32" or "f16" (any case). */
    public static KvFormat parse(String s) {
        for (KvFormat f : values()) {
            if (f.label().equalsIgnoreCase(s.trim())) {
                return f;
            }
        }
        throw new IllegalArgumentException("KV-cache format '" + s + "' is neither f32 nor f16");
    }
}
