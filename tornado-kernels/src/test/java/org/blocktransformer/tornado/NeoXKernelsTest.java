package org.blocktransformer.tornado;

import static org.blocktransformer.tornado.TornadoTestSupport.FP32_TOLERANCE;
import static org.blocktransformer.tornado.TornadoTestSupport.assertClose;
import static org.blocktransformer.tornado.TornadoTestSupport.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.blocktransformer.model.backend.Candidates;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.neox.Gelu;
import org.blocktransformer.model.neox.LayerNorm;
import org.blocktransformer.model.neox.Rotary;
import org.blocktransformer.model.runtime.Sampler;
import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.LayerNormWeights;
import org.blocktransformer.tornado.kernels.AttentionKernels;
import org.blocktransformer.tornado.kernels.MmaKernels;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import org.blocktransformer.tornado.kernels.PackedDecodeKernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.WorkerGrid3D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * Each kernel alone in a one-task graph against the CPU path's arithmetic, on fresh random data of awkward sizes.
 * Launches cover more rows than are live (the kernels read the live count from {@code meta[0]}); only the live
 * rows are compared (TornadoVM need not copy a kernel's outputs to the device first, so the rest is undefined).
 * Stacked weights are read at layer 1 of 2.
 */
class NeoXKernelsTest {
    private static TornadoDevice device;

    @BeforeAll
    static void open() {
        String reason = TornadoDevices.unavailableReason();
        assumeTrue(reason == null, "SKIPPED: " + reason);
        device = TornadoDevices.choose(System.getProperty("bt.tornado.device", ""));
    }

    /** Runs {@code graph} once with one task's grid, outputs brought back by the graph. */
    private static void run(TaskGraph graph, String task, WorkerGrid grid) {
        GridScheduler scheduler = new GridScheduler();
        scheduler.addWorkerGrid(graph.getTaskGraphName() + "." + task, grid);
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(graph.snapshot())) {
            plan.withDevice(device).withGridScheduler(scheduler).execute();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code items} work items rounded up to whole work-groups of {@code local}. */
    private static WorkerGrid1D grid(long items, int local) {
        WorkerGrid1D g = new WorkerGrid1D((int) ((items + local - 1) / local * local));
        g.setLocalWork(local, 1, 1);
        return g;
    }

    private static float[] layer(float[] stacked, int layer, int size) {
        return Arrays.copyOfRange(stacked, layer * size, (layer + 1) * size);
    }

    @ParameterizedTest(name = "pair={0}")
    @CsvSource({"1", "0"})
    void layerNormOfLiveRows(int pair) {
        SplittableRandom r = new SplittableRandom(11 + pair);
        int rows = 7;
        int live = 5;
        int d = 70;
        float[] x = random(r, rows * d, 2);
        float[] w1 = random(r, 2 * d, 1);
        float[] b1 = random(r, 2 * d, 1);
        float[] w2 = random(r, 2 * d, 1);
        float[] b2 = random(r, 2 * d, 1);
        FloatArray out1 = new FloatArray(rows * d);
        FloatArray out2 = new FloatArray(rows * d);
        Object[] in = {FloatArray.fromArray(x), FloatArray.fromArray(w1), FloatArray.fromArray(b1),
                FloatArray.fromArray(w2), FloatArray.fromArray(b2), IntArray.fromElements(live), IntArray.fromElements(1)};
        TaskGraph g = new TaskGraph("t")
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, in)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, out1, out2)
                .task("k", NeoXKernels::layerNorm, new KernelContext(), (FloatArray) in[0], (FloatArray) in[1],
                        (FloatArray) in[2], out1, (FloatArray) in[3], (FloatArray) in[4], out2, (IntArray) in[5],
                        (IntArray) in[6], d, 1e-5f, 1, pair)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out1, out2);
        run(g, "k", grid((long) rows * NeoXKernels.ROW_GROUP, NeoXKernels.ROW_GROUP));

        float[] want1 = new float[rows * d];
        float[] want2 = new float[rows * d];
        LayerNorm.apply(x, live, new LayerNormWeights(layer(w1, 1, d), layer(b1, 1, d)), 1e-5, want1);
        if (pair == 1) {
            LayerNorm.apply(x, live, new LayerNormWeights(layer(w2, 1, d), layer(b2, 1, d)), 1e-5, want2);
        }
        assertClose("layerNorm out1", live(want1, live * d), live(out1.toHeapArray(), live * d), FP32_TOLERANCE);
        if (pair == 1) {
            assertClose("layerNorm out2", live(want2, live * d), live(out2.toHeapArray(), live * d), FP32_TOLERANCE);
        }
    }

    @ParameterizedTest(name = "{0} cache")
    @CsvSource({"f32", "f16"})
    void rotaryRotatesQueriesAndStoresKeysAndValuesInTheirSlots(String cache) {
        boolean half = cache.equals("f16");
        SplittableRandom r = new SplittableRandom(5);
        int heads = 3;
        int hd = 10;
        int d = heads * hd;
        int rows = 4;
        int live = 3;
        int slots = 9;
        NeoXConfig config = new NeoXConfig(d, 2, heads, 40, 0.4, 10000, 1e-5, 64, true);
        Rotary rotary = new Rotary(config);
        int rot = config.rotaryDims();
        float[] qkv = random(r, rows * 3 * d, 1);
        int[] pos = {17, 0, 63, 5};
        int[] slot = {4, 8, 0, 2};
        FloatArray qrot = new FloatArray(rows * d);
        FloatArray keys = new FloatArray(half ? 1 : 2 * slots * d);
        FloatArray values = new FloatArray(half ? 1 : 2 * slots * d);
        LongArray keysHalf = new LongArray(half ? 2 * slots * heads * NeoXKernels.halfWords(hd) : 1);
        LongArray valuesHalf = new LongArray(half ? 2 * slots * heads * NeoXKernels.halfWords(hd) : 1);
        Object[] in = {FloatArray.fromArray(qkv), FloatArray.fromArray(rotary.cosTable()),
                FloatArray.fromArray(rotary.sinTable()), IntArray.fromElements(live), IntArray.fromElements(1),
                IntArray.fromArray(pos), IntArray.fromArray(slot), FloatArray.fromArray(NeoXKernels.bf16Scale())};
        TaskGraph g = new TaskGraph("t")
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, in)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, qrot, keys, values, keysHalf, valuesHalf)
                .task("k", NeoXKernels::rotaryStore, new KernelContext(), (FloatArray) in[0], qrot, keys, values,
                        keysHalf, valuesHalf, (FloatArray) in[7], (FloatArray) in[1], (FloatArray) in[2],
                        (IntArray) in[3], (IntArray) in[4], (IntArray) in[5], (IntArray) in[6], heads, hd, rot, slots,
                        half ? NeoXKernels.F16 : NeoXKernels.F32)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, qrot, keys, values, keysHalf, valuesHalf);
        run(g, "k", grid((long) rows * d, 32));

        float[] wantQ = new float[rows * d];
        float[] wantK = new float[2 * slots * d];
        float[] wantV = new float[2 * slots * d];
        for (int t = 0; t < live; t++) {
            for (int h = 0; h < heads; h++) {
                int q = t * 3 * d + h * 3 * hd;
                float[] qh = Arrays.copyOfRange(qkv, q, q + hd);
                float[] kh = Arrays.copyOfRange(qkv, q + hd, q + 2 * hd);
                rotary.apply(qh, 0, pos[t]);
                rotary.apply(kh, 0, pos[t]);
                System.arraycopy(qh, 0, wantQ, t * d + h * hd, hd);
                int at = (slots + slot[t]) * d + h * hd;
                System.arraycopy(kh, 0, wantK, at, hd);
                System.arraycopy(qkv, q + 2 * hd, wantV, at, hd);
            }
        }
        assertClose("rotary q", live(wantQ, live * d), live(qrot.toHeapArray(), live * d), FP32_TOLERANCE);
        float[] gotK = half ? PackedHalves.unpack(keysHalf, heads, hd) : keys.toHeapArray();
        float[] gotV = half ? PackedHalves.unpack(valuesHalf, heads, hd) : values.toHeapArray();
        if (half) {
            // The device's float16 keys and values are the float32 ones rounded to float16; the rounding of the
            // device's (float32) rotary result may differ by its last bits, so compare at float16's step.
            for (float[] want : new float[][] {wantK, wantV}) {
                for (int i = 0; i < want.length; i++) {
                    want[i] = Float.float16ToFloat(Float.floatToFloat16(want[i]));
                }
            }
        }
        for (int t = 0; t < live; t++) {
            int at = (slots + slot[t]) * d;
            // float16 keys: a rotated value next to a rounding boundary may round the other way (one float16 step:
            // below 0.004 for values under 8); values are copied, so their rounding must be exact.
            assertClose("rotary keys, token " + t, Arrays.copyOfRange(wantK, at, at + d),
                    Arrays.copyOfRange(gotK, at, at + d), half ? 4e-3 : FP32_TOLERANCE);
            assertClose("rotary values, token " + t, Arrays.copyOfRange(wantV, at, at + d),
                    Arrays.copyOfRange(gotV, at, at + d), half ? 0 : FP32_TOLERANCE);
        }
    }

    @ParameterizedTest(name = "head size {0}, {1} cache")
    @CsvSource({"10,f32", "64,f32", "128,f32", "10,f16", "64,f16", "128,f16", "7,f16"})
    void attentionOverPagedRows(int hd, String cache) {
        boolean half = cache.equals("f16");
        SplittableRandom r = new SplittableRandom(hd);
        int heads = 2;
        int d = heads * hd;
        int pageSize = 4;
        int pagesTotal = 40;
        int slots = pagesTotal * pageSize;
        // Row 0 holds 3 tokens at positions 10..12, row 1 one token at position 130 (over 2 work-group spans).
        int[] tokenPos = {10, 11, 12, 130, 0};
        int[] tokenRow = {0, 0, 0, 1, 0};
        int rows = tokenPos.length;
        int live = 4;
        int[] rowPages = {3, 7, 1, 9, 0, 2, 4, 5, 6, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
                25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39};
        int[] pages = new int[4 + 33];
        System.arraycopy(rowPages, 0, pages, 0, 4);
        for (int i = 0; i < 33; i++) {
            pages[4 + i] = rowPages[(i + 4) % rowPages.length];
        }
        int[] rowStart = {0, 4};
        float[] q = random(r, rows * d, 1);
        float[] keys = random(r, 2 * slots * d, 1);
        float[] values = random(r, 2 * slots * d, 1);
        // A float16 cache: the device holds the bits, the reference uses their exact values.
        LongArray keysHalf = half ? PackedHalves.pack(keys, heads, hd) : new LongArray(1);
        LongArray valuesHalf = half ? PackedHalves.pack(values, heads, hd) : new LongArray(1);
        if (half) {
            keys = PackedHalves.unpack(keysHalf, heads, hd);
            values = PackedHalves.unpack(valuesHalf, heads, hd);
        }
        float scale = (float) (1 / Math.sqrt(hd));
        FloatArray out = new FloatArray(rows * d);
        Object[] in = {FloatArray.fromArray(q), half ? new FloatArray(1) : FloatArray.fromArray(keys),
                half ? new FloatArray(1) : FloatArray.fromArray(values), IntArray.fromElements(live),
                IntArray.fromElements(1), IntArray.fromArray(tokenPos), IntArray.fromArray(tokenRow),
                IntArray.fromArray(rowStart), IntArray.fromArray(pages), keysHalf, valuesHalf,
                FloatArray.fromArray(NeoXKernels.bf16Scale())};
        TaskGraph g = new TaskGraph("t")
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, in)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, out)
                .task("k", NeoXKernels::attention, new KernelContext(), (FloatArray) in[0], (FloatArray) in[1],
                        (FloatArray) in[2], keysHalf, valuesHalf, (FloatArray) in[11], out, (IntArray) in[3],
                        (IntArray) in[4], (IntArray) in[5], (IntArray) in[6], (IntArray) in[7], (IntArray) in[8],
                        heads, hd, pageSize, slots, scale, half ? NeoXKernels.F16 : NeoXKernels.F32)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        run(g, "k", grid((long) rows * heads * NeoXKernels.GROUP, NeoXKernels.GROUP));

        float[] want = new float[rows * d];
        for (int t = 0; t < live; t++) {
            for (int h = 0; h < heads; h++) {
                int n = tokenPos[t] + 1;
                double[] s = new double[n];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    int at = (slots + pages[rowStart[tokenRow[t]] + j / pageSize] * pageSize + j % pageSize) * d
                            + h * hd;
                    double dot = 0;
                    for (int i = 0; i < hd; i++) {
                        dot += (double) q[t * d + h * hd + i] * keys[at + i];
                    }
                    s[j] = dot * scale;
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int i = 0; i < hd; i++) {
                    double acc = 0;
                    for (int j = 0; j < n; j++) {
                        int at = (slots + pages[rowStart[tokenRow[t]] + j / pageSize] * pageSize + j % pageSize) * d
                                + h * hd;
                        acc += s[j] * values[at + i];
                    }
                    want[t * d + h * hd + i] = (float) (acc / sum);
                }
            }
        }
        assertClose("attention", live(want, live * d), live(out.toHeapArray(), live * d), FP32_TOLERANCE);
    }

    /**
     * Both matmul kernels with every epilogue, {@code y = epilogue(a . Wa + ba [, b . Wb + bb | other])}, with
     * float32, bfloat16 and float16 weights (the reference then uses the widened 16-bit values, so the tolerance
     * stays float32's: only the summation order differs).
     */
    @ParameterizedTest(name = "{0} kernel, mode {1}, {2} tokens, {3} weights")
    @CsvSource({"linear,0,3,f32", "linear,1,11,f32", "linear,2,1,f32", "linear,3,9,f32", "matmul,0,70,f32",
            "matmul,1,3,f32", "matmul,2,65,f32", "matmul,3,17,f32", "linear,3,5,bf16", "linear,1,12,bf16",
            "matmul,3,19,bf16", "matmul,0,66,bf16", "linear,3,7,f16", "linear,0,2,f16", "matmul,3,18,f16",
            "matmul,1,67,f16", "split,0,70,f32", "split,1,33,f16", "split,2,65,bf16", "split,3,17,f32"})
    void matmulEpilogues(String kernel, int mode, int tokens, String weights) {
        SplittableRandom r = new SplittableRandom(mode * 31L + tokens);
        int n = 1025;
        int ka = 37;
        int kb = 29;
        int rows = tokens + 2;
        boolean half = !weights.equals("f32");
        int format = switch (weights) {
            case "bf16" -> NeoXKernels.BF16;
            case "f16" -> NeoXKernels.F16;
            default -> NeoXKernels.F32;
        };
        float[] xa = random(r, rows * ka, 1);
        float[] wa = random(r, 2 * n * ka, 0.2);
        float[] ba = random(r, 2 * n, 0.1);
        float[] xb = random(r, rows * kb, 1);
        float[] wb = random(r, 2 * n * kb, 0.2);
        // Zeros of both signs, subnormals (of float32, bfloat16 and float16) and magnitudes far from 1 exercise every
        // branch of the widening.
        float[] special = {0f, -0f, 1e-40f, -3.5e-39f, 1e-30f, -9.5f, 0.001f, 1.5f, 3e-5f, -6e-8f, 6.1e-5f};
        System.arraycopy(special, 0, wa, (n + 7) * ka, special.length);
        System.arraycopy(special, 0, wb, (n + 9) * kb, special.length);
        ShortArray wah = half ? bits(wa, format) : new ShortArray(1);
        ShortArray wbh = half ? bits(wb, format) : new ShortArray(1);
        FloatArray scale = FloatArray.fromArray(NeoXKernels.bf16Scale());
        float[] bb = random(r, 2 * n, 0.1);
        float[] other = random(r, rows * n, 1);
        float[] y0 = random(r, rows * n, 1);
        FloatArray y = FloatArray.fromArray(y0);
        IntArray meta = IntArray.fromElements(tokens);
        IntArray layer = IntArray.fromElements(1);
        FloatArray dxa = FloatArray.fromArray(xa);
        FloatArray dwa = FloatArray.fromArray(wa);
        FloatArray dba = FloatArray.fromArray(ba);
        FloatArray dxb = FloatArray.fromArray(xb);
        FloatArray dwb = FloatArray.fromArray(wb);
        FloatArray dbb = FloatArray.fromArray(bb);
        FloatArray dOther = FloatArray.fromArray(other);
        KernelContext ctx = new KernelContext();
        if (half) {
            // The device sees only the bits; the reference uses their exact values.
            wa = widened(wah, format);
            wb = widened(wbh, format);
            dwa = new FloatArray(1);
            dwb = new FloatArray(1);
        }
        TaskGraph g = new TaskGraph("t").transferToDevice(DataTransferMode.EVERY_EXECUTION, y, meta, layer, dxa, dwa,
                dba, dxb, dwb, dbb, dOther, wah, wbh, scale);
        WorkerGrid grid;
        if (kernel.equals("linear")) {
            g.task("k", NeoXKernels::linear, ctx, dxa, dwa, wah, dba, dxb, dwb, wbh, dbb, y, scale, meta, layer, n, ka,
                    mode == NeoXKernels.ADD_PAIR ? kb : 0, 1, LayerTasks.linearRows(n), mode, format);
            grid = grid(LayerTasks.linearItems(n), NeoXKernels.LINEAR_GROUP);
        } else if (kernel.equals("matmul")) {
            g.task("k", NeoXKernels::matmul, ctx, dxa, dwa, wah, dba, dOther, y, scale, meta, layer, n, ka, 1, mode,
                    format, ka, 0);
            WorkerGrid2D g2 = new WorkerGrid2D((n + 63) / 64 * NeoXKernels.TILE, (tokens + 63) / 64 * NeoXKernels.TILE);
            g2.setLocalWork(NeoXKernels.TILE, NeoXKernels.TILE, 1);
            grid = g2;
        } else {
            // Split-k: k = 37 in slices of 16 (three, the last partial), then the reduce step's epilogue.
            int slices = (ka + 15) / 16;
            FloatArray partial = new FloatArray(slices * rows * n);
            g.task("k", NeoXKernels::matmul, ctx, dxa, dwa, wah, dba, dOther, partial, scale, meta, layer, n, ka, 1,
                            NeoXKernels.PARTIAL, format, 16, rows * n)
                    .task("r", NeoXKernels::reduceSlices, ctx, partial, dba, dOther, y, meta, layer, n, slices, n,
                            rows * n, 1, mode);
            DeviceArrays.freedWithPlan(g, partial);
            WorkerGrid3D g3 = new WorkerGrid3D((n + 63) / 64 * NeoXKernels.TILE, (tokens + 63) / 64 * NeoXKernels.TILE,
                    slices);
            g3.setLocalWork(NeoXKernels.TILE, NeoXKernels.TILE, 1);
            grid = g3;
        }
        g.transferToHost(DataTransferMode.EVERY_EXECUTION, y);
        if (kernel.equals("split")) {
            GridScheduler scheduler = new GridScheduler();
            scheduler.addWorkerGrid("t.k", grid);
            scheduler.addWorkerGrid("t.r", grid((long) rows * n, 128));
            try (TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot())) {
                plan.withDevice(device).withGridScheduler(scheduler).execute();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        } else {
            run(g, "k", grid);
        }

        // ADD_PAIR's other product: the fused second one of "linear", the finished one the others are given (the
        // weights as the device saw them).
        float[] wav = wa;
        float[] wbv = wb;
        Cell second = kernel.equals("linear")
                ? (t, j) -> dot(xb, t * kb, wbv, (n + j) * kb, kb) + bb[n + j]
                : (t, j) -> other[t * n + j];
        float[] want = expected(mode, tokens, n, y0, (t, j) -> dot(xa, t * ka, wav, (n + j) * ka, ka) + ba[n + j],
                second);
        assertClose(kernel + " mode " + mode, want, y.toHeapArray(), FP32_TOLERANCE);
        assertEquals(want.length, y.getSize());
    }

    /**
     * Attention split along the context ({@link AttentionKernels}: chunks of 256 positions, then the combine step)
     * against float64 softmax attention: contexts of one position, of exactly one and two chunks, one past a chunk,
     * and several chunks, through scattered pages; float32 and float16 caches.
     */
    @ParameterizedTest(name = "head size {0}, {1} cache")
    @CsvSource({"10,f32", "64,f32", "128,f32", "10,f16", "64,f16", "128,f16"})
    void chunkedAttentionMatchesSoftmax(int hd, String cache) {
        boolean half = cache.equals("f16");
        SplittableRandom r = new SplittableRandom(hd * 7L);
        int heads = 3;
        int d = heads * hd;
        int pageSize = 16;
        int maxPositions = 900;
        int chunks = (maxPositions + AttentionKernels.CHUNK - 1) / AttentionKernels.CHUNK;
        int[] tokenPos = {0, 255, 256, 511, 890, 600, 17};
        int[] tokenRow = {0, 1, 1, 2, 3, 3, 4};
        int rows = 5;
        int live = 6;
        int pagesPerRow = (maxPositions + pageSize - 1) / pageSize;
        int pagesTotal = rows * pagesPerRow + 3;
        int slots = pagesTotal * pageSize;
        // Row r's pages: a permutation, so consecutive positions live far apart.
        int[] pages = new int[rows * pagesPerRow];
        int[] rowStart = new int[rows];
        for (int i = 0; i < pages.length; i++) {
            pages[i] = (i * 37 + 5) % pagesTotal;
        }
        for (int i = 0; i < rows; i++) {
            rowStart[i] = i * pagesPerRow;
        }
        float[] q = random(r, tokenPos.length * d, 1);
        float[] keys = random(r, 2 * slots * d, 1);
        float[] values = random(r, 2 * slots * d, 1);
        LongArray keysHalf = half ? PackedHalves.pack(keys, heads, hd) : new LongArray(1);
        LongArray valuesHalf = half ? PackedHalves.pack(values, heads, hd) : new LongArray(1);
        if (half) {
            keys = PackedHalves.unpack(keysHalf, heads, hd);
            values = PackedHalves.unpack(valuesHalf, heads, hd);
        }
        FloatArray partial = new FloatArray(tokenPos.length * heads * chunks * (hd + 2));
        FloatArray out = new FloatArray(tokenPos.length * d);
        FloatArray dq = FloatArray.fromArray(q);
        FloatArray dk = half ? new FloatArray(1) : FloatArray.fromArray(keys);
        FloatArray dv = half ? new FloatArray(1) : FloatArray.fromArray(values);
        FloatArray scale = FloatArray.fromArray(NeoXKernels.bf16Scale());
        IntArray meta = IntArray.fromElements(live);
        IntArray layer = IntArray.fromElements(1);
        IntArray dPos = IntArray.fromArray(tokenPos);
        IntArray dRow = IntArray.fromArray(tokenRow);
        IntArray dStart = IntArray.fromArray(rowStart);
        IntArray dPages = IntArray.fromArray(pages);
        KernelContext ctx = new KernelContext();
        TaskGraph g = new TaskGraph("t")
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, dq, dk, dv, keysHalf, valuesHalf, scale, meta, layer,
                        dPos, dRow, dStart, dPages, out)
                .task("a", AttentionKernels::attentionChunks, ctx, dq, dk, dv, keysHalf, valuesHalf, scale, partial,
                        meta, layer, dPos, dRow, dStart, dPages, heads, hd, pageSize, slots, chunks,
                        half ? NeoXKernels.F16 : NeoXKernels.F32)
                .task("c", AttentionKernels::combineChunks, ctx, partial, out, meta, dPos, heads, hd, chunks)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        DeviceArrays.freedWithPlan(g, partial);
        GridScheduler scheduler = new GridScheduler();
        scheduler.addWorkerGrid("t.a", grid((long) tokenPos.length * heads * chunks * NeoXKernels.GROUP,
                NeoXKernels.GROUP));
        scheduler.addWorkerGrid("t.c", grid((long) tokenPos.length * heads * NeoXKernels.GROUP, NeoXKernels.GROUP));
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot())) {
            plan.withDevice(device).withGridScheduler(scheduler).execute();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }

        float[] want = new float[tokenPos.length * d];
        float sc = (float) (1 / Math.sqrt(hd));
        for (int t = 0; t < live; t++) {
            for (int h = 0; h < heads; h++) {
                int n = tokenPos[t] + 1;
                double[] sv = new double[n];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    int at = (slots + pages[rowStart[tokenRow[t]] + j / pageSize] * pageSize + j % pageSize) * d
                            + h * hd;
                    double dot = 0;
                    for (int i = 0; i < hd; i++) {
                        dot += (double) q[t * d + h * hd + i] * keys[at + i];
                    }
                    sv[j] = dot * sc;
                    max = Math.max(max, sv[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    sv[j] = Math.exp(sv[j] - max);
                    sum += sv[j];
                }
                for (int i = 0; i < hd; i++) {
                    double acc = 0;
                    for (int j = 0; j < n; j++) {
                        int at = (slots + pages[rowStart[tokenRow[t]] + j / pageSize] * pageSize + j % pageSize) * d
                                + h * hd;
                        acc += sv[j] * values[at + i];
                    }
                    want[t * d + h * hd + i] = (float) (acc / sum);
                }
            }
        }
        assertClose("chunked attention", live(want, live * d), live(out.toHeapArray(), live * d), FP32_TOLERANCE);
    }

    /** {@code out[i]} = the float16 bits of {@code in[i]} as the KV-cache store computes them. */
    public static void toHalf(KernelContext ctx, FloatArray in, ShortArray out, FloatArray scale) {
        int i = ctx.globalIdx;
        if (i < in.getSize()) {
            out.set(i, (short) NeoXKernels.halfBits(in.get(i), scale));
        }
    }

    /**
     * The float16 store of a float16 KV cache rounds exactly as {@code Float.floatToFloat16} (nearest even), bit for
     * bit: zeros of both signs, subnormals and their ties, the normal range's edges and ties, values that round up
     * into the next power of two, the largest finite value and what rounds past it, and random values of every
     * magnitude.
     */
    @Test
    void float16StoreRoundsToNearestEven() {
        SplittableRandom r = new SplittableRandom(16);
        float[] special = {0f, -0f, 5.96e-8f, 2.98e-8f, 2.99e-8f, 8.9e-8f, 6.0975e-5f, 6.1035156e-5f, 6.1e-5f,
                1f, -1f, 1.00048828125f, 1.0009765625f, 1.00146484375f, 2047.5f, 2048f, 2049f, 2050f, 65504f, 65519.99f,
                65520f, 1e6f, -1e-6f, 0.1f, 3.14159f, Float.MIN_VALUE, Float.MAX_VALUE, -65504f, 1.99951171875f,
                1.999755859375f, 32767.5f, 0.000030517578125f};
        int n = special.length + 4000;
        float[] v = Arrays.copyOf(special, n);
        for (int i = special.length; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * Math.pow(2, r.nextInt(-30, 18)));
        }
        FloatArray in = FloatArray.fromArray(v);
        ShortArray out = new ShortArray(n);
        FloatArray scale = FloatArray.fromArray(NeoXKernels.bf16Scale());
        TaskGraph g = new TaskGraph("t")
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, in, scale)
                .task("k", NeoXKernelsTest::toHalf, new KernelContext(), in, out, scale)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        run(g, "k", grid(n, 64));
        for (int i = 0; i < n; i++) {
            short want = Float.floatToFloat16(v[i]);
            assertEquals(want, out.get(i), "float16 bits of " + v[i] + " (0x" + Integer.toHexString(want & 0xFFFF)
                    + " expected, device 0x" + Integer.toHexString(out.get(i) & 0xFFFF) + ")");
        }
    }

    /**
     * Token selection: each live row's argmax (first on ties) and, for rows with a top-k, exactly the candidates the
     * host selects (ties included, index order); a row whose ties exceed the buffer says so (-1); rows past the live
     * count are left alone. 9,001 logits: past four loads of each of the 256 work items an iteration.
     */
    @ParameterizedTest(name = "{0} logits")
    @ValueSource(ints = {1003, 9001})
    void selectFindsArgmaxAndTopKCandidates(int n) {
        int cap = 40;
        int[] ks = {0, 1, 5, 37, 17, 3, 9};
        int rows = ks.length;
        int live = rows - 1;
        SplittableRandom r = new SplittableRandom(5);
        float[] logits = new float[rows * n];
        for (int i = 0; i < logits.length; i++) {
            // Few distinct values in places: ties at the k-th largest and at the maximum.
            logits[i] = r.nextInt(4) == 0 ? r.nextInt(7) : (float) (2 * r.nextGaussian());
        }
        // Row 4: 60 copies of its largest value, more than cap candidates for any k.
        for (int i = 0; i < 60; i++) {
            logits[4 * n + 11 * i] = 50f;
        }
        FloatArray y = FloatArray.fromArray(logits);
        IntArray topK = IntArray.fromArray(ks);
        IntArray ids = new IntArray(rows);
        ids.init(-7);
        FloatArray sums = new FloatArray(rows);
        IntArray candIds = new IntArray(rows * cap);
        FloatArray candLogits = new FloatArray(rows * cap);
        IntArray candCount = new IntArray(rows);
        candCount.init(-7);
        IntArray meta = IntArray.fromElements(live);
        KernelContext ctx = new KernelContext();
        TaskGraph g = new TaskGraph("t")
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, y, topK, ids, sums, candIds, candLogits, candCount,
                        meta)
                .task("k", NeoXKernels::selectTokens, ctx, y, topK, ids, sums, candIds, candLogits, candCount, meta, n,
                        cap)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, ids, sums, candIds, candLogits, candCount);
        run(g, "k", grid((long) rows * NeoXKernels.ROW_GROUP, NeoXKernels.ROW_GROUP));

        for (int row = 0; row < live; row++) {
            assertEquals(Sampler.argmax(logits, row * n, n), ids.get(row), "argmax of row " + row);
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += logits[row * n + i];
            }
            assertEquals(sum, sums.get(row), 1e-4 * n, "sum of row " + row);
            if (ks[row] == 0) {
                assertEquals(-7, candCount.get(row), "row " + row + " has no top-k");
                continue;
            }
            Candidates want = Candidates.of(logits, row * n, n, ks[row]);
            if (want.size() > cap) {
                assertEquals(-1, candCount.get(row), "row " + row + ": " + want.size() + " candidates");
                continue;
            }
            assertEquals(want.size(), candCount.get(row), "candidates of row " + row);
            for (int j = 0; j < want.size(); j++) {
                assertEquals(want.ids()[j], candIds.get(row * cap + j), "row " + row + " candidate " + j);
                assertEquals(want.logits()[j], candLogits.get(row * cap + j), "row " + row + " candidate " + j);
            }
        }
        assertEquals(-1, candCount.get(4), "the row of ties says it overflowed");
        assertEquals(-7, ids.get(live), "rows past the live count are left alone");
        assertEquals(-7, candCount.get(live));
    }

    /**
     * A row's sum is not finite exactly when one of its logits is not (NaN, either infinity, anywhere in the row),
     * under the fast math the kernels are compiled with: the host tells such rows by it.
     */
    @Test
    void selectSumsShowRowsThatAreNotFinite() {
        int n = 1003;
        float[][] specials = {{}, {Float.NaN}, {Float.POSITIVE_INFINITY}, {Float.NEGATIVE_INFINITY},
                {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}, {Float.NaN, Float.POSITIVE_INFINITY}, {}};
        int[] at = {0, 500, 0, n - 1, 77, 2, 0};
        int rows = specials.length;
        SplittableRandom r = new SplittableRandom(8);
        float[] logits = new float[rows * n];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (3 * r.nextGaussian());
        }
        for (int row = 0; row < rows; row++) {
            for (int j = 0; j < specials[row].length; j++) {
                logits[row * n + at[row] + 131 * j] = specials[row][j];
            }
        }
        FloatArray y = FloatArray.fromArray(logits);
        IntArray topK = new IntArray(rows);
        IntArray ids = new IntArray(rows);
        FloatArray sums = new FloatArray(rows);
        IntArray candIds = new IntArray(rows);
        FloatArray candLogits = new FloatArray(rows);
        IntArray candCount = new IntArray(rows);
        IntArray meta = IntArray.fromElements(rows);
        TaskGraph g = new TaskGraph("t")
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, y, topK, meta)
                .task("k", NeoXKernels::selectTokens, new KernelContext(), y, topK, ids, sums, candIds, candLogits,
                        candCount, meta, n, 1)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, ids, sums);
        run(g, "k", grid((long) rows * NeoXKernels.ROW_GROUP, NeoXKernels.ROW_GROUP));
        for (int row = 0; row < rows; row++) {
            boolean finite = specials[row].length == 0;
            assertEquals(finite, Float.isFinite(sums.get(row)), "row " + row + " sums to " + sums.get(row));
            if (finite) {
                assertEquals(Sampler.argmax(logits, row * n, n), ids.get(row), "argmax of row " + row);
            }
        }
    }

    private static ShortArray bits(float[] w, int format) {
        ShortArray out = new ShortArray(w.length);
        for (int i = 0; i < w.length; i++) {
            out.set(i, format == NeoXKernels.BF16 ? Bf16Matrix.fromFloat(w[i]) : F16Matrix.fromFloat(w[i]));
        }
        return out;
    }

    private static float[] widened(ShortArray bits, int format) {
        float[] out = new float[bits.getSize()];
        for (int i = 0; i < out.length; i++) {
            out[i] = format == NeoXKernels.BF16 ? Bf16Matrix.toFloat(bits.get(i)) : F16Matrix.toFloat(bits.get(i));
        }
        return out;
    }

    private static float[] live(float[] a, int n) {
        return Arrays.copyOf(a, n);
    }

    /** One output cell's value, by token and output. */
    private interface Cell {
        float at(int t, int j);
    }

    /**
     * A Linear layer's outputs after the epilogue {@code mode}, for the live tokens (the rest of {@code y0} as it
     * was): {@code a} the product plus its bias, {@code second} ADD_PAIR's other product, added as {@code (second +
     * a) + y}.
     */
    private static float[] expected(int mode, int tokens, int n, float[] y0, Cell a, Cell second) {
        float[] want = y0.clone();
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < n; j++) {
                float v = a.at(t, j);
                int at = t * n + j;
                want[at] = switch (mode) {
                    case NeoXKernels.GELU -> Gelu.apply(v);
                    case NeoXKernels.ADD -> v + y0[at];
                    case NeoXKernels.ADD_PAIR -> (second.at(t, j) + v) + y0[at];
                    default -> v;
                };
            }
        }
        return want;
    }

    private static float dot(float[] x, int xo, float[] w, int wo, int k) {
        double s = 0;
        for (int c = 0; c < k; c++) {
            s += (double) x[xo + c] * w[wo + c];
        }
        return (float) s;
    }

    /**
     * The few-token kernel of the tensor-core path ({@link PackedDecodeKernels}) over its packed float16 weights
     * ({@link MmaKernels#packWeights}), float32 activations: against float64 products of the float16 weights, every
     * epilogue (ADD_PAIR with a second product of another width), token counts across its 4-token tiles up to
     * {@code LayerTasks.FEW_TOKENS}, n and k not multiples of its 16 outputs or the packing's 32 k; layer 1 of 2
     * stacked; rows past the live tokens untouched.
     */
    @ParameterizedTest(name = "mode {0}, n {1}, k {2}, second k {3}, {4} tokens")
    @CsvSource({"0,1025,37,0,1", "1,300,64,0,3", "2,128,96,0,16", "3,1000,200,70,5", "0,50,1030,0,9",
            "3,64,33,1030,1", "3,130,300,300,16", "1,17,2048,0,2", "2,3072,1024,0,4", "0,200,64,0,12",
            "3,40,48,100,7"})
    void packedDecodeKernelMatchesFloat16WeightProducts(int mode, int n, int k, int kb, int tokens) {
        SplittableRandom r = new SplittableRandom(mode * 71L + n + 3L * k + kb + tokens);
        int layers = 2;
        int rows = tokens + 3;
        int kw = Math.max(kb, 1);
        float[] xa = random(r, rows * k, 1);
        float[] xb = random(r, rows * kw, 1);
        float[] wa = float16(random(r, layers * n * k, 1 / Math.sqrt(k)));
        float[] wb = float16(random(r, layers * n * kw, 1 / Math.sqrt(kw)));
        float[] ba = random(r, layers * n, 0.1);
        float[] bb = random(r, layers * n, 0.1);
        float[] y0 = random(r, rows * n, 1);
        FloatArray y = FloatArray.fromArray(y0);
        FloatArray dxa = FloatArray.fromArray(xa);
        FloatArray dxb = FloatArray.fromArray(xb);
        LongArray dwa = LongArray.fromArray(MmaKernels.packWeights(float16Bits(wa, layers), n, k));
        LongArray dwb = LongArray.fromArray(MmaKernels.packWeights(float16Bits(wb, layers), n, kw));
        FloatArray dba = FloatArray.fromArray(ba);
        FloatArray dbb = FloatArray.fromArray(bb);
        FloatArray scale = FloatArray.fromArray(NeoXKernels.bf16Scale());
        IntArray meta = IntArray.fromElements(tokens);
        IntArray layer = IntArray.fromElements(1);
        KernelContext ctx = new KernelContext();
        TaskGraph g = new TaskGraph("t")
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, dxa, dxb, dwa, dwb, dba, dbb, y, scale, meta,
                        layer)
                .task("k", PackedDecodeKernels::linear, ctx, dxa, dwa, dba, dxb, dwb, dbb, y, scale, meta, layer, n, k,
                        kb, 1, mode)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, y);
        run(g, "k", grid(PackedDecodeKernels.items(n), PackedDecodeKernels.GROUP));

        float[] want = expected(mode, tokens, n, y0, (t, j) -> dot(xa, t * k, wa, (n + j) * k, k) + ba[n + j],
                (t, j) -> dot(xb, t * kb, wb, (n + j) * kb, kb) + bb[n + j]);
        assertClose("packed decode linear, mode " + mode, want, y.toHeapArray(), FP32_TOLERANCE);
    }

    /** {@code v} rounded to float16, in place. */
    private static float[] float16(float[] v) {
        for (int i = 0; i < v.length; i++) {
            v[i] = Float.float16ToFloat(Float.floatToFloat16(v[i]));
        }
        return v;
    }

    /** The float16 bits of {@code layers} stacked matrices. */
    private static short[][] float16Bits(float[] w, int layers) {
        int size = w.length / layers;
        short[][] bits = new short[layers][size];
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < size; i++) {
                bits[l][i] = Float.floatToFloat16(w[l * size + i]);
            }
        }
        return bits;
    }
}
