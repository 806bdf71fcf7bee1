package org.blocktransformer.model.weights;

import java.util.List;

/** The layers of one decoder stack and its final LayerNorm. */
public record StackWeights(List<LayerWeights> layers, LayerNormWeights finalNorm) {
    public StackWeights {
        layers = List.copyOf(layers);
    }
}
