package org.blocktransformer.bench.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.runtime.Sampler;
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
 * Top-p sampling without top-k on the host, per row of a 50,304-token vocabulary: what the engine does for every
 * token of a request with {@code --top-p} and no {@code --top-k} (softmax over the whole row, the nucleus, one
 * draw). {@code spread} is the logits' standard deviation: at 1 the distribution is nearly flat and the nucleus
 * holds most of the vocabulary, at 4 it is peaked and the nucleus holds a few hundred tokens. Run with
 * {@code scripts/jmh --jmh NucleusBench}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {Shapes.VECTOR})
@State(Scope.Benchmark)
public class NucleusBench {

    @Param({"1", "4"})
    public double spread;

    @Param({"0.95"})
    public double topP;

    float[] row;
    Sampler sampler;

    @Setup(Level.Trial)
    public void setUp() {
        row = Shapes.random(new SplittableRandom(5), 50304, spread);
        sampler = new Sampler(SamplingParams.sample(0.8, 0, topP, 7));
    }

    @Benchmark
    public int nucleus() {
        return sampler.next(row, 0, row.length);
    }
}
