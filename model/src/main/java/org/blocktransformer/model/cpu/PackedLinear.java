package org.blocktransformer.model.cpu;

import org.blocktransformer.model.weights.Linear;

/** A Linear layer in the CPU matmul's layout; {@code bias} may be null. */
public record PackedLinear(PackedMatrix weight, float[] bias) {
    public static PackedLinear of(Linear linear) {
        return new PackedLinear(PackedMatrix.of(linear.weight()), linear.bias());
    }

    public int outFeatures() {
        return weight.rows();
    }
}
