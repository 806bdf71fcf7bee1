package org.blocktransformer.loader.text;

import java.util.Arrays;
import java.util.function.Function;

/**
 * Turns a growing list of ids into text pieces. Byte-level BPE can split a character over several tokens, so the
 * text of all ids so far is decoded and only the part that has become stable (no trailing replacement character)
 * is released.
 */
public final class IncrementalDecoder {
    private final Function<int[], String> tokenizer;
    private int[] ids = new int[16];
    private int count;
    private int released;

    /** A decoder over {@code decode}, e.g. {@code tokenizer::decode}. */
    public IncrementalDecoder(Function<int[], String> tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds a token; returns the text that became stable with it (often empty mid-character, never retracted). */
    public String add(int id) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count * 2);
        }
        ids[count++] = id;
        String text = tokenizer.apply(Arrays.copyOf(ids, count));
        int stable = text.length();
        while (stable > released && text.charAt(stable - 1) == '\uFFFD') {
            stable--;
        }
        if (stable <= released) {
            return "";
        }
        String piece = text.substring(released, stable);
        released = stable;
        return piece;
    }

    /** The text not yet released (a trailing incomplete character as its replacement), at the end. */
    public String flush() {
        String text = tokenizer.apply(Arrays.copyOf(ids, count));
        String rest = text.length() > released ? text.substring(released) : "";
        released = text.length();
        return rest;
    }
}
