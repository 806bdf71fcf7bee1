package org.blocktransformer.model.config;

import org.blocktransformer.model.weights.PanelMatrix;

/**
 * Keeps a configuration's sizes inside what the engine can hold. Every weight matrix, embedding table and rotary
 * table is one Java array, indexed by an int, and some sizes derived from the config are ints themselves (a block
 * model's longest sequence in tokens, its local cache length). The config records check each such product here,
 * once, when they are built, in exact long arithmetic: a {@code config.json} with sizes near 1e9 is refused there,
 * with the fields and the limit named, instead of overflowing an int later (a negative array size, a shape that
 * wrapped around, a length check that passed because the product went negative).
 */
public final class ArraySizes {

    /** The most elements one Java array can have (HotSpot refuses a few below {@link Integer#MAX_VALUE}). */
    public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private ArraySizes() {
    }

    /**
     * Refuses a matrix the CPU holds in panels of {@link PanelMatrix#PANEL} output rows (a Linear layer) whose
     * padded size exceeds one array.
     *
     * @param what   the tensor, e.g. "attention.query_key_value"
     * @param fields the config values its shape comes from, as the message shows them, e.g. "3 x hidden_size
     *               1000000000"
     */
    static void linear(String what, String fields, long rows, long cols) {
        table(what, fields, (rows + PanelMatrix.PANEL - 1) / PanelMatrix.PANEL * PanelMatrix.PANEL, cols);
    }

    /** Refuses a table of {@code rows x cols} values (an embedding, a rotary table) that exceeds one array. */
    static void table(String what, String fields, long rows, long cols) {
        // rows * cols > MAX exactly when rows > MAX / cols (integer division), without forming the product.
        if (rows > 0 && cols > 0 && rows > MAX_ELEMENTS / cols) {
            throw new IllegalArgumentException(fields + " is too large: " + what + " would hold " + rows + " x " + cols
                    + " values, and one array holds at most " + MAX_ELEMENTS);
        }
    }

    /** Refuses a derived count (tokens, positions) that does not fit an int. */
    static int count(String what, String fields, long value) {
        if (value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(fields + " is too large: " + what + " would be " + value
                    + ", more than the " + Integer.MAX_VALUE + " an int holds");
        }
        return (int) value;
    }
}
