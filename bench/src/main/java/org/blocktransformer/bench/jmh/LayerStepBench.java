package org.blocktransformer.bench.jmh;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.blocktransformer.model.backend.StackExecutor;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.CacheTable;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.cpu.CpuBackend;
import org.blocktransformer.model.weights.LayerWeights;
import org.blocktransformer.model.weights.StackWeights;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * One decode step of one GPT-NeoX layer (the engine's own stack executor on the CPU backend, all processors):
 * {@code batch} rows each append one position to a paged KV cache that already holds {@code context - 1}. Context 1
 * is the layer without attention work; 5 is the token decoder's local cache (R + L_B - 1 for the presets); 128 and
 * 2048 are global caches (vanilla, block decoder). The attention's share is the difference to context 1, so the
 * report reads the attention's KV-cache reads as bandwidth: {@code batch x (context-1) x D x 2 x 4} bytes over
 * {@code t(context) - t(1)}. The cache holds zeros (the timing does not depend on the values).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {Shapes.VECTOR, "-Xmx4g"})
@State(Scope.Benchmark)
public class LayerStepBench {

    @Param({"512"})
    public int hidden;

    @Param({"1", "5", "128", "2048"})
    public int context;

    @Param({"1", "32", "256"})
    public int batch;

    CpuBackend backend;
    StackExecutor stack;
    CacheTable[] tables;
    StackRow[] rows;
    float[] input;
    float[] x;

    /** Bytes of keys and values the step's attention reads (the positions already cached). */
    public static double kvBytes(int hidden, int context, int batch) {
        return (double) batch * (context - 1) * hidden * 2 * Float.BYTES;
    }

    /** FLOPs of the layer's matmuls for one step: 2 x batch x (3D^2 + D^2 + 2 x D x 4D). */
    public static double matmulFlops(int hidden, int batch) {
        return 2.0 * batch * (12.0 * hidden * hidden);
    }

    @Setup(Level.Trial)
    public void setUp() {
        int heads = hidden / 64;
        NeoXConfig config = NeoXConfig.pythia(hidden, 1, heads, 4 * hidden, 2048);
        SplittableRandom r = new SplittableRandom(11);
        List<LayerWeights> layers = new ArrayList<>();
        layers.add(Shapes.layer(r, hidden, 4 * hidden, "f32"));
        backend = new CpuBackend(0);
        stack = backend.stack(config, new StackWeights(layers, Shapes.norm(r, hidden)));
        int pagesPerRow = (context + 15) / 16;
        PagePool pool = new PagePool(1, hidden, 16, batch * pagesPerRow);
        tables = new CacheTable[batch];
        rows = new StackRow[batch];
        for (int b = 0; b < batch; b++) {
            tables[b] = pool.newTable();
            tables[b].reserve(context);
            tables[b].setLength(context - 1);
            rows[b] = new StackRow(tables[b], 1);
        }
        input = Shapes.random(r, batch * hidden, 1);
        x = new float[input.length];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    @Threads(1)
    public float[] step() {
        System.arraycopy(input, 0, x, 0, x.length);
        stack.forward(x, rows);
        for (CacheTable t : tables) {
            t.setLength(context - 1);
        }
        return x;
    }
}
