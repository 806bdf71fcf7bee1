package org.blocktransformer.model.weights;

/** A Linear layer: {@code y = W x + bias}; {@code bias} may be null (e.g. {@code embed_out}). */
public record Linear(Matrix weight, float[] bias) {
    public Linear {
        if (bias != null && bias.length != weight.rows()) {
            throw new IllegalArgumentException("bias of " + bias.length + " values for a matrix of "
                    + weight.rows() + " rows");
        }
    }

    public int outFeatures() {
        return weight.rows();
    }

    public int inFeatures() {
        return weight.cols();
    }
}
