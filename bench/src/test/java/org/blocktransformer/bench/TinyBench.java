package org.blocktransformer.bench;

import org.blocktransformer.loader.Presets;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.EmbedderConfig;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;

/** Small random models (vocabulary 512) for fast harness tests. */
final class TinyBench {
    static final VanillaConfig VANILLA = new VanillaConfig(512, NeoXConfig.pythia(64, 2, 2, 128, 256), 0, 0, 0);
    static final BlockConfig BLOCK = new BlockConfig(4, 512, new EmbedderConfig(16, EmbedderProjection.CONCAT),
            DecodingStrategy.PREFIX, 2, NeoXConfig.pythia(64, 2, 2, 128, 64), NeoXConfig.pythia(64, 1, 2, 128, 16),
            0, 0, 0);

    private TinyBench() {
    }

    static ModelWeights vanilla(WeightFormat format) {
        return Presets.randomInit("tiny-vanilla", VANILLA, 3, format);
    }

    static ModelWeights block(WeightFormat format) {
        return Presets.randomInit("tiny-block", BLOCK, 3, format);
    }
}
