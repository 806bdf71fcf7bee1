package org.blocktransformer.server;

import java.nio.file.Path;
import java.util.Arrays;
import org.blocktransformer.loader.Golden;
import org.blocktransformer.loader.Presets;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.EmbedderConfig;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.engine.Batching;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.VanillaWeights;
import org.blocktransformer.model.weights.WeightFormat;

/** Models, tokenizer and servers for the tests: seeded random weights, the golden tokenizer, loopback only. */
final class Fixtures {
    /** The golden tokenizer's vocabulary, so its text decodes every id the tiny models produce. */
    static final int VOCAB = 512;

    private Fixtures() {
    }

    /** A tiny GPT-NeoX model (hidden 64, 2 layers) of the tokenizer's vocabulary. */
    static ModelWeights tinyVanilla(long seed) {
        var config = new VanillaConfig(VOCAB, NeoXConfig.pythia(64, 2, 2, 128, 512), 0, 0, 0);
        return Presets.randomInit("tiny-vanilla", config, seed, WeightFormat.F32);
    }

    /** A tiny Block Transformer (L_B 4, R 2, hidden 64) of the tokenizer's vocabulary. */
    static ModelWeights tinyBlock(long seed) {
        NeoXConfig stack = NeoXConfig.pythia(64, 2, 2, 128, 256);
        var config = new BlockConfig(4, VOCAB, new EmbedderConfig(16, EmbedderProjection.CONCAT),
                DecodingStrategy.PREFIX, 2, stack, stack, 0, 0, 0);
        return Presets.randomInit("tiny-block", config, seed, WeightFormat.F32);
    }

    /**
     * {@code w} with token {@code token}'s embedding row all NaN: a request that feeds that token gets NaN logits and
     * fails (as the engine's own tests poison a model), the others never touch it.
     */
    static VanillaWeights withNaNToken(ModelWeights w, int token) {
        VanillaWeights v = (VanillaWeights) w;
        F32Matrix table = (F32Matrix) v.embedIn();
        float[] data = table.data().clone();
        Arrays.fill(data, token * table.cols(), (token + 1) * table.cols(), Float.NaN);
        return new VanillaWeights(v.config(), new F32Matrix(table.rows(), table.cols(), data), v.stack(), v.embedOut());
    }

    static Path goldenTokenizer() {
        return Golden.path("tokenizer/" + BtTokenizer.TOKENIZER_FILE);
    }

    static InferenceEngine engine(ModelWeights w, int batch) {
        return InferenceEngine.open(w, new EngineOptions(batch, Batching.CONTINUOUS, 64L << 20, 2));
    }

    /** A server on a free loopback port. */
    static BtServer serve(ServedModel model, String name, int maxQueued) {
        return BtServer.start(model, ServerOptions.defaults(name).withPort(0).withMaxQueued(maxQueued)
                .withShutdownGrace(java.time.Duration.ofSeconds(5)));
    }
}
