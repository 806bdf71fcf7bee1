package org.blocktransformer.loader;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;

/** Resolves what a user names as a model: a preset name, else a checkpoint directory. */
public final class ModelSources {

    private ModelSources() {
    }

    /**
     * @param dirOrPreset a {@link Presets} name (random weights from {@code seed}) or a checkpoint directory
     *                    ({@code seed} unused)
     */
    public static ModelWeights load(String dirOrPreset, WeightFormat format, long seed) {
        if (Presets.exists(dirOrPreset)) {
            return Presets.randomInit(dirOrPreset, seed, format);
        }
        Path dir;
        try {
            dir = Path.of(dirOrPreset);
        } catch (InvalidPathException e) {
            dir = null;
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new CheckpointException("'" + dirOrPreset + "' is neither a preset nor a checkpoint directory;"
                    + " presets: " + String.join(", ", Presets.names()));
        }
        return Checkpoints.load(dir, format);
    }
}
