package org.blocktransformer.model.cpu;

import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.HalfMatrix;
import org.blocktransformer.model.weights.Matrix;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * A weight matrix re-laid for the CPU matmul: outputs in panels of {@link #PANEL} columns, each panel stored
 * k-major ({@code panel p, input k, output j} at {@code (p*K + k)*PANEL + j}), zero-padded past the last output.
 *
 * <p>Why: the kernel then vectorises over outputs, accumulating every output lane in k order with FMAs and no
 * horizontal reductions. Horizontal reductions and vector transcendental functions give different bits in the
 * JIT's compiled and interpreted code, so a sequence's results would depend on the JVM's warm-up state and on its
 * batch; with this layout an output is the same sequence of IEEE operations in every tier, in every tile, and in
 * the scalar fallback.
 */
public record PackedMatrix(int rows, int cols, float[] f32, short[] half, WeightFormat format) {

    /** Outputs per panel: four 512-bit vectors. */
    public static final int PANEL = 64;

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

    public static PackedMatrix of(Matrix m) {
        int n = m.rows();
        int k = m.cols();
        int panels = (n + PANEL - 1) / PANEL;
        long size = (long) panels * PANEL * k;
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("matrix " + n + "x" + k + " is too large for one array");
        }
        return switch (m) {
            case F32Matrix f -> {
                float[] src = f.data();
                float[] dst = new float[(int) size];
                for (int r = 0; r < n; r++) {
                    int base = (r / PANEL) * k * PANEL + r % PANEL;
                    for (int c = 0; c < k; c++) {
                        dst[base + c * PANEL] = src[r * k + c];
                    }
                }
                yield new PackedMatrix(n, k, dst, null, WeightFormat.F32);
            }
            case HalfMatrix h -> {
                short[] src = h.data();
                short[] dst = new short[(int) size];
                for (int r = 0; r < n; r++) {
                    int base = (r / PANEL) * k * PANEL + r % PANEL;
                    for (int c = 0; c < k; c++) {
                        dst[base + c * PANEL] = src[r * k + c];
                    }
                }
                yield new PackedMatrix(n, k, null, dst, h.format());
            }
        };
    }
}
