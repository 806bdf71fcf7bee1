package org.blocktransformer.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.VanillaWeights;
import org.blocktransformer.model.weights.WeightFormat;

class ModelSourcesTest {

    @Test
    void presetNameGivesRandomWeights() {
        ModelWeights w = ModelSources.load("block-b4-5m", WeightFormat.BF16, 1);
        assertInstanceOf(BlockWeights.class, w);
        assertEquals(Presets.config("block-b4-5m"), w.config());
    }

    @Test
    void directoryGivesTheCheckpoint() {
        String dir = Golden.path("vanilla-neox").toString();
        assertInstanceOf(VanillaWeights.class, ModelSources.load(dir, WeightFormat.F32, 0));
    }

    @Test
    void neitherListsThePresets() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> ModelSources.load("pythia-70m", WeightFormat.F32, 0));
        assertTrue(e.getMessage().contains("'pythia-70m' is neither a preset nor a checkpoint directory"),
                e.getMessage());
        assertTrue(e.getMessage().contains("vanilla-70m, vanilla-160m"), e.getMessage());
    }
}
