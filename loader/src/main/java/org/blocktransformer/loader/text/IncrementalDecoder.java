package org.blocktransformer.loader.text;

import java.util.Arrays;
import org.blocktransformer.loader.tokenizer.BtTokenizer;

/**
 * Turns a growing list of ids into text pieces. Byte-level BPE can split a character over several tokens, so the
 * text of all ids so far is decoded and only the part that has become stable (no trailing replacement character)
 * is released.
 */
final class IncrementalDecoder {
    private final BtTokenizer tokenizer;
    private int[] ids = new int[16];
    private int count;
    private int released;

    IncrementalDecoder(BtTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    String add(int id) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count * 2);
        }
        ids[count++] = id;
        String text = tokenizer.decode(Arrays.copyOf(ids, count));
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

    String flush() {
        String text = tokenizer.decode(Arrays.copyOf(ids, count));
        String rest = text.length() > released ? text.substring(released) : "";
        released = text.length();
        return rest;
    }
}
