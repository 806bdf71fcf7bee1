package org.blocktransformer.model.config;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.blocktransformer.model.weights.PanelMatrix;
import org.junit.jupiter.api.Test;

/** The limits at their edges: the largest size that fits passes, one more is refused. */
class ArraySizesTest {

    private static final long MAX = ArraySizes.MAX_ELEMENTS;

    @Test
    void aTableFitsUpToTheLimitExactly() {
        assertDoesNotThrow(() -> ArraySizes.table("t", "f", MAX, 1));
        assertDoesNotThrow(() -> ArraySizes.table("t", "f", 1, MAX));
        var e = assertThrows(IllegalArgumentException.class, () -> ArraySizes.table("t", "f", MAX + 1, 1));
        assertEquals("f is too large: t would hold " + (MAX + 1) + " x 1 values, and one array holds at most " + MAX,
                e.getMessage());
        // A product beyond a long is refused too, not wrapped around.
        assertThrows(IllegalArgumentException.class, () -> ArraySizes.table("t", "f", Long.MAX_VALUE / 2, 4));
    }

    /** A Linear layer is held in whole panels of output rows, so its limit counts the padding. */
    @Test
    void aLinearLayerCountsItsPaddedRows() {
        long cols = 1 << 20; // 2047 rows of it fit one array; 2048 (32 panels of 64) do not
        assertDoesNotThrow(() -> ArraySizes.linear("w", "f", 31 * PanelMatrix.PANEL, cols));
        assertDoesNotThrow(() -> ArraySizes.table("w", "f", 31 * PanelMatrix.PANEL + 1, cols));
        assertThrows(IllegalArgumentException.class,
                () -> ArraySizes.linear("w", "f", 31 * PanelMatrix.PANEL + 1, cols));
    }

    @Test
    void countsMustBeInts() {
        assertEquals(Integer.MAX_VALUE, ArraySizes.count("c", "f", Integer.MAX_VALUE));
        var e = assertThrows(IllegalArgumentException.class, () -> ArraySizes.count("c", "f", 1L << 31));
        assertTrue(e.getMessage().startsWith("f is too large: c would be 2147483648"), e.getMessage());
    }

    /** The records call the checks: a stack, a vanilla model and a block model each refuse a size that overflows. */
    @Test
    void theConfigRecordsRefuseSizesBeyondAnArray() {
        assertThrows(IllegalArgumentException.class, () -> NeoXConfig.pythia(1 << 20, 1, 1 << 10, 64, 64));
        NeoXConfig stack = NeoXConfig.pythia(64, 1, 2, 48, 64);
        assertThrows(IllegalArgumentException.class, () -> new VanillaConfig(1 << 30, stack, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new BlockConfig(4, 512,
                new EmbedderConfig(16, EmbedderProjection.CONCAT), DecodingStrategy.PREFIX, Integer.MAX_VALUE - 2,
                stack, stack, 0, 0, 0));
    }
}
