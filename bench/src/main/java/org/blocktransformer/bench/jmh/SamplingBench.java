package org.blocktransformer.bench.jmh;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.blocktransformer.model.backend.Candidates;
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

/**
 * Top-k candidate selection on the host, per row of a 50,304-token vocabulary: what the CPU backend does for every
 * top-k sampled token ({@link Candidates#of}), beside finding the k-th largest by sorting a copy of the row (what
 * it did before). Run with {@code scripts/jmh --jmh SamplingBench}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {Shapes.VECTOR})
@State(Scope.Benchmark)
public class SamplingBench {

    @Param({"40", "1000"})
    public int k;

    float[] row;

    @Setup(Level.Trial)
    public void setUp() {
        row = Shapes.random(new SplittableRandom(5), 50304, 3);
    }

    @Benchmark
    public Candidates candidates() {
        return Candidates.of(row, 0, row.length, k);
    }

    @Benchmark
    public float kthBySorting() {
        float[] sorted = Arrays.copyOf(row, row.length);
        Arrays.sort(sorted);
        return sorted[row.length - k];
    }
}
