package org.blocktransformer.tornado;

import static org.blocktransformer.tornado.TornadoTestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.SplittableRandom;
import org.blocktransformer.model.backend.Candidates;
import org.blocktransformer.model.backend.Logits;
import org.blocktransformer.model.backend.StackExecutor;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.CacheTable;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.cpu.CpuBackend;
import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.HalfMatrix;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.StackWeights;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The TornadoVM kernels against the CPU backend on fresh random data of awkward sizes (not multiples of the
 * work-group or tile sizes): Linear layers with the device argmax, and whole stacks (LayerNorm, matmuls, rotary,
 * paged KV writes, attention, GELU, residuals) over several calls that mix prefill chunks and single steps.
 */
class TornadoKernelParityTest {
    private static TornadoBackend device;
    private static TornadoBackend recorded;
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        device = TornadoTestSupport.backend();
        recorded = TornadoTestSupport.recordedBackend();
        cpu = new CpuBackend(1);
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
        }
        if (recorded != null) {
            recorded.close();
        }
        if (cpu != null) {
            cpu.close();
        }
    }

    @ParameterizedTest(name = "rows={0} out={1} in={2} bias={3} recorded={4}")
    // Up to 16 rows run NeoXKernels.linear, more NeoXKernels.matmul (17 and 40 rows here).
    @CsvSource({"1,1,1,true,false", "3,70,33,true,false", "17,129,40,false,false", "5,512,64,true,false",
            "40,300,70,true,false",
            // Several outputs per work-group, the last one partly past the end (1,025 = 512 x 2 + 1; 4,100 = 8k + 4).
            "9,1025,40,true,false", "11,4100,24,false,false",
            // Recorded launches: grids sized for the most rows, the rows past the live ones skipped.
            "3,70,33,true,true", "40,300,70,true,true"})
    void linearArgmaxAndTopKMatchTheCpu(int rows, int out, int in, boolean bias, boolean recordedLaunches) {
        SplittableRandom r = new SplittableRandom(rows * 31L + out);
        Linear layer = TornadoTestSupport.linear(r, out, in, bias);
        float[] x = TornadoTestSupport.random(r, rows * in, 1);
        var c = cpu.linear(layer);
        var g = (recordedLaunches ? recorded : device).linear(layer);
        float[] y = g.apply(x, rows);
        assertClose("linear", c.apply(x, rows), y, TornadoTestSupport.FP32_TOLERANCE);
        assertArrayEquals(c.argmax(x, rows), g.argmax(x, rows), "argmax");
        // Top-k candidates: exactly those of the device's own outputs; k = 0 rows and k beyond the buffer get none.
        int[] k = new int[rows];
        for (int i = 0; i < rows; i++) {
            k[i] = out == 1 ? 0 : new int[] {0, 1, 3, out - 1, TornadoLinearExecutor.TOP_K_CAP + 1}[i % 5];
        }
        Candidates[] got = g.topK(x, rows, k);
        for (int i = 0; i < rows; i++) {
            boolean held = k[i] > 0 && k[i] < out && k[i] <= TornadoLinearExecutor.TOP_K_CAP;
            Candidates want = held ? Candidates.of(y, i * out, out, k[i]) : null;
            if (want == null || want.size() > TornadoLinearExecutor.TOP_K_CAP) {
                assertNull(got[i], "row " + i + ", k " + k[i]);
            } else {
                assertArrayEquals(want.ids(), got[i].ids(), "top-" + k[i] + " ids of row " + i);
                assertArrayEquals(want.logits(), got[i].logits(), "top-" + k[i] + " values of row " + i);
            }
        }
        assertArrayEquals(c.argmax(x, rows), g.argmax(x, rows), "argmax after a top-k call");
    }

    /**
     * Rows whose outputs are not all finite (an input of NaN or infinity reaches every output) get no token, from
     * either kernel family, while the other rows of the call get the CPU's: the argmax says {@link
     * Logits#NON_FINITE} and top-k gives no candidates (the caller then finds the row so in its logits).
     */
    @ParameterizedTest(name = "rows={0} recorded={1}")
    @CsvSource({"5,false", "20,false", "5,true"})
    void rowsThatAreNotFiniteGetNoToken(int rows, boolean recordedLaunches) {
        SplittableRandom r = new SplittableRandom(rows);
        int in = 24;
        int out = 300;
        Linear layer = TornadoTestSupport.linear(r, out, in, true);
        float[] x = TornadoTestSupport.random(r, rows * in, 1);
        x[in + 3] = Float.NaN;
        x[3 * in] = Float.POSITIVE_INFINITY;
        var g = (recordedLaunches ? recorded : device).linear(layer);
        int[] ids = g.argmax(x, rows);
        int[] want = cpu.linear(layer).argmax(x, rows);
        int[] k = new int[rows];
        java.util.Arrays.fill(k, 5);
        Candidates[] top = g.topK(x, rows, k);
        for (int i = 0; i < rows; i++) {
            boolean finite = i != 1 && i != 3;
            assertEquals(finite ? want[i] : Logits.NON_FINITE, ids[i], "argmax of row " + i);
            assertEquals(finite, top[i] != null, "top-k candidates of row " + i);
        }
        assertEquals(Logits.NON_FINITE, want[1], "the CPU agrees");
    }

    /**
     * Every finite bfloat16 and float16 value widens exactly on the device: a Linear layer of one input whose
     * weights are all those bit patterns, times 1, gives them back (both kernel families: 1 and 17 rows), except
     * that a device may flush float32 subnormals to zero.
     */
    @ParameterizedTest(name = "{0}, {1} rows")
    @CsvSource({"BF16,1", "BF16,17", "F16,1", "F16,17"})
    void everyFinite16BitWeightWidensExactly(WeightFormat format, int rows) {
        int exponents = format == WeightFormat.BF16 ? 255 : 31;
        int mantissas = format == WeightFormat.BF16 ? 128 : 1024;
        short[] bits = new short[2 * exponents * mantissas];
        for (int i = 0; i < bits.length; i++) {
            int magnitude = i % (exponents * mantissas);
            bits[i] = (short) (i < exponents * mantissas ? magnitude : 0x8000 | magnitude);
        }
        HalfMatrix w = format == WeightFormat.BF16 ? new Bf16Matrix(bits.length, 1, bits)
                : new F16Matrix(bits.length, 1, bits);
        float[] x = new float[rows];
        java.util.Arrays.fill(x, 1f);
        float[] y = device.linear(new Linear(w, null)).apply(x, rows);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < bits.length; j++) {
                String what = format + " bits 0x" + Integer.toHexString(bits[j] & 0xFFFF);
                float want = w.get(j, 0);
                float got = y[r * bits.length + j];
                // GPUs may flush float32 subnormals to zero (NVIDIA's OpenCL does): bfloat16's exponent-0 values are
                // float32 subnormals (below 1.2e-38). float16's subnormals are float32 normals and never flush.
                if (got == 0f && Math.abs(want) < Float.MIN_NORMAL) {
                    continue;
                }
                // Zeros of either sign come back as +0 (0 + -0); assertEquals with a delta treats them as equal.
                assertEquals(want, got, 0f, what);
            }
        }
    }

    @ParameterizedTest(name = "d={0} heads={1} inter={2} layers={3} parallel={4} recorded={5}")
    @CsvSource({"64,2,48,1,false,false", "48,3,70,2,true,false", "48,3,64,1,true,false", "96,3,200,3,true,false",
            "64,4,64,1,true,false",
            // Deeper than one task graph holds (13 parallel-residual layers, 9 sequential ones): the layers are split
            // over two graphs per kernel family.
            "32,2,40,15,true,false", "32,2,40,10,false,false",
            // Recorded launches (both families, grids sized once).
            "48,3,70,2,true,true", "64,2,48,1,false,true", "32,2,40,15,true,true"})
    void stackMatchesTheCpu(int d, int heads, int inter, int layers, boolean parallel, boolean recordedLaunches) {
        SplittableRandom r = new SplittableRandom(d * 7L + inter);
        NeoXConfig config = new NeoXConfig(d, layers, heads, inter, 0.25, 10000, 1e-5, 2048, parallel);
        StackWeights weights = TornadoTestSupport.stack(r, config);
        StackExecutor c = cpu.stack(config, weights);
        StackExecutor g = (recordedLaunches ? recorded : device).stack(config, weights);
        PagePool cpuPool = new PagePool(layers, d, 16, 12);
        PagePool devPool = new PagePool(layers, d, 16, 12);
        CacheTable[] cpuRows = new CacheTable[3];
        CacheTable[] devRows = new CacheTable[3];
        for (int i = 0; i < 3; i++) {
            cpuRows[i] = cpuPool.newTable();
            devRows[i] = devPool.newTable();
            cpuRows[i].reserve(60);
            devRows[i].reserve(60);
        }
        // A prefill of uneven chunks, then single steps, then a mix: calls above LayerTasks.FEW_TOKENS (16) run the
        // many-token kernels, the others the few-token ones, over the same KV cache.
        int[][] calls = {{5, 17, 1}, {1, 1, 1}, {33, 0, 2}, {1, 1, 1}};
        for (int[] counts : calls) {
            int tokens = counts[0] + counts[1] + counts[2];
            float[] x = TornadoTestSupport.random(r, tokens * d, 1);
            float[] y = x.clone();
            StackRow[] cr = new StackRow[3];
            StackRow[] gr = new StackRow[3];
            for (int i = 0; i < 3; i++) {
                cr[i] = new StackRow(cpuRows[i], counts[i]);
                gr[i] = new StackRow(devRows[i], counts[i]);
            }
            c.forward(x, cr);
            g.forward(y, gr);
            assertClose("stack call " + java.util.Arrays.toString(counts), x, y, TornadoTestSupport.FP32_TOLERANCE);
        }
    }
}
