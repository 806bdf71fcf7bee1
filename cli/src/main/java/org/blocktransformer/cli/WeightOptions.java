package org.blocktransformer.cli;

import org.blocktransformer.model.weights.WeightFormat;
import picocli.CommandLine.Option;

/** How a model's weights are held ({@code --weights}) and, for presets, drawn ({@code --init-seed}). */
final class WeightOptions {

    @Option(names = "--weights", paramLabel = "DTYPE", defaultValue = "f32",
            description = "Weights in memory: f32 (exact) or bf16 (half the memory traffic, float32 arithmetic)."
                    + " Default: ${DEFAULT-VALUE}.")
    WeightFormat weights;

    @Option(names = "--init-seed", paramLabel = "S", defaultValue = "0",
            description = "Seed of a preset's random weights (ignored for checkpoint directories)."
                    + " Default: ${DEFAULT-VALUE}.")
    long initSeed;
}
