package org.blocktransformer.model.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.blocktransformer.model.neox.Gelu;
import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.F32Matrix;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The vector kernels against the scalar reference on fresh random data of awkward sizes. */
class CpuKernelsTest {
    private static CpuKernels vector;
    private static final CpuKernels scalar = CpuKernels.scalar();

    @BeforeAll
    static void vectorKernels() {
        vector = CpuKernels.best();
        assumeTrue(vector instanceof VectorKernels, "SKIPPED: the Vector API module is not present in this JVM");
    }

    static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    @ParameterizedTest(name = "M={0} N={1} K={2}")
    @CsvSource({"1,1,1", "1,64,64", "3,65,17", "4,130,33", "7,191,100", "9,48,64", "32,257,129", "5,1000,512"})
    void matmulIsBitwiseTheScalarReference(int m, int n, int k) {
        SplittableRandom r = new SplittableRandom(31L * m + n * 7L + k);
        float[] x = random(r, m * k);
        F32Matrix w = new F32Matrix(n, k, random(r, n * k));
        float[] rawBias = random(r, n);
        for (var packed : new PackedMatrix[] {PackedMatrix.of(w), PackedMatrix.of(Bf16Matrix.of(w)),
                PackedMatrix.of(F16Matrix.of(w))}) {
            float[] bias = PackedLinear.padBias(rawBias, packed);
            float[] expected = new float[m * n];
            float[] actual = new float[m * n];
            scalar.matmulPanels(x, m, packed, bias, expected, 0, packed.panels());
            vector.matmulPanels(x, m, packed, bias, actual, 0, packed.panels());
            assertArrayEquals(expected, actual, "vector matmul differs from scalar (" + packed.format() + ")");
            // And each row alone gives the same bits as in the batch.
            for (int row = 0; row < m; row++) {
                float[] single = new float[n];
                vector.matmulPanels(java.util.Arrays.copyOfRange(x, row * k, (row + 1) * k), 1, packed, bias, single, 0, packed.panels());
                assertArrayEquals(java.util.Arrays.copyOfRange(expected, row * n, (row + 1) * n), single, "row " + row);
            }
        }
    }

    @ParameterizedTest(name = "M={0} N={1} K={2}")
    @CsvSource({"2,70,33", "5,64,48"})
    void matmulMatchesDoublePrecisionDefinition(int m, int n, int k) {
        SplittableRandom r = new SplittableRandom(5);
        float[] x = random(r, m * k);
        F32Matrix w = new F32Matrix(n, k, random(r, n * k));
        float[] y = new float[m * n];
        PackedMatrix packed = PackedMatrix.of(w);
        vector.matmulPanels(x, m, packed, PackedLinear.padBias(null, packed), y, 0, packed.panels());
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int c = 0; c < k; c++) {
                    s += (double) x[i * k + c] * w.get(j, c);
                }
                assertEquals(s, y[i * n + j], 1e-4 * Math.sqrt(k), "y[" + i + "," + j + "]");
            }
        }
    }

    @ParameterizedTest(name = "len={0}")
    @CsvSource({"1", "15", "16", "33", "64", "100"})
    void dotAndAxpyMatchScalar(int len) {
        SplittableRandom r = new SplittableRandom(len);
        float[] a = random(r, len + 3);
        float[] b = random(r, len + 5);
        assertEquals(scalar.dot(a, 3, b, 5, len), vector.dot(a, 3, b, 5, len), 1e-5 * len);
        float[] y1 = random(r, len + 2);
        float[] y2 = y1.clone();
        scalar.axpy(0.37f, a, 1, y1, 2, len);
        vector.axpy(0.37f, a, 1, y2, 2, len);
        assertArrayEquals(y1, y2);
    }

    @ParameterizedTest(name = "n={0}")
    @CsvSource({"1", "17", "48", "1000"})
    void geluMatchesTheDoubleDefinition(int n) {
        SplittableRandom r = new SplittableRandom(n);
        float[] x = random(r, n);
        for (int i = 0; i < n; i++) {
            x[i] *= 4; // cover the tails too
        }
        float[] v = x.clone();
        vector.gelu(v, 0, n);
        for (int i = 0; i < n; i++) {
            double exact = Gelu.apply(x[i]);
            assertEquals(exact, v[i], 1e-6 * Math.max(1, Math.abs(exact)), "gelu(" + x[i] + ")");
        }
        // An element's result does not depend on where it sits (vector body vs masked tail).
        for (int i = 0; i < n; i++) {
            float[] one = {x[i]};
            vector.gelu(one, 0, 1);
            assertEquals(v[i], one[0], 0f, "gelu of element " + i + " alone");
        }
    }

    @org.junit.jupiter.api.Test
    void erfIsAccurate() {
        // Reference values of erf from tables.
        double[][] cases = {{0.0, 0.0}, {0.5, 0.5204998778130465}, {1.0, 0.8427007929497149}, {2.0, 0.9953222650189527},
                {-1.5, -0.9661051464753108}, {3.5, 0.9999992569016276}};
        for (double[] c : cases) {
            double g = Gelu.apply((float) (c[0] * Math.sqrt(2)));
            double expected = 0.5 * (c[0] * Math.sqrt(2)) * (1 + c[1]);
            assertTrue(Math.abs(g - expected) < 1e-6 * Math.max(1, Math.abs(expected)), "gelu at erf(" + c[0] + ")");
        }
    }

    @Test
    void float16WideningIsExactForEveryFiniteValue() {
        // Every finite float16 bit pattern (exponent below 31), both signs: 63,488 values, a multiple of 16 lanes.
        short[] bits = new short[2 * 31 * 1024];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = (short) (i < 31 * 1024 ? i : 0x8000 | (i - 31 * 1024));
        }
        float[] widened = new float[bits.length];
        VectorKernels.widen(bits, 0, widened, bits.length, true);
        for (int i = 0; i < bits.length; i++) {
            assertEquals(Float.floatToRawIntBits(Float.float16ToFloat(bits[i])), Float.floatToRawIntBits(widened[i]),
                    "float16 bits " + Integer.toHexString(bits[i] & 0xFFFF));
        }
    }
}
