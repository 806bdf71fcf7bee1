package org.blocktransformer.tornado;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.Linear;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;

/**
 * JMH: one Linear layer on a TornadoVM device with each kernel family, as the output head runs it (the product and
 * the token selection, ids back): where the few-token kernel stops paying ({@link LayerTasks#FEW_TOKENS}), what a
 * launch costs, what bfloat16 weights save, and what top-k selection adds ({@code -p topK=50}). Shapes are
 * vanilla-410m's: QKV (3072 x 1024), MLP down (1024 x 4096) and the head (50304 x 1024). Run with scripts/jmh-gpu (the JVM must start with TornadoVM; JMH does not fork, so the argfile applies).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(0)
public class LinearKernelBenchmark {
    @Param({"3072x1024", "1024x4096", "50304x1024"})
    public String shape;

    @Param({"1", "4", "16", "64", "256"})
    public int tokens;

    @Param({"FEW", "MANY"})
    public String family;

    /** Weight storage on the device: float32, or bfloat16 or float16 widened in the kernel. */
    @Param({"f32", "bf16", "f16"})
    public String weights;

    /** Token selection after the product: 0 = argmax only (greedy), else each row's top-k candidates as well. */
    @Param({"0"})
    public int topK;

    /** TornadoVM's "backend:device", or a name match (as {@code --device}); empty: TornadoVM's default. */
    @Param({""})
    public String device;

    private TornadoLinearExecutor linear;
    private LayerTasks.Family kernels;

    @Setup
    public void setUp() {
        String[] nk = shape.split("x");
        int n = Integer.parseInt(nk[0]);
        int k = Integer.parseInt(nk[1]);
        SplittableRandom r = new SplittableRandom(7);
        F32Matrix w = new F32Matrix(n, k, random(r, n * k));
        Linear layer = new Linear(switch (weights) {
            case "bf16" -> Bf16Matrix.of(w);
            case "f16" -> F16Matrix.of(w);
            default -> w;
        }, random(r, n));
        var chosen = TornadoDevices.choose(device);
        linear = new TornadoLinearExecutor(layer, chosen, TornadoBackend.MAX_TOKENS, false,
                TornadoDevices.isPtx(chosen));
        linear.load(random(r, tokens * k), 0, tokens);
        linear.selectTopK(tokens, topK);
        kernels = LayerTasks.Family.valueOf(family);
    }

    @Benchmark
    public TornadoExecutionResult linearAndSelection() {
        return linear.run(tokens, kernels);
    }

    @TearDown
    public void tearDown() {
        linear.close();
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * 0.05);
        }
        return a;
    }
}
