package org.blocktransformer.loader;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import org.blocktransformer.loader.assemble.ParameterSource;
import org.blocktransformer.loader.assemble.WeightAssembler;
import org.blocktransformer.loader.safetensors.DType;
import org.blocktransformer.loader.safetensors.SafetensorsWriter;
import org.blocktransformer.loader.safetensors.SafetensorsWriter.Tensor;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.Matrix;
import org.blocktransformer.model.weights.MatrixLayout;
import org.blocktransformer.model.weights.VanillaWeights;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * A checkpoint holding a NaN or an infinity anywhere is refused at load with the tensor's name and the value's
 * place, whatever the stored dtype, the weights' format in memory and their layout (without the check such a model
 * loads, every logit is NaN and greedy decoding answers token 0 for every prompt).
 */
class NonFiniteWeightsTest {
    private static final String CONFIG = """
            {"model_type": "gpt_neox", "vocab_size": 96, "hidden_size": 32, "num_hidden_layers": 2,
             "num_attention_heads": 2, "intermediate_size": 48, "max_position_embeddings": 64, "rotary_pct": 0.25,
             "rotary_emb_base": 10000, "layer_norm_eps": 1e-05, "use_parallel_residual": true,
             "hidden_act": "gelu", "tie_word_embeddings": false}
            """;
    private static final String DOWN = "gpt_neox.layers.1.mlp.dense_4h_to_h.weight";

    @TempDir
    Path tmp;

    /** A parameter's shape and random values, under the name the loader asks for. */
    private record Parameter(long[] shape, float[] values) {
    }

    /** Every parameter of the config's model, by name, in the order the assembler asks for them. */
    private static Map<String, Parameter> parameters() {
        var config = new VanillaConfig(96, NeoXConfig.pythia(32, 2, 2, 48, 64), 0, 0, 0);
        Map<String, Parameter> out = new LinkedHashMap<>();
        SplittableRandom random = new SplittableRandom(7);
        WeightAssembler.assemble(config, new ParameterSource() {
            @Override
            public synchronized Matrix matrix(String name, int rows, int cols, Role role) {
                return new F32Matrix(rows, cols, add(name, new long[] {rows, cols}));
            }

            @Override
            public Matrix conv1dAsLinear(String name, int out, int in, int kernel) {
                throw new UnsupportedOperationException("a vanilla model has no Conv1d");
            }

            @Override
            public synchronized float[] vector(String name, int length, Role role) {
                return add(name, new long[] {length});
            }

            private float[] add(String name, long[] shape) {
                float[] v = new float[Math.toIntExact(shape.length == 1 ? shape[0] : shape[0] * shape[1])];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) random.nextGaussian(0, 0.5);
                }
                out.put(name, new Parameter(shape, v));
                return v;
            }
        });
        return out;
    }

    /** The model as a checkpoint directory in {@code dtype}, with {@code value} at {@code index} of {@code tensor}. */
    private Path checkpoint(DType dtype, String tensor, int index, float value) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "ckpt");
        Files.writeString(dir.resolve("config.json"), CONFIG);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        parameters().forEach((name, p) -> {
            float[] v = p.values().clone();
            if (name.equals(tensor)) {
                v[index] = value;
            }
            tensors.put(name, SafetensorsWriter.as(dtype, v, p.shape()));
        });
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors);
        return dir;
    }

    static Stream<Arguments> everyWayToLoad() {
        Stream.Builder<Arguments> all = Stream.builder();
        for (DType stored : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            for (WeightFormat format : WeightFormat.values()) {
                for (MatrixLayout layout : MatrixLayout.values()) {
                    all.add(Arguments.of(stored, format, layout));
                }
            }
        }
        return all.build();
    }

    @ParameterizedTest
    @MethodSource("everyWayToLoad")
    void aNaNInALinearWeightIsRefusedNamingTheTensor(DType stored, WeightFormat format, MatrixLayout layout)
            throws IOException {
        // The same checkpoint without the NaN loads, so the NaN is what is refused.
        Path clean = checkpoint(stored, DOWN, 0, 0.25f);
        assertInstanceOf(VanillaWeights.class, Checkpoints.load(clean, format, layout, LoadProgress.NONE));
        Path dir = checkpoint(stored, DOWN, 3 * 48 + 5, Float.NaN);
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Checkpoints.load(dir, format, layout, LoadProgress.NONE));
        assertMessage(e, "'" + DOWN + "'", "holds NaN at index 149 (row 3, column 5)", "weights must be finite");
    }

    static Stream<Arguments> infinities() {
        return Stream.of(
                Arguments.of("gpt_neox.embed_in.weight", Float.NEGATIVE_INFINITY, DType.F32),
                Arguments.of("embed_out.weight", Float.POSITIVE_INFINITY, DType.BF16),
                Arguments.of("gpt_neox.layers.0.attention.query_key_value.bias", Float.POSITIVE_INFINITY, DType.F16),
                Arguments.of("gpt_neox.final_layer_norm.weight", Float.NEGATIVE_INFINITY, DType.BF16));
    }

    @ParameterizedTest
    @MethodSource("infinities")
    void anInfinityInAnyTensorIsRefused(String tensor, float value, DType stored) throws IOException {
        Path dir = checkpoint(stored, tensor, 2, value);
        for (MatrixLayout layout : MatrixLayout.values()) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> Checkpoints.load(dir, WeightFormat.F32, layout, LoadProgress.NONE));
            assertMessage(e, "'" + tensor + "'", "holds " + value + " at index 2", "weights must be finite");
        }
    }

    @Test
    void aValueBeyondFloat16IsStillRefusedOnlyInF16() throws IOException {
        Path dir = checkpoint(DType.F32, DOWN, 7, 1e6f);
        assertInstanceOf(VanillaWeights.class, Checkpoints.load(dir, WeightFormat.BF16, MatrixLayout.PANELS,
                LoadProgress.NONE));
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Checkpoints.load(dir, WeightFormat.F16, MatrixLayout.PANELS, LoadProgress.NONE));
        assertMessage(e, "'" + DOWN + "'", "index 7", "outside float16's range");
    }

    private static void assertMessage(Throwable e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "message \"" + e.getMessage() + "\" lacks \"" + part + "\"");
        }
    }
}
