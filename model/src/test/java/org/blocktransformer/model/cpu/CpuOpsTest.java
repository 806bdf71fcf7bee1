package org.blocktransformer.model.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.Linear;
import org.junit.jupiter.api.Test;

/** The multi-threaded Linear split over panels and rows gives one thread's bits, whatever the thread count. */
class CpuOpsTest {

    @Test
    void rowPartsOnlyWhenPanelsAreTooFewForTheThreads() {
        assertEquals(1, CpuOps.rowParts(32, 24, 2), "24 panels keep 2 threads busy");
        assertEquals(3, CpuOps.rowParts(32, 24, 16));
        assertEquals(4, CpuOps.rowParts(32, 8, 16), "at most M / 8 parts");
        assertEquals(1, CpuOps.rowParts(8, 8, 16), "too few rows to split");
        assertEquals(1, CpuOps.rowParts(256, 8, 1), "one thread");
    }

    @Test
    void everyThreadCountGivesTheSameBits() {
        SplittableRandom r = new SplittableRandom(9);
        int n = 330, k = 70;
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        float[] bias = new float[n];
        for (int i = 0; i < n; i++) {
            bias[i] = (float) r.nextGaussian();
        }
        F32Matrix m = new F32Matrix(n, k, w);
        for (Linear linear : new Linear[] {new Linear(m, bias), new Linear(F16Matrix.of(m), null)}) {
            PackedLinear layer = PackedLinear.of(linear);
            for (int rows : new int[] {1, 5, 17, 40, 131}) {
                float[] x = new float[rows * k];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                float[] expected = new float[rows * n];
                CpuKernels.scalar().matmulPanels(x, rows, layer.weight(), layer.bias(), expected, 0,
                        layer.weight().panels());
                for (int threads : new int[] {1, 2, 3, 16}) {
                    try (Parallel parallel = new Parallel(threads)) {
                        float[] y = new float[rows * n];
                        new CpuOps(CpuKernels.best(), parallel).linear(x, rows, layer, y);
                        assertArrayEquals(expected, y, rows + " rows on " + threads + " threads");
                    }
                }
            }
        }
    }
}
