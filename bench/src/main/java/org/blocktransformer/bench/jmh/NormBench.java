package org.blocktransformer.bench.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.blocktransformer.model.cpu.CpuKernels;
import org.blocktransformer.model.weights.LayerNormWeights;
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
import org.openjdk.jmh.annotations.Threads;

/**
 * LayerNorm over {@code rows x hidden} and the exact GELU over {@code rows x 4 hidden} (one thread each), read as
 * bandwidth: every element read once and written once (the GELU call also restores its input with a copy first).
 * Small sizes stay in the caches, so they can exceed the memory bandwidth.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {Shapes.VECTOR})
@State(Scope.Benchmark)
public class NormBench {

    @Param({"512", "1024"})
    public int hidden;

    @Param({"1", "32", "256"})
    public int rows;

    /** The CPU kernels: auto (the machine's width), scalar, or 128, 256, 512 bits. */
    @Param({"auto"})
    public String kernels;

    float[] x;
    float[] out;
    float[] mlp;
    float[] mlpIn;
    LayerNormWeights weights;
    CpuKernels cpu;

    /** Bytes of a LayerNorm call: read and write every element. */
    public static double normBytes(int hidden, int rows) {
        return 2.0 * rows * hidden * Float.BYTES;
    }

    /**
     * Bytes of a GELU call over the MLP's hidden layer (4 hidden per row): the copy that restores the input (read and
     * write) and the in-place GELU (read and write).
     */
    public static double geluBytes(int hidden, int rows) {
        return 4.0 * rows * 4 * hidden * Float.BYTES;
    }

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom r = new SplittableRandom(3);
        x = Shapes.random(r, rows * hidden, 1);
        out = new float[x.length];
        mlpIn = Shapes.random(r, rows * 4 * hidden, 1);
        mlp = mlpIn.clone();
        weights = Shapes.norm(r, hidden);
        cpu = CpuKernels.named(kernels);
    }

    @Benchmark
    @Threads(1)
    public float[] layerNorm() {
        cpu.layerNorm(x, 0, rows, weights, 1e-5, out);
        return out;
    }

    @Benchmark
    @Threads(1)
    public float[] gelu() {
        System.arraycopy(mlpIn, 0, mlp, 0, mlp.length);
        cpu.gelu(mlp, 0, mlp.length);
        return mlp;
    }
}
