package org.blocktransformer.loader;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntUnaryOperator;
import java.util.stream.IntStream;

import org.blocktransformer.loader.assemble.ParameterSource;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.HalfMatrix;
import org.blocktransformer.model.weights.Matrix;
import org.blocktransformer.model.weights.MatrixLayout;
import org.blocktransformer.model.weights.PanelMatrix;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * Seeded Gaussian parameters for presets. The scheme is the golden data's (golden README, "How this was produced"),
 * chosen because it keeps activations and logits well scaled at any width or depth without training:
 * <ul>
 *   <li>token embedding tables N(0, 1);</li>
 *   <li>{@code embed_out} N(0, 4/D): after the final LayerNorm (unit variance) logits have std about 2;</li>
 *   <li>other Linear / Conv1d weights N(0, 1/fan_in): each layer keeps the variance of its input;</li>
 *   <li>LayerNorm weights N(1, 0.1^2), all biases N(0, 0.1^2): not exactly 1 and 0, so that kernels that ignore
 *       them fail tests.</li>
 * </ul>
 *
 * <p>Deterministic and parallel: each tensor is cut into fixed chunks of {@value #CHUNK} values and every chunk draws
 * from its own {@link SplittableRandom} seeded from (preset name, tensor name, chunk index, seed). The numbers are
 * therefore the same whatever the thread count or scheduling, and the BF16 and F16 weights are exactly the F32
 * weights rounded. Allocation happens while the records are assembled; {@link #fill()} then generates all chunks in
 * parallel, writing 16-bit values directly for BF16 and F16 matrices (no float32 copy of a 1.2B-parameter model).
 */
final class RandomParameters implements ParameterSource {

    static final int CHUNK = 1 << 16;

    private final String scope;
    private final long seed;
    private final WeightFormat format;
    private final MatrixLayout layout;
    private final LoadProgress progress;
    /** Values allocated plus values drawn: the progress, out of twice the expected count. */
    private final AtomicLong done = new AtomicLong();
    private final long expected;
    private long total;
    /** Order does not matter: every chunk seeds its own generator. Appended to from the assembler's threads. */
    private final List<Runnable> chunks = Collections.synchronizedList(new ArrayList<>());

    /**
     * @param scope  names the model (the preset name), so that two presets never share streams
     * @param layout   of the Linear layers' matrices (the same numbers, placed in rows or in panels)
     * @param expected values the model will ask for: progress counts each once allocated and once drawn (for
     *                 large models, allocating, the first touch of fresh memory, takes about as long as drawing)
     */
    RandomParameters(String scope, long seed, WeightFormat format, MatrixLayout layout, long expected,
                     LoadProgress progress) {
        this.scope = scope;
        this.expected = expected;
        this.seed = seed;
        this.format = format;
        this.layout = layout;
        this.progress = progress;
    }

    @Override
    public Matrix matrix(String name, int rows, int cols, Role role) {
        double std = switch (role) {
            case TOKEN_EMBEDDING -> 1.0;
            case OUTPUT_EMBEDDING -> 2.0 / Math.sqrt(cols);
            case LINEAR -> 1.0 / Math.sqrt(cols);
            case NORM_WEIGHT, BIAS -> throw new IllegalArgumentException(role + " is not a matrix: " + name);
        };
        int n = Math.multiplyExact(rows, cols);
        // Value i (row-major) is drawn the same either way; panels only place it elsewhere.
        boolean panels = layout == MatrixLayout.PANELS && role != Role.TOKEN_EMBEDDING;
        int size = panels ? (int) PanelMatrix.size(rows, cols) : n;
        IntUnaryOperator place = panels ? i -> PanelMatrix.index(i / cols, i % cols, cols) : i -> i;
        if (format != WeightFormat.F32) {
            short[] data = new short[size];
            schedule(name, n, (random, from, to) -> {
                for (int i = from; i < to; i++) {
                    data[place.applyAsInt(i)] = HalfMatrix.round(format, (float) (random.nextGaussian() * std));
                }
            });
            return panels ? new PanelMatrix(rows, cols, null, data, format) : HalfMatrix.of(format, rows, cols, data);
        }
        float[] data = new float[size];
        schedule(name, n, (random, from, to) -> {
            for (int i = from; i < to; i++) {
                data[place.applyAsInt(i)] = (float) (random.nextGaussian() * std);
            }
        });
        return panels ? new PanelMatrix(rows, cols, data, null, format) : new F32Matrix(rows, cols, data);
    }

    /** Conv1d weights are drawn as the equivalent Linear: fan_in = in * kernel = its column count. */
    @Override
    public Matrix conv1dAsLinear(String name, int out, int in, int kernel) {
        return matrix(name, out, in * kernel, Role.LINEAR);
    }

    @Override
    public float[] vector(String name, int length, Role role) {
        if (role != Role.NORM_WEIGHT && role != Role.BIAS) {
            throw new IllegalArgumentException(role + " is not a vector: " + name);
        }
        float[] v = new float[length];
        double mean = role == Role.NORM_WEIGHT ? 1.0 : 0.0;
        schedule(name, length, gaussian(v, mean, 0.1));
        return v;
    }

    /** Generates every scheduled chunk, in parallel; the arrays handed out so far are complete on return. */
    void fill() {
        List<Runnable> all = List.copyOf(chunks);
        chunks.clear();
        IntStream.range(0, all.size()).parallel().forEach(i -> all.get(i).run());
    }

    /** Values scheduled so far. */
    long scheduled() {
        return total;
    }

    private interface ChunkFiller {
        void fill(SplittableRandom random, int from, int to);
    }

    private static ChunkFiller gaussian(float[] data, double mean, double std) {
        return (random, from, to) -> {
            for (int i = from; i < to; i++) {
                data[i] = (float) (mean + random.nextGaussian() * std);
            }
        };
    }

    private synchronized void count(int n) {
        total += n;
    }

    private void schedule(String tensor, int n, ChunkFiller filler) {
        count(n);
        progress.advanced(done.addAndGet(n), 2 * expected);
        long tensorSeed = mix64(hash(scope + '\0' + tensor) ^ mix64(seed));
        for (int from = 0, chunk = 0; from < n; from += CHUNK, chunk++) {
            int start = from, end = Math.min(n, from + CHUNK);
            // mix64 scatters chunk streams over the generator's 2^64 cycle: seeds s and s+1 would share a stream.
            long chunkSeed = mix64(tensorSeed + mix64(chunk + 1L));
            chunks.add(() -> {
                filler.fill(new SplittableRandom(chunkSeed), start, end);
                progress.advanced(done.addAndGet(end - start), 2 * expected);
            });
        }
    }

    /** 64-bit FNV-1a of the UTF-8 bytes: stable across JVMs, unlike String.hashCode's 32 bits. */
    private static long hash(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** Stafford's Mix13 finaliser (as in SplittableRandom). */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
