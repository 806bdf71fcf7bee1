package org.blocktransformer.model.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.blocktransformer.model.cpu.PackedMatrix;
import org.junit.jupiter.api.Test;

/** Panels hold every element where {@link PanelMatrix#index} says, zeros past the last row, in each format. */
class PanelMatrixTest {

    @Test
    void panelsHoldTheRowsElementForElement() {
        SplittableRandom r = new SplittableRandom(1);
        // 1300 x 900 crosses the size above which panels are packed in parallel.
        for (int[] shape : new int[][] {{1, 1}, {65, 3}, {130, 17}, {1300, 900}}) {
            int rows = shape[0], cols = shape[1];
            float[] data = new float[rows * cols];
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) r.nextGaussian();
            }
            F32Matrix f32 = new F32Matrix(rows, cols, data);
            for (Matrix m : new Matrix[] {f32, Bf16Matrix.of(f32), F16Matrix.of(f32)}) {
                PanelMatrix p = PanelMatrix.of(m);
                assertEquals(m.dtype(), p.dtype());
                float[] row = new float[cols];
                float[] want = new float[cols];
                for (int i = 0; i < rows; i++) {
                    p.copyRow(i, row, 0);
                    m.copyRow(i, want, 0);
                    for (int c = 0; c < cols; c++) {
                        assertEquals(Float.floatToRawIntBits(want[c]), Float.floatToRawIntBits(row[c]),
                                m.dtype() + " (" + i + ", " + c + ")");
                        assertEquals(m.get(i, c), p.get(i, c));
                    }
                }
                for (int pad = rows; pad < p.panels() * PanelMatrix.PANEL; pad++) {
                    for (int c = 0; c < cols; c++) {
                        assertEquals(0f, p.weight(PanelMatrix.index(pad, c, cols)), "padding");
                    }
                }
                assertEquals((long) p.panels() * PanelMatrix.PANEL * cols * (m.bytes() / ((long) rows * cols)),
                        p.bytes());
            }
        }
    }

    @Test
    void theCpuKernelsUseAPanelMatrixInPlace() {
        F32Matrix m = new F32Matrix(70, 5, new float[350]);
        PanelMatrix p = PanelMatrix.of(m);
        assertSame(p, PanelMatrix.of(p));
        assertSame(p.f32(), PackedMatrix.of(p).f32(), "no copy of a panel matrix");
        assertFalse(PackedMatrix.copies(p));
        assertTrue(PackedMatrix.copies(m));
        PanelMatrix h = PanelMatrix.of(F16Matrix.of(m));
        assertSame(h.half(), PackedMatrix.of(h).half());
    }

    @Test
    void inconsistentArraysAreRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new PanelMatrix(70, 5, new float[350], null, WeightFormat.F32));
        assertTrue(e.getMessage().contains("640"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new PanelMatrix(64, 5, null, new short[320], WeightFormat.F32));
    }
}
