package org.blocktransformer.loader;

import org.blocktransformer.model.config.ModelConfig;

/**
 * A named model shape from the paper, run with seeded random weights (for benchmarks; no download).
 *
 * @param name   e.g. "block-b4-85m"
 * @param config the architecture
 * @param source where the numbers come from
 */
public record Preset(String name, ModelConfig config, String source) {
}
