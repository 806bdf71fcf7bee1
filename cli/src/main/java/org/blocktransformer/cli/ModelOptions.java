package org.blocktransformer.cli;

import java.nio.file.Path;
import java.util.Optional;
import org.blocktransformer.loader.LoadProgress;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.model.backend.Backends;
import org.blocktransformer.model.cpu.CpuKernels;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;
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
    ModelWeights load(String backend) {
        return load(model, weights.weights, weights.initSeed, backend);
    }

    /** The {@code tokenizer.json} in the model's directory, if it has one. */
    Optional<Path> tokenizerBeside() {
        return ModelSources.tokenizerBeside(model);
    }

    /**
     * Loads {@code dirOrPreset} as the commands do: in the layout of {@code backend}, with a progress bar on a
     * terminal for long loads.
     */
    static ModelWeights load(String dirOrPreset, WeightFormat format, long initSeed, String backend) {
        // The kernels' JIT warm-up overlaps with loading the weights.
        CpuKernels.best().warmUp();
        LoadProgress progress = LoadProgressBar.forConsole(dirOrPreset);
        try {
            return ModelSources.load(dirOrPreset, format, initSeed, Backends.matrixLayout(backend), progress);
        } finally {
            if (progress instanceof LoadProgressBar bar) {
                bar.close();
            }
        }
    }
}
