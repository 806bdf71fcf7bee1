package org.blocktransformer.loader;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;

import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.backend.Backends;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.weights.MatrixLayout;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;

/** Resolves what a user names as a model: a preset name, else a checkpoint directory. */
public final class ModelSources {

    private ModelSources() {
    }

    /**
     * Loads in the layout of the backend that {@code "auto"} would open (the CPU's panels unless a GPU backend is
     * present), so the model is held once.
     *
     * @param dirOrPreset a {@link Presets} name (random weights from {@code seed}) or a checkpoint directory
     *                    ({@code seed} unused)
     */
    public static ModelWeights load(String dirOrPreset, WeightFormat format, long seed) {
        return load(dirOrPreset, format, seed, Backends.matrixLayout("auto"), LoadProgress.NONE);
    }

    /**
     * As {@link #load(String, WeightFormat, long)}, the Linear layers' matrices in {@code layout}: the layout of the
     * backend that will run the model ({@link Backends#matrixLayout}) holds it once; the other one twice.
     */
    public static ModelWeights load(String dirOrPreset, WeightFormat format, long seed, MatrixLayout layout,
                                    LoadProgress progress) {
        if (Presets.exists(dirOrPreset)) {
            return Presets.randomInit(dirOrPreset, seed, format, layout, progress);
        }
        return Checkpoints.load(requireDirectory(dirOrPreset), format, layout, progress);
    }

    /** The architecture of a preset or a checkpoint directory, without loading weights. */
    public static ModelConfig config(String dirOrPreset) {
        if (Presets.exists(dirOrPreset)) {
            return Presets.config(dirOrPreset);
        }
        return Checkpoints.config(requireDirectory(dirOrPreset));
    }

    /**
     * As {@link #config}, with a checkpoint directory's tensors checked against the config from their headers, as
     * loading checks them ({@link Checkpoints#check}): a model this refuses is one that loading would refuse.
     */
    public static ModelConfig checkedConfig(String dirOrPreset) {
        if (Presets.exists(dirOrPreset)) {
            return Presets.config(dirOrPreset);
        }
        return Checkpoints.check(requireDirectory(dirOrPreset));
    }

    /** The checkpoint directory {@code dirOrPreset} names; empty for a preset or a name that is no directory. */
    public static Optional<Path> checkpointDirectory(String dirOrPreset) {
        if (Presets.exists(dirOrPreset)) {
            return Optional.empty();
        }
        try {
            Path p = Path.of(dirOrPreset);
            return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }

    /** The {@code tokenizer.json} in a checkpoint directory, if it has one; empty for a preset. */
    public static Optional<Path> tokenizerBeside(String dirOrPreset) {
        return checkpointDirectory(dirOrPreset).map(d -> d.resolve(BtTokenizer.TOKENIZER_FILE))
                .filter(Files::isRegularFile);
    }

    private static Path requireDirectory(String dirOrPreset) {
        return checkpointDirectory(dirOrPreset).orElseThrow(() -> new CheckpointException("'" + dirOrPreset
                + "' is neither a preset nor a checkpoint directory; presets: " + String.join(", ", Presets.names())));
    }
}
