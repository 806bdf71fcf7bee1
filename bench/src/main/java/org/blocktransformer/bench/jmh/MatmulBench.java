package org.blocktransformer.bench.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.blocktransformer.model.cpu.CpuKernels;
import org.blocktransformer.model.cpu.CpuOps;
import org.blocktransformer.model.cpu.PackedLinear;
import org.blocktransformer.model.cpu.Parallel;
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
 * The CPU matmul ({@code y = W x + b} for M rows) at the presets' shapes, N x K (outputs x inputs): vanilla-70m /
 * block-b4-19m (D 512): qkv 1536x512, MLP up 2048x512, MLP down 512x2048, the output head 50304x512; D 1024
 * (vanilla-410m, block-b4-300m): MLP up 4096x1024. {@code kernel}: one thread, the whole matrix; {@code parallel}:
 * the engine's call, split over output panels on all processors.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {Shapes.VECTOR, "-Xmx3g"})
@State(Scope.Benchmark)
public class MatmulBench {

    @Param({"1536x512", "2048x512", "512x2048", "50304x512", "4096x1024"})
    public String shape;

    @Param({"1", "8", "32", "128", "256"})
    public int batch;

    @Param({"f32"})
    public String dtype;

    /** The CPU kernels: auto (the machine's width), scalar, or 128, 256, 512 bits. */
    @Param({"auto"})
    public String kernels;

    PackedLinear layer;
    float[] x;
    float[] y;
    CpuKernels cpu;
    Parallel parallel;
    CpuOps ops;

    /** FLOPs of one call: 2 M N K. */
    public static double flops(String shape, int batch) {
        int[] nk = Shapes.parse(shape);
        return 2.0 * batch * nk[0] * nk[1];
    }

    /** Bytes one call must move at least: the weights once, the inputs and outputs. */
    public static double bytes(String shape, int batch, String dtype) {
        int[] nk = Shapes.parse(shape);
        return (double) nk[0] * nk[1] * ("f32".equals(dtype) ? 4 : 2) + 4.0 * batch * (nk[0] + nk[1]);
    }

    @Setup(Level.Trial)
    public void setUp() {
        int[] nk = Shapes.parse(shape);
        SplittableRandom r = new SplittableRandom(7);
        layer = PackedLinear.of(Shapes.linear(r, nk[0], nk[1], dtype));
        x = Shapes.random(r, batch * nk[1], 1);
        y = new float[batch * nk[0]];
        cpu = CpuKernels.named(kernels);
        parallel = new Parallel(0);
        ops = new CpuOps(cpu, parallel);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        parallel.close();
    }

    @Benchmark
    @Threads(1)
    public float[] kernel() {
        cpu.matmulPanels(x, batch, layer.weight(), layer.bias(), y, 0, layer.weight().panels());
        return y;
    }

    @Benchmark
    @Threads(1)
    public float[] parallel() {
        ops.linear(x, batch, layer, y);
        return y;
    }
}
