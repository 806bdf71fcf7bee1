package org.blocktransformer.server;

import java.util.Arrays;
import java.util.List;
import org.blocktransformer.loader.tokenizer.BtTokenizer;

/**
 * The text of one choice as its tokens arrive: releases only text that is final. Byte-level BPE can split a
 * character over several tokens, so all ids so far are decoded and a trailing replacement character waits for the
 * next token; text that could be the start of a stop string waits until it cannot. When a stop string appears the
 * text ends just before it.
 */
final class TextTracker {
    private final BtTokenizer tokenizer;
    private final List<String> stops;
    private final int longestStop;
    private int[] ids = new int[16];
    private int count;
    /** Characters of the text handed out so far. */
    private int released;
    private String text = "";
    private boolean stopped;

    TextTracker(BtTokenizer tokenizer, List<String> stops) {
        this.tokenizer = tokenizer;
        this.stops = stops;
        this.longestStop = stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** Length of the decoded text before the next token: its offset (OpenAI's {@code text_offset}). */
    int offset() {
        return text.length();
    }

    /** Adds a token; returns the text that became final (maybe empty). */
    String add(int id) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count * 2);
        }
        ids[count++] = id;
        if (tokenizer == null) {
            return "";
        }
        // decodeGenerated: an id past the tokenizer's vocabulary (a model's padded ids) has no text, as in Hugging
        // Face's decode, rather than failing the request.
        text = tokenizer.decodeGenerated(Arrays.copyOf(ids, count));
        int stable = text.length();
        while (stable > released && text.charAt(stable - 1) == '\uFFFD') {
            stable--;
        }
        return release(stable, false);
    }

    /** The choice ended (length or end of sequence): whatever is left, up to a stop string. */
    String finish() {
        return tokenizer == null || stopped ? "" : release(text.length(), true);
    }

    /** Whether a stop string ended the text. */
    boolean stopped() {
        return stopped;
    }

    private String release(int upTo, boolean last) {
        if (stopped) {
            return "";
        }
        int at = firstStop(upTo);
        if (at >= 0) {
            stopped = true;
            return take(at);
        }
        return take(last ? upTo : upTo - heldBack(upTo));
    }

    private String take(int upTo) {
        if (upTo <= released) {
            return "";
        }
        String piece = text.substring(released, upTo);
        released = upTo;
        return piece;
    }

    /** The earliest start of a stop string within the first {@code upTo} characters, or -1. */
    private int firstStop(int upTo) {
        int best = -1;
        // A stop can only end in the new text, so it starts at most longestStop - 1 characters before it.
        int from = Math.max(0, released - longestStop);
        String visible = text.substring(0, upTo);
        for (String s : stops) {
            int i = visible.indexOf(s, from);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }

    /** How many trailing characters of the first {@code upTo} could begin a stop string. */
    private int heldBack(int upTo) {
        int hold = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, upTo - released); k > hold; k--) {
                if (text.startsWith(s.substring(0, k), upTo - k)) {
                    hold = k;
                    break;
                }
            }
        }
        return hold;
    }

    /** The whole text handed out. */
    String released() {
        return text.substring(0, released);
    }
}
