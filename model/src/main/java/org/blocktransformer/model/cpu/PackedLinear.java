package org.blocktransformer.model.cpu;

import org.blocktransformer.model.weights.Linear;

/**
 * A Linear layer in the CPU matmul's layout. The bias is padded with zeros to whole panels (a layer without bias
 * gets zeros), so the kernel adds it with one unconditional vector add; {@code x + 0} leaves every value as it is.
 */
public record PackedLinear(PackedMatrix weight, float[] bias) {
    public static PackedLinear of(Linear linear) {
        PackedMatrix w = PackedMatrix.of(linear.weight());
        return new PackedLinear(w, padBias(linear.bias(), w));
    }

    /** The bias (or zeros) over {@code panels * PANEL} outputs. */
    public static float[] padBias(float[] bias, PackedMatrix w) {
        float[] padded = new float[w.panels() * PackedMatrix.PANEL];
        if (bias != null) {
            System.arraycopy(bias, 0, padded, 0, bias.length);
        }
        return padded;
    }

    public int outFeatures() {
        return weight.rows();
    }
}
