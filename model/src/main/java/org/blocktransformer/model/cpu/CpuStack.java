package org.blocktransformer.model.cpu;

import java.util.Arrays;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.backend.StackExecutor;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.CacheTable;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.neox.Rotary;
import org.blocktransformer.model.weights.LayerWeights;
import org.blocktransformer.model.weights.StackWeights;

/**
 * The GPT-NeoX stack on the CPU: the one definition of the layer math that the vanilla model, the block decoder
 * and the token decoder all run.
 *
 * <p>A call takes new positions of several rows at once (a prefill chunk of one row and single steps of others can
 * share a call), appends their keys and values to each row's cache and returns the final-normed hidden states.
 * Rows never see each other: every row attends only to its own cache, and each output element is computed by the
 * same operations whatever the batch, so batched results equal single-sequence results bit for bit.
 */
final class CpuStack implements StackExecutor {

    private final NeoXConfig config;
    private final StackWeights weights;
    private final PackedLayer[] packed;
    private final CpuOps ops;
    private final Rotary rotary;
    private final float scale;
    private static final int KEY_LANES = CpuKernels.KEY_LANES;
    private final Workspace ws = new Workspace();
    private static final ThreadLocal<float[]> SCORES = ThreadLocal.withInitial(() -> new float[0]);

    CpuStack(NeoXConfig config, StackWeights weights, CpuOps ops) {
        if (weights.layers().size() != config.numLayers()) {
            throw new IllegalArgumentException("config has " + config.numLayers() + " layers but weights have "
                    + weights.layers().size());
        }
        this.config = config;
        this.weights = weights;
        this.ops = ops;
        this.packed = weights.layers().stream().map(PackedLayer::of).toArray(PackedLayer[]::new);
        this.rotary = new Rotary(config);
        this.scale = (float) (1.0 / Math.sqrt(config.headSize()));
    }

    @Override
    public NeoXConfig config() {
        return config;
    }

    /**
     * Runs the stack over the new positions of {@code rows}.
     *
     * @param x [T, D] inputs of all new positions, rows in order; replaced by the final-normed hidden states
     */
    @Override
    public void forward(float[] x, StackRow[] rows) {
        int d = config.hiddenSize();
        int tokens = StackRow.checkAll(rows, rotary.maxPositions());
        if (tokens == 0) {
            return;
        }
        ws.ensure(tokens, d, config.intermediateSize());
        CacheTable[] tableOf = new CacheTable[tokens];
        // Each token's KV storage, looked up once per row here rather than per token, head and layer below.
        KvStorage[] storeOf = new KvStorage[tokens];
        int[] positionOf = new int[tokens];
        int t = 0;
        for (StackRow r : rows) {
            KvStorage kv = storage(r.cache().pool());
            for (int i = 0; i < r.count(); i++, t++) {
                tableOf[t] = r.cache();
                storeOf[t] = kv;
                positionOf[t] = r.cache().length() + i;
            }
        }
        for (int layer = 0; layer < config.numLayers(); layer++) {
            layer(layer, weights.layers().get(layer), packed[layer], x, tokens, tableOf, storeOf, positionOf);
        }
        for (StackRow r : rows) {
            r.cache().setLength(r.cache().length() + r.count());
        }
        ops.layerNorm(x, tokens, weights.finalNorm(), config.layerNormEps(), x);
    }

    private void layer(int layer, LayerWeights w, PackedLayer pw, float[] x, int tokens, CacheTable[] tableOf,
                       KvStorage[] storeOf, int[] positionOf) {
        int d = config.hiddenSize();
        double eps = config.layerNormEps();
        ops.layerNorm(x, tokens, w.inputNorm(), eps, ws.normed);
        ops.linear(ws.normed, tokens, pw.qkv(), ws.qkv);
        storeKeysValues(layer, tokens, tableOf, storeOf, positionOf);
        attention(layer, tokens, tableOf, storeOf, positionOf);
        ops.linear(ws.attention, tokens, pw.attentionOut(), ws.attentionOut);
        if (config.parallelResidual()) {
            ops.layerNorm(x, tokens, w.postAttentionNorm(), eps, ws.normed);
            mlp(pw, tokens);
            // Same association as the reference: (mlp + attn) + residual.
            for (int i = 0; i < tokens * d; i++) {
                x[i] = (ws.mlpOut[i] + ws.attentionOut[i]) + x[i];
            }
        } else {
            for (int i = 0; i < tokens * d; i++) {
                x[i] = ws.attentionOut[i] + x[i];
            }
            ops.layerNorm(x, tokens, w.postAttentionNorm(), eps, ws.normed);
            mlp(pw, tokens);
            for (int i = 0; i < tokens * d; i++) {
                x[i] = ws.mlpOut[i] + x[i];
            }
        }
    }

