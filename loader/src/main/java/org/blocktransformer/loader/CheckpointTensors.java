package org.blocktransformer.loader;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

import org.blocktransformer.loader.assemble.ParameterSource;
import org.blocktransformer.loader.assemble.WeightAssembler;
import org.blocktransformer.loader.safetensors.TensorInfo;
import org.blocktransformer.loader.safetensors.TensorSource;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.Matrix;

/**
 * Whether a checkpoint's tensors fit its config, from the safetensors headers alone: every tensor the config needs is
 * there, in the shape the config implies and a float dtype, and no other tensor is (apart from the
 * {@linkplain Checkpoints#ignorable ignorable} ones). Loading runs this before it reads a weight and {@code bt info}
 * runs it instead of loading, so both refuse the same checkpoints with the same message.
 */
final class CheckpointTensors {

    /*
     * WeightAssembler is the one place that knows which tensors a config asks for. To learn them without reading
     * (or allocating) any weight, it assembles a model from placeholders: a 1x1 matrix and a one-value vector satisfy
     * every check the weight records make, and the model is dropped.
     */
    private static final Matrix PLACEHOLDER_MATRIX = new F32Matrix(1, 1, new float[1]);
    private static final float[] PLACEHOLDER_VECTOR = new float[1];

    private CheckpointTensors() {
    }

    /**
     * Throws a {@link CheckpointException} for the first tensor (by name) that is missing, misshapen or not a float
     * tensor, saying how many more have a problem; else for tensors the config has no place for.
     *
     * @param weightsFile the file a missing tensor should have been in ({@code model.safetensors} or the index)
     */
    static void check(ModelConfig config, TensorSource tensors, Path weightsFile) {
        checkLayerCounts(config, tensors, weightsFile);
        Set<String> used = ConcurrentHashMap.newKeySet();
        // Sorted, so that the message does not depend on which layer a parallel stream reached first.
        Map<String, String> problems = new ConcurrentSkipListMap<>();
        WeightAssembler.assemble(config, new ParameterSource() {
            @Override
            public Matrix matrix(String name, int rows, int cols, Role role) {
                need(name, rows, cols);
                return PLACEHOLDER_MATRIX;
            }

            @Override
            public Matrix conv1dAsLinear(String name, int out, int in, int kernel) {
                need(name, out, in, kernel);
                return PLACEHOLDER_MATRIX;
            }

            @Override
            public float[] vector(String name, int length, Role role) {
                need(name, length);
                return PLACEHOLDER_VECTOR;
            }

            private void need(String name, int... shape) {
                used.add(name);
                problem(tensors, name, shape).ifPresent(p -> problems.put(name, p));
            }
        });
        if (!problems.isEmpty()) {
            String first = problems.keySet().iterator().next();
            int more = problems.size() - 1;
            throw CheckpointException.inTensor(tensors.has(first) ? tensors.fileOf(first) : weightsFile, first,
                    problems.get(first) + (more == 0 ? "" : " (and " + more + (more == 1 ? " more tensor that does"
                            : " more tensors that do") + " not fit the " + config.kind() + " config)"));
        }
        Set<String> unexpected = new TreeSet<>(tensors.names());
        unexpected.removeAll(used);
        unexpected.removeIf(Checkpoints::ignorable);
        if (!unexpected.isEmpty()) {
            throw CheckpointException.inFile(weightsFile, unexpected.size() + " unexpected tensor(s) that the "
                    + config.kind() + " config has no place for: " + String.join(", ", unexpected));
        }
    }

    /**
     * Refuses a stack with more layers than the file holds before the tensor-by-tensor check, which visits every layer
     * the config names: a {@code num_hidden_layers} of 1e9 would keep it busy for hours.
     */
    private static void checkLayerCounts(ModelConfig config, TensorSource tensors, Path weightsFile) {
        switch (config) {
            case VanillaConfig v -> checkLayerCount("num_hidden_layers", v.stack(), WeightAssembler.VANILLA_STACK,
                    tensors, weightsFile);
            case BlockConfig b -> {
                checkLayerCount("block_decoder.num_hidden_layers", b.blockDecoder(),
                        WeightAssembler.BLOCK_DECODER_STACK, tensors, weightsFile);
                checkLayerCount("token_decoder.num_hidden_layers", b.tokenDecoder(),
                        WeightAssembler.TOKEN_DECODER_STACK, tensors, weightsFile);
            }
        }
    }

    private static void checkLayerCount(String key, NeoXConfig stack, String prefix, TensorSource tensors,
                                        Path weightsFile) {
        String layers = prefix + "layers.";
        long held = 0;
        for (String name : tensors.names()) {
            int end = name.indexOf('.', layers.length());
            if (name.startsWith(layers) && end > layers.length()) {
                try {
                    held = Math.max(held, Long.parseLong(name.substring(layers.length(), end)) + 1);
                } catch (NumberFormatException notALayer) {
                    // not a layer index: the tensor-by-tensor check reports the tensor as unexpected
                }
            }
        }
        if (stack.numLayers() > held) {
            throw CheckpointException.inFile(weightsFile, "the config's " + key + " is " + stack.numLayers()
                    + " but this checkpoint holds " + (held == 0 ? "no layer" : held == 1 ? "1 layer"
                    : held + " layers") + " under " + layers);
        }
    }

    private static Optional<String> problem(TensorSource tensors, String name, int[] shape) {
        if (!tensors.has(name)) {
            return Optional.of("missing (expected shape " + Arrays.toString(shape) + ")");
        }
        TensorInfo info = tensors.info(name);
        if (!info.hasShape(shape)) {
            return Optional.of("expected shape " + Arrays.toString(shape) + " but found " + info.shapeString());
        }
        if (!info.dtype().isFloat()) {
            return Optional.of("expected a float tensor (F32, F16 or BF16) but found " + info.dtype());
        }
        return Optional.empty();
    }
}
