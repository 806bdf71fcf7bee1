package org.blocktransformer.bench.jmh;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * The machine's limits the kernels are read against: FMA throughput (independent chains of vector FMAs that stay
 * in registers, so nothing but the FMA units limits them) and memory bandwidth (copy and read of arrays far larger
 * than the caches). One-thread and all-threads variants; with several threads each copies or reads its own slice.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {Shapes.VECTOR, "-Xmx3g"})
public class PeakBench {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** FMAs per chain per call; 12 chains: enough independent work to cover the FMA latency on two ports. */
    static final int ITERATIONS = 4096;
    static final int CHAINS = 12;
    /** 512 MiB of floats per array: far beyond any cache; threads share the arrays, each taking a slice. */
    static final int ARRAY = 128 << 20;

    /** FLOPs one {@code fma*} call does: 2 per lane per FMA. */
    public static long fmaFlops() {
        return 2L * S.length() * CHAINS * ITERATIONS;
    }

    /** Bytes one copy call of one of {@code threads} threads moves: its slice, read plus write. */
    public static long copyBytes(int threads) {
        return 2L * (ARRAY / threads) * Float.BYTES;
    }

    /** Bytes one read call of one of {@code threads} threads reads. */
    public static long readBytes(int threads) {
        return (long) (ARRAY / threads) * Float.BYTES;
    }

    @State(Scope.Thread)
    public static class Registers {
        float a = 1.0000001f;
        float b = 0.9999999f;
    }

    @State(Scope.Benchmark)
    public static class Arrays {
        float[] src;
        float[] dst;

        @Setup(Level.Trial)
        public void setUp() {
            src = new float[ARRAY];
            dst = new float[ARRAY];
            java.util.Arrays.fill(src, 1f);
            java.util.Arrays.fill(dst, 2f);
        }
    }

    /** {@link #fmaFlops()} FLOPs in 12 independent FMA chains (also used by bt bench's machine limits). */
    public static float fma(Registers r) {
        return fma(r.a, r.b);
    }

    public static float fma(float ra, float rb) {
        FloatVector a = FloatVector.broadcast(S, ra);
        FloatVector b = FloatVector.broadcast(S, rb);
        FloatVector c0 = a, c1 = b, c2 = a, c3 = b, c4 = a, c5 = b, c6 = a, c7 = b, c8 = a, c9 = b, c10 = a, c11 = b;
        for (int i = 0; i < ITERATIONS; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
            c8 = c8.fma(a, b);
            c9 = c9.fma(a, b);
            c10 = c10.fma(a, b);
            c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }

    @Benchmark
    @Threads(1)
    public float fmaOneThread(Registers r) {
        return fma(r);
    }

    @Benchmark
    @Threads(Threads.MAX)
    public float fmaAllThreads(Registers r) {
        return fma(r);
    }

    static float[] copy(Arrays a, ThreadParams t) {
        int slice = ARRAY / t.getThreadCount();
        int from = t.getThreadIndex() * slice;
        System.arraycopy(a.src, from, a.dst, from, slice);
        return a.dst;
    }

    @Benchmark
    @Threads(1)
    public float[] copyOneThread(Arrays a, ThreadParams t) {
        return copy(a, t);
    }

    @Benchmark
    @Threads(Threads.MAX)
    public float[] copyAllThreads(Arrays a, ThreadParams t) {
        return copy(a, t);
    }

    static float read(float[] src, ThreadParams t) {
        int slice = ARRAY / t.getThreadCount();
        int from = t.getThreadIndex() * slice;
        return read(src, from, from + slice);
    }

    /** The sum of {@code src[from, end)} by vector loads: a read-bandwidth probe. */
    public static float read(float[] src, int from, int end) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int step = S.length();
        for (int i = from; i + 4 * step <= end; i += 4 * step) {
            s0 = s0.add(FloatVector.fromArray(S, src, i));
            s1 = s1.add(FloatVector.fromArray(S, src, i + step));
            s2 = s2.add(FloatVector.fromArray(S, src, i + 2 * step));
            s3 = s3.add(FloatVector.fromArray(S, src, i + 3 * step));
        }
        return s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
    }

    @Benchmark
    @Threads(1)
    public float readOneThread(Arrays a, ThreadParams t) {
        return read(a.src, t);
    }

    @Benchmark
    @Threads(Threads.MAX)
    public float readAllThreads(Arrays a, ThreadParams t) {
        return read(a.src, t);
    }
}