    private void mlp(PackedLayer w, int tokens) {
        int inter = config.intermediateSize();
        ops.linear(ws.normed, tokens, w.mlpUp(), ws.mlpHidden);
        ops.parallel().forRange(tokens * inter, 1024, (long) tokens * inter * 8,
                (from, to) -> ops.kernels().gelu(ws.mlpHidden, from, to));
        ops.linear(ws.mlpHidden, tokens, w.mlpDown(), ws.mlpOut);
    }

    /** Rotates q and k of every head in place and appends k and v to each row's cache. */
    private void storeKeysValues(int layer, int tokens, CacheTable[] tableOf, KvStorage[] storeOf, int[] positionOf) {
        int d = config.hiddenSize();
        // Tokens over the threads: each writes its own slot (its own lanes of a key block) and its own qkv row. On
        // one thread this loop was a third of the engine thread's own work in a batch-32 step (a flight recording).
        ops.parallel().forRange(tokens, 1, (long) tokens * d * 8,
                (from, to) -> storeKeysValues(layer, from, to, tableOf, storeOf, positionOf));
    }

    private void storeKeysValues(int layer, int from, int to, CacheTable[] tableOf, KvStorage[] storeOf,
                                 int[] positionOf) {
        int d = config.hiddenSize();
        int hd = config.headSize();
        int heads = config.numHeads();
        for (int t = from; t < to; t++) {
            int p = positionOf[t];
            int slot = tableOf[t].slot(p);
            KvStorage kv = storeOf[t];
            float[] keys = kv.keys()[layer];
            float[] values = kv.values()[layer];
            int block = slot / KEY_LANES;
            int lane = slot % KEY_LANES;
            for (int h = 0; h < heads; h++) {
                int q = t * 3 * d + h * 3 * hd;
                int k = q + hd;
                int v = k + hd;
                rotary.apply(ws.qkv, q, p);
                rotary.apply(ws.qkv, k, p);
                if (kv.float16()) {
                    for (int i = 0; i < 2 * hd; i++) {
                        ws.qkv[k + i] = Float.float16ToFloat(Float.floatToFloat16(ws.qkv[k + i]));
                    }
                }
                // Keys transposed in blocks of 16 positions ([block][hidden][lane]) so 16 scores come from
                // lanewise FMAs; values stay [slot][hidden] for the weighted sum.
                int ko = (block * d + h * hd) * KEY_LANES + lane;
                for (int i = 0; i < hd; i++) {
                    keys[ko + i * KEY_LANES] = ws.qkv[k + i];
                }
                System.arraycopy(ws.qkv, v, values, slot * d + h * hd, hd);
            }
        }
    }

    private void attention(int layer, int tokens, CacheTable[] tableOf, KvStorage[] storeOf, int[] positionOf) {
        int heads = config.numHeads();
        long cost = 0;
        for (int t = 0; t < tokens; t++) {
            cost += (long) (positionOf[t] + 1) * config.hiddenSize() * 2;
        }
        ops.parallel().forRange(tokens * heads, 1, cost, (from, to) -> {
            for (int i = from; i < to; i++) {
                attendOne(layer, i / heads, i % heads, tableOf[i / heads], storeOf[i / heads], positionOf[i / heads]);
            }
        });
    }

