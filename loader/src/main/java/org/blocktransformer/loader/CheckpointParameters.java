package org.blocktransformer.loader;

import java.util.concurrent.atomic.AtomicLong;

import org.blocktransformer.loader.assemble.ParameterSource;
import org.blocktransformer.loader.safetensors.TensorSource;
import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.Matrix;
import org.blocktransformer.model.weights.MatrixLayout;
import org.blocktransformer.model.weights.PanelMatrix;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * Parameters read from checkpoint tensors, in the shape the config implies (checked beforehand for all of them by
 * {@link CheckpointTensors}, and again by each read). Matrices are held in the requested {@link WeightFormat}; vectors
 * (LayerNorms, biases) are always float32.
 */
final class CheckpointParameters implements ParameterSource {

    private final TensorSource tensors;
    private final WeightFormat format;
    private final MatrixLayout layout;
    private final LoadProgress progress;
    private final long totalBytes;
    private final AtomicLong readBytes = new AtomicLong();

    /** @param layout of the Linear layers' matrices; embedding tables are read as rows */
    CheckpointParameters(TensorSource tensors, WeightFormat format, MatrixLayout layout, LoadProgress progress) {
        this.tensors = tensors;
        this.format = format;
        this.layout = layout;
        this.progress = progress;
        long total = 0;
        for (String name : tensors.names()) {
            total += tensors.info(name).byteLength();
        }
        this.totalBytes = total;
    }

    long totalBytes() {
        return totalBytes;
    }

    long readBytes() {
        return readBytes.get();
    }

    private <T> T counted(String name, T value) {
        progress.advanced(readBytes.addAndGet(tensors.info(name).byteLength()), totalBytes);
        return value;
    }

    @Override
    public Matrix matrix(String name, int rows, int cols, Role role) {
        if (layout == MatrixLayout.PANELS && role != Role.TOKEN_EMBEDDING) {
            return counted(name, tensors.panels(name, rows, cols, format));
        }
        return counted(name, switch (format) {
            case F32 -> new F32Matrix(rows, cols, tensors.floats(name, rows, cols));
            case BF16 -> new Bf16Matrix(rows, cols, tensors.bf16(name, rows, cols));
            case F16 -> new F16Matrix(rows, cols, tensors.f16(name, rows, cols));
        });
    }

    @Override
    public Matrix conv1dAsLinear(String name, int out, int in, int kernel) {
        float[] w = tensors.floats(name, out, in, kernel);
        float[] linear;
        if (kernel == 1) {
            linear = w; // [out, in, 1] is already [out, in]
        } else {
            // PyTorch Conv1d weight [o][c][k] -> Linear column k*in + c over the concatenated kernel positions.
            linear = new float[w.length];
            for (int o = 0; o < out; o++) {
                int base = o * in * kernel;
                for (int c = 0; c < in; c++) {
                    for (int k = 0; k < kernel; k++) {
                        linear[base + k * in + c] = w[base + c * kernel + k];
                    }
                }
            }
        }
        F32Matrix m = new F32Matrix(out, in * kernel, linear);
        Matrix converted = switch (format) {
            case F32 -> m;
            case BF16 -> Bf16Matrix.of(m);
            case F16 -> F16Matrix.of(m);
        };
        return counted(name, layout == MatrixLayout.PANELS ? PanelMatrix.of(converted) : converted);
    }

    @Override
    public float[] vector(String name, int length, Role role) {
        return counted(name, tensors.floats(name, length));
    }
}
