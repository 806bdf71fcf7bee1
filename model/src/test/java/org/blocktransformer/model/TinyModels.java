package org.blocktransformer.model;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.EmbedderConfig;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.LayerNormWeights;
import org.blocktransformer.model.weights.LayerWeights;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.Matrix;
import org.blocktransformer.model.weights.StackWeights;
import org.blocktransformer.model.weights.VanillaWeights;

/** Small random models for engine tests (the same init scheme as the golden data, so logits are well spread). */
public final class TinyModels {
    public static final int VOCAB = 512;

    private TinyModels() {
    }

    public static NeoXConfig stack(int d, int layers, int heads, int inter) {
        return NeoXConfig.pythia(d, layers, heads, inter, 2048);
    }

    public static BlockWeights block(long seed, DecodingStrategy decoding, int blockLength, int ratio) {
        var r = new SplittableRandom(seed);
        int d = 64;
        int embed = d / blockLength;
        var config = new BlockConfig(blockLength, VOCAB, new EmbedderConfig(embed, EmbedderProjection.CONCAT), decoding,
                decoding == DecodingStrategy.SUMMATION ? blockLength : ratio, stack(d, 2, 2, 48), stack(d, 2, 2, 48), 0, 0, 0);
        int rr = config.expansionRatio();
        return new BlockWeights(config, matrix(r, VOCAB, embed, 1.0), null, stack(r, config.blockDecoder()),
                new Linear(matrix(r, rr * d, d, 1.0 / d), vector(r, rr * d, 0, 0.1)), matrix(r, VOCAB, d, 1.0),
                stack(r, config.tokenDecoder()), new Linear(matrix(r, VOCAB, d, 4.0 / d), null));
    }

    public static VanillaWeights vanilla(long seed) {
        var r = new SplittableRandom(seed);
        var config = new VanillaConfig(VOCAB, stack(64, 2, 2, 48), 0, 0, 0);
        return new VanillaWeights(config, matrix(r, VOCAB, 64, 1.0), stack(r, config.stack()),
                new Linear(matrix(r, VOCAB, 64, 4.0 / 64), null));
    }

    /** {@code w} with token {@code token}'s embedding all NaN: a request or window feeding it gets NaN logits. */
    public static VanillaWeights withNaNToken(VanillaWeights w, int token) {
        return new VanillaWeights(w.config(), nanRow(w.embedIn(), token), w.stack(), w.embedOut());
    }

    /** {@code w} with token {@code token}'s block-embedder row all NaN: its block's context is NaN. */
    public static BlockWeights withNaNToken(BlockWeights w, int token) {
        return new BlockWeights(w.config(), nanRow(w.embedTable(), token), w.embedProjection(), w.blockDecoder(),
                w.expansion(), w.tokenEmbedIn(), w.tokenDecoder(), w.tokenEmbedOut());
    }

    private static F32Matrix nanRow(Matrix table, int row) {
        F32Matrix m = (F32Matrix) table;
        float[] data = m.data().clone();
        java.util.Arrays.fill(data, row * m.cols(), (row + 1) * m.cols(), Float.NaN);
        return new F32Matrix(m.rows(), m.cols(), data);
    }

    private static StackWeights stack(SplittableRandom r, NeoXConfig c) {
        int d = c.hiddenSize();
        int i = c.intermediateSize();
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            layers.add(new LayerWeights(norm(r, d), norm(r, d),
                    new Linear(matrix(r, 3 * d, d, 1.0 / d), vector(r, 3 * d, 0, 0.1)),
                    new Linear(matrix(r, d, d, 1.0 / d), vector(r, d, 0, 0.1)),
                    new Linear(matrix(r, i, d, 1.0 / d), vector(r, i, 0, 0.1)),
                    new Linear(matrix(r, d, i, 1.0 / i), vector(r, d, 0, 0.1))));
        }
        return new StackWeights(layers, norm(r, d));
    }

    private static LayerNormWeights norm(SplittableRandom r, int d) {
        return new LayerNormWeights(vector(r, d, 1, 0.1), vector(r, d, 0, 0.1));
    }

    private static F32Matrix matrix(SplittableRandom r, int rows, int cols, double variance) {
        return new F32Matrix(rows, cols, vector(r, rows * cols, 0, Math.sqrt(variance)));
    }

    private static float[] vector(SplittableRandom r, int n, double mean, double std) {
        float[] v = new float[n];
        for (int k = 0; k < n; k++) {
            v[k] = (float) (mean + std * r.nextGaussian());
        }
        return v;
    }
}