    /** Softmax attention of one head of one token over its row's positions 0..p. */
    private void attendOne(int layer, int t, int h, CacheTable table, KvStorage kv, int p) {
        int d = config.hiddenSize();
        int hd = config.headSize();
        var kernels = ops.kernels();
        float[] keys = kv.keys()[layer];
        float[] values = kv.values()[layer];
        int n = p + 1;
        int groups = (n + KEY_LANES - 1) / KEY_LANES;
        float[] scores = SCORES.get();
        if (scores.length < groups * KEY_LANES) {
            scores = new float[Math.max(groups * KEY_LANES, 2 * scores.length)];
            SCORES.set(scores);
        }
        int q = t * 3 * d + h * 3 * hd;
        for (int g = 0; g < groups; g++) {
            int block = table.slot(g * KEY_LANES) / KEY_LANES;
            kernels.keyScores(ws.qkv, q, keys, (block * d + h * hd) * KEY_LANES, hd, KEY_LANES, scores, g * KEY_LANES);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            float s = scores[j] * scale;
            scores[j] = s;
            max = Math.max(max, s);
        }
        float sum = 0;
        for (int j = 0; j < n; j++) {
            float e = (float) Math.exp(scores[j] - max);
            scores[j] = e;
            sum += e;
        }
        float inv = 1.0f / sum;
        int out = t * d + h * hd;
        Arrays.fill(ws.attention, out, out + hd, 0f);
        for (int j = 0; j < n; j++) {
            kernels.axpy(scores[j] * inv, values, table.slot(j) * d + h * hd, ws.attention, out, hd);
        }
    }

    /**
     * Keys and values of every layer for the slots of one page pool (keys transposed in blocks of 16 positions,
     * values {@code [slot][hidden]}). A pool of {@link KvFormat#F16} has every key and
     * value rounded to float16 (nearest even) as it is stored, so attention sees exactly what a float16 cache holds;
     * they are kept in float arrays, so this backend's cache memory is not halved (the GPU backend stores the bits).
     */
    private record KvStorage(float[][] keys, float[][] values, boolean float16) {
        static KvStorage of(PagePool pool) {
            int size = pool.slots() * pool.width();
            return new KvStorage(new float[pool.layers()][size], new float[pool.layers()][size],
                    pool.kv() == KvFormat.F16);
        }
    }

    @Override
    public void attach(PagePool pool) {
        storage(pool);
    }

    private KvStorage storage(PagePool pool) {
        if (pool.pageSize() % KEY_LANES != 0) {
            throw new IllegalArgumentException("the CPU backend needs page sizes that are multiples of " + KEY_LANES
                    + ", got " + pool.pageSize());
        }
        if (pool.width() != config.hiddenSize() || pool.layers() != config.numLayers()) {
            throw new IllegalArgumentException("page pool of " + pool.layers() + " layers x " + pool.width()
                    + " does not fit this stack (" + config.numLayers() + " x " + config.hiddenSize() + ")");
        }
        return pool.attachment(this, () -> KvStorage.of(pool));
    }

    /** A layer's matrices in the CPU matmul layout. */
    private record PackedLayer(PackedLinear qkv, PackedLinear attentionOut, PackedLinear mlpUp, PackedLinear mlpDown) {
        static PackedLayer of(LayerWeights w) {
            return new PackedLayer(PackedLinear.of(w.qkv()), PackedLinear.of(w.attentionOut()),
                    PackedLinear.of(w.mlpUp()), PackedLinear.of(w.mlpDown()));
        }
    }

    /** Activation buffers, grown to the largest call seen and reused. */
    private static final class Workspace {
        float[] normed = new float[0];
        float[] qkv = new float[0];
        float[] attention = new float[0];
        float[] attentionOut = new float[0];
        float[] mlpHidden = new float[0];
        float[] mlpOut = new float[0];

        void ensure(int tokens, int d, int inter) {
            if (normed.length < tokens * d) {
                int cap = Math.max(tokens, normed.length / d * 2);
                normed = new float[cap * d];
                qkv = new float[cap * 3 * d];
                attention = new float[cap * d];
                attentionOut = new float[cap * d];
                mlpHidden = new float[cap * inter];
                mlpOut = new float[cap * d];
            }
        }
    }
}
