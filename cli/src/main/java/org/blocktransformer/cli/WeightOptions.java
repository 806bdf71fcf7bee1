package org.blocktransformer.cli;

import org.blocktransformer.model.weights.WeightFormat;
import picocli.CommandLine.Option;

/** How a model's weights are held ({@code --weights}) and, for presets, drawn ({@code --init-seed}). */
final class WeightOptions {

    @Option(names = "--weights", paramLabel = "DTYPE", defaultValue = "f32",
            description = "Weights in memory: f32 (exact), bf16 or f16 (half the memory traffic, float32"
                    + " arithmetic; f16 keeps three more mantissa bits and loads float16 checkpoints such as Pythia's"
                    + " unrounded, but refuses weights beyond +-65504). Default: ${DEFAULT-VALUE}.")
    WeightFormat weights;

    @Option(names = "--init-seed", paramLabel = "S", defaultValue = "0",
            description = "Seed of a preset's random weights (ignored for checkpoint directories)."
                    + " Default: ${DEFAULT-VALUE}.")
    long initSeed;
}
