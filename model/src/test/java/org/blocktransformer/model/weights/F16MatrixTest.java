package org.blocktransformer.model.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class F16MatrixTest {

    @Test
    void roundsToNearestFloat16AndWidensExactly() {
        float[] v = {0f, -0f, 1f, -2.5f, 65504f, -65504f, 1e-7f, 5.96e-8f, 0.1f, 3.14159f};
        F16Matrix m = F16Matrix.of(new F32Matrix(2, 5, v));
        for (int i = 0; i < v.length; i++) {
            float want = Float.float16ToFloat(Float.floatToFloat16(v[i]));
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(m.get(i / 5, i % 5)), "value " + v[i]);
        }
        assertEquals(20, m.bytes());
        assertEquals(WeightFormat.F16, m.format());
    }

    @Test
    void refusesValuesBeyondFloat16sRange() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> F16Matrix.of(new F32Matrix(1, 3, new float[] {1f, 70000f, 0f})));
        assertTrue(e.getMessage().contains("70000.0 is outside float16's range"), e.getMessage());
    }

    @Test
    void refusesInfinitiesAndNaNBits() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new F16Matrix(2, 2, new short[] {0, 0, 0, (short) 0x7C00}));
        assertTrue(e.getMessage().contains("row 1, column 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new F16Matrix(1, 1, new short[] {(short) 0xFE00}));
    }
}
