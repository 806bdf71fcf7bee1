package org.blocktransformer.loader;

/**
 * Error messages are one line on a terminal, yet they quote what the files hold: a tensor name, a key, a value, a
 * path may contain a line break or a terminal escape. Those characters are written as Java escapes instead.
 */
public final class OneLine {

    private OneLine() {
    }

    /** {@code text} with line breaks and other control characters (tabs excepted) escaped. */
    public static String of(String text) {
        if (text == null || text.chars().noneMatch(OneLine::breaks)) {
            return text;
        }
        StringBuilder sb = new StringBuilder(text.length() + 16);
        text.chars().forEach(c -> {
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (breaks(c)) {
                        sb.append(String.format("\\u%04x", c));
                    } else {
                        sb.append((char) c);
                    }
                }
            }
        });
        return sb.toString();
    }

    private static boolean breaks(int c) {
        return c != '\t' && (Character.isISOControl(c) || c == '\u2028' || c == '\u2029');
    }
}
