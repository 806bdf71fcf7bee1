package org.blocktransformer.model.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.blocktransformer.model.neox.Gelu;
import org.blocktransformer.model.neox.LayerNorm;
import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.LayerNormWeights;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The vector kernels at 128, 256 and 512 bits, all built in this JVM, against the scalar reference, bit for bit, on
 * fresh random data of awkward sizes; the scalar kernels against the plain definitions (double precision).
 */
class CpuKernelsTest {
    private static final CpuKernels scalar = CpuKernels.scalar();

    @BeforeAll
    static void vectorModule() {
        assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "SKIPPED: the Vector API module is not present in this JVM");
    }

    static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    static Stream<Arguments> matmulCases() {
        int[][] shapes = {{1, 1, 1}, {1, 64, 64}, {3, 65, 17}, {4, 130, 33}, {7, 191, 100}, {9, 48, 64},
                {32, 257, 129}, {5, 1000, 512}, {1, 17, 5}, {6, 80, 3}};
        return Stream.of(128, 256, 512).flatMap(bits -> Arrays.stream(shapes)
                .map(s -> Arguments.of(bits, s[0], s[1], s[2])));
    }

    @ParameterizedTest(name = "{0}-bit M={1} N={2} K={3}")
    @MethodSource("matmulCases")
    void matmulIsBitwiseTheScalarReference(int bits, int m, int n, int k) {
        CpuKernels vector = VectorKernels.of(bits);
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
            assertArrayEquals(expected, actual, bits + "-bit matmul differs from scalar (" + packed.format() + ")");
            // Each row alone gives the same bits as in the batch (the one-row tiles widen 16-bit weights in
            // registers, the four-row tiles through scratch).
            for (int row = 0; row < m; row++) {
                float[] single = new float[n];
                vector.matmulPanels(Arrays.copyOfRange(x, row * k, (row + 1) * k), 1, packed, bias, single, 0,
                        packed.panels());
                assertArrayEquals(Arrays.copyOfRange(expected, row * n, (row + 1) * n), single, "row " + row);
            }
            // Panels split as threads split them give the same bits.
            if (packed.panels() > 1) {
                float[] split = new float[m * n];
                vector.matmulPanels(x, m, packed, bias, split, 1, packed.panels());
                vector.matmulPanels(x, m, packed, bias, split, 0, 1);
                assertArrayEquals(expected, split, "split at panel 1");
            }
        }
    }

    @ParameterizedTest(name = "M={0} N={1} K={2}")
    @org.junit.jupiter.params.provider.CsvSource({"2,70,33", "5,64,48"})
    void scalarMatmulMatchesDoublePrecisionDefinition(int m, int n, int k) {
        SplittableRandom r = new SplittableRandom(5);
        float[] x = random(r, m * k);
        F32Matrix w = new F32Matrix(n, k, random(r, n * k));
        float[] y = new float[m * n];
        PackedMatrix packed = PackedMatrix.of(w);
        scalar.matmulPanels(x, m, packed, PackedLinear.padBias(null, packed), y, 0, packed.panels());
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

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {128, 256, 512})
    void keyScoresAndAxpyAreBitwiseTheScalarReference(int bits) {
        CpuKernels vector = VectorKernels.of(bits);
        for (int len : new int[] {1, 7, 15, 16, 33, 64, 100}) {
            SplittableRandom r = new SplittableRandom(len);
            int stride = 16;
            float[] q = random(r, len + 3);
            float[] keys = random(r, 5 + len * stride + 16);
            float[] expected = new float[20];
            float[] actual = new float[20];
            scalar.keyScores(q, 3, keys, 5, len, stride, expected, 4);
            vector.keyScores(q, 3, keys, 5, len, stride, actual, 4);
            assertArrayEquals(expected, actual, bits + "-bit keyScores, len " + len);
            for (int lane = 0; lane < 16; lane++) {
                double s = 0;
                for (int d = 0; d < len; d++) {
                    s += (double) q[3 + d] * keys[5 + d * stride + lane];
                }
                assertEquals(s, expected[4 + lane], 1e-5 * len, "score of lane " + lane);
            }
            float[] y1 = random(r, len + 2);
            float[] y2 = y1.clone();
            scalar.axpy(0.37f, q, 1, y1, 2, len);
            vector.axpy(0.37f, q, 1, y2, 2, len);
            assertArrayEquals(y1, y2, bits + "-bit axpy, len " + len);
        }
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {128, 256, 512})
    void geluIsBitwiseTheScalarReference(int bits) {
        CpuKernels vector = VectorKernels.of(bits);
        for (int n : new int[] {1, 3, 17, 48, 1000}) {
            SplittableRandom r = new SplittableRandom(n);
            float[] x = random(r, n);
            for (int i = 0; i < n; i++) {
                x[i] *= 4; // cover the tails too
            }
            x[0] = n == 1 ? -0f : x[0];
            float[] expected = x.clone();
            float[] actual = x.clone();
            scalar.gelu(expected, 0, n);
            vector.gelu(actual, 0, n);
            assertArrayEquals(expected, actual, bits + "-bit gelu, n " + n);
            // An element's result does not depend on where it sits (vector body vs masked tail).
            for (int i = 0; i < n; i++) {
                float[] one = {x[i]};
                vector.gelu(one, 0, 1);
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(one[0]), "element " + i);
            }
        }
    }

    @Test
    void scalarGeluMatchesTheDoubleDefinition() {
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 20_000; i++) {
            float x = (float) (r.nextGaussian() * 4);
            double exact = Gelu.apply(x);
            float[] v = {x};
            scalar.gelu(v, 0, 1);
            assertEquals(exact, v[0], 1e-6 * Math.max(1, Math.abs(exact)), "gelu(" + x + ")");
        }
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {128, 256, 512})
    void layerNormIsBitwiseTheScalarReference(int bits) {
        CpuKernels vector = VectorKernels.of(bits);
        for (int d : new int[] {1, 5, 16, 48, 64, 100, 512}) {
            SplittableRandom r = new SplittableRandom(d);
            int rows = 3;
            float[] x = random(r, rows * d);
            for (int i = 0; i < x.length; i++) {
                x[i] = x[i] * 3 + 1.5f; // an offset mean, as real activations have
            }
            LayerNormWeights w = new LayerNormWeights(random(r, d), random(r, d));
            float[] expected = new float[rows * d];
            float[] actual = new float[rows * d];
            scalar.layerNorm(x, 0, rows, w, 1e-5, expected);
            vector.layerNorm(x, 0, rows, w, 1e-5, actual);
            assertArrayEquals(expected, actual, bits + "-bit layerNorm, d " + d);
            // In place, and one row at a time, give the same bits.
            float[] inPlace = x.clone();
            for (int row = 0; row < rows; row++) {
                vector.layerNorm(inPlace, row, row + 1, w, 1e-5, inPlace);
            }
            assertArrayEquals(expected, inPlace, "in place, row by row");
            float[] reference = new float[rows * d];
            LayerNorm.apply(x, rows, w, 1e-5, reference);
            for (int i = 0; i < reference.length; i++) {
                assertEquals(reference[i], expected[i], 2e-5 * Math.max(1, Math.abs(reference[i])), "element " + i);
            }
        }
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {128, 256, 512})
    void float16WideningIsExactForEveryFiniteValue(int bits) {
        // Every finite float16 bit pattern (exponent below 31), both signs: 63,488 values, a multiple of 16 lanes.
        short[] values = new short[2 * 31 * 1024];
        for (int i = 0; i < values.length; i++) {
            values[i] = (short) (i < 31 * 1024 ? i : 0x8000 | (i - 31 * 1024));
        }
        float[] widened = new float[values.length];
        VectorKernels.of(bits).widen(values, 0, widened, values.length, true);
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.floatToRawIntBits(Float.float16ToFloat(values[i])), Float.floatToRawIntBits(widened[i]),
                    "float16 bits " + Integer.toHexString(values[i] & 0xFFFF));
        }
        // bfloat16: every pattern but NaNs widens to the float32 with those high bits.
        short[] bf = new short[1 << 16];
        for (int i = 0; i < bf.length; i++) {
            bf[i] = (short) i;
        }
        float[] wide = new float[bf.length];
        VectorKernels.of(bits).widen(bf, 0, wide, bf.length, false);
        for (int i = 0; i < bf.length; i++) {
            assertEquals(i << 16, Float.floatToRawIntBits(wide[i]), "bfloat16 bits " + Integer.toHexString(i));
        }
    }

    @Test
    void widthsAreMadeOnceAndNamed() {
        assertSame(VectorKernels.of(256), VectorKernels.of(256));
        assertNotSame(VectorKernels.of(128), VectorKernels.of(512));
        for (int bits : new int[] {128, 256, 512}) {
            assertEquals(bits, VectorKernels.of(bits).vectorBits());
            assertEquals(bits, CpuKernels.named(String.valueOf(bits)).vectorBits());
            assertTrue(CpuKernels.named("vector" + bits).describe().contains(bits + "-bit"));
        }
        assertSame(CpuKernels.scalar(), CpuKernels.named("scalar"));
        assertSame(CpuKernels.best(), CpuKernels.named("auto"));
        assertEquals(VectorKernels.preferredBits(), CpuKernels.best().vectorBits());
        var e = assertThrows(IllegalArgumentException.class, () -> CpuKernels.named("1024"));
        assertTrue(e.getMessage().contains("auto, scalar, 128, 256, 512"), e.getMessage());
    }
}
