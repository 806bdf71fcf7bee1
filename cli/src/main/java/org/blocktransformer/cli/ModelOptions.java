package org.blocktransformer.cli;

import org.blocktransformer.model.weights.ModelWeights;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The model a command runs ({@code --model}) and how its weights are held. */
final class ModelOptions {

    @Option(names = "--model", required = true, paramLabel = "DIR|PRESET",
            description = "Checkpoint directory (config.json + model.safetensors) or preset name (random weights).")
    String model;

    @Mixin
    WeightOptions weights;

    /** Laid out for the backend that will run it ({@code "auto"}, {@code "cpu"}, ...), so it is held once. */
    ModelWeights load(CliServices services, String backend) {
        return services.loadModel(model, weights.weights, weights.initSeed, backend);
    }
}
