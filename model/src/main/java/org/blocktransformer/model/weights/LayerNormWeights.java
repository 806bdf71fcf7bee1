package org.blocktransformer.model.weights;

/** LayerNorm scale and shift, one value per hidden dimension. */
public record LayerNormWeights(float[] weight, float[] bias) {
    public LayerNormWeights {
        if (weight.length != bias.length) {
            throw new IllegalArgumentException("LayerNorm weight has " + weight.length + " values, bias " + bias.length);
        }
    }

    public int size() {
        return weight.length;
    }
}
