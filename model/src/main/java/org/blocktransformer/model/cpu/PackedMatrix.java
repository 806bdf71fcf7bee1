package org.blocktransformer.model.cpu;

import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.Matrix;
import org.blocktransformer.model.weights.PanelMatrix;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * A weight matrix as the CPU matmul reads it: the arrays of a {@link PanelMatrix} (outputs in panels of
 * {@link #PANEL}, each panel k-major, zero-padded past the last output; see there for why).
 */
public record PackedMatrix(int rows, int cols, float[] f32, short[] half, WeightFormat format) {

    /** Outputs per panel: four 512-bit vectors. */
    public static final int PANEL = PanelMatrix.PANEL;

    public int panels() {
        return (rows + PANEL - 1) / PANEL;
    }

    /** Whether the weights are 16-bit ({@link #half}: bfloat16 or float16 bits) rather than {@link #f32}. */
    public boolean isHalf() {
        return half != null;
    }

    public long bytes() {
        return isHalf() ? 2L * half.length : 4L * f32.length;
    }

    /** Packed weight {@code at} as float32 (exactly: both 16-bit formats widen without rounding). */
    public float weight(int at) {
        return switch (format) {
            case F32 -> f32[at];
            case BF16 -> Bf16Matrix.toFloat(half[at]);
            case F16 -> F16Matrix.toFloat(half[at]);
        };
    }

    /** The kernels' view of {@code m}: a panel matrix's own arrays (no copy), else a packed copy of the rows. */
    public static PackedMatrix of(Matrix m) {
        PanelMatrix p = PanelMatrix.of(m);
        return new PackedMatrix(p.rows(), p.cols(), p.f32(), p.half(), p.format());
    }

    /** Whether {@link #of} would copy {@code m}: it is not laid out in panels. */
    public static boolean copies(Matrix m) {
        return !(m instanceof PanelMatrix);
    }
}
