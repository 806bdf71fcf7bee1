package org.blocktransformer.model.weights;

import org.blocktransformer.model.config.VanillaConfig;

/** GPT-NeoX: {@code embed_in}, the stack and the untied {@code embed_out} (no bias). */
public record VanillaWeights(VanillaConfig config, Matrix embedIn, StackWeights stack, Linear embedOut)
        implements ModelWeights {
}
