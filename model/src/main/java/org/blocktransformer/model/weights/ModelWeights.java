package org.blocktransformer.model.weights;

import org.blocktransformer.model.config.ModelConfig;

/** Everything needed to run a model: its architecture and its parameters. */
public sealed interface ModelWeights permits BlockWeights, VanillaWeights {
    ModelConfig config();
}
