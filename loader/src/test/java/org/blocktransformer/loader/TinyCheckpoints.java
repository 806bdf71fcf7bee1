package org.blocktransformer.loader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentSkipListMap;

import org.blocktransformer.loader.assemble.ParameterSource;
import org.blocktransformer.loader.assemble.WeightAssembler;
import org.blocktransformer.loader.config.ConfigParser;
import org.blocktransformer.loader.safetensors.SafetensorsWriter;
import org.blocktransformer.loader.safetensors.TensorSource;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.Matrix;

/**
 * Small checkpoint directories with seeded random weights ({@code config.json} and {@code model.safetensors}),
 * written where a test wants them. They load through the ordinary path in milliseconds, for tests that need a real
 * model but neither the golden data (which may be absent) nor a preset (tens of millions of parameters: a second or
 * two to draw each time). The same seed writes the same weights.
 */
public final class TinyCheckpoints {

    /** GPT-NeoX: vocabulary 512, hidden 64, 2 layers of 2 heads, at most 64 tokens; EOS (and BOS, pad) is id 0. */
    public static final String VANILLA_CONFIG = """
            {"model_type": "gpt_neox", "vocab_size": 512, "hidden_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 2, "intermediate_size": 48, "rotary_pct": 0.25, "rotary_emb_base": 10000,
             "layer_norm_eps": 1e-05, "max_position_embeddings": 64, "use_parallel_residual": true,
             "hidden_act": "gelu", "tie_word_embeddings": false, "bos_token_id": 0, "eos_token_id": 0}
            """;

    /** Block Transformer: L_B 4, R 2, prefix; vocabulary 512; decoders 64 wide, 2 layers; at most 64 tokens. */
    public static final String BLOCK_CONFIG = """
            {"model_type": "block_transformer", "block_length": 4, "vocab_size": 512, "n_embedding_tokens": 1,
             "embedder": {"type": "lookup", "hidden_size": 16, "projection_method": "concat",
                          "projection_hidden_size": 64},
             "decoding_strategy": "prefix", "expansion_method": "expansion_layer", "expansion_ratio": 2,
             "block_decoder": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                               "intermediate_size": 48, "max_position_embeddings": 16},
             "token_decoder": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                               "intermediate_size": 48, "max_position_embeddings": 16},
             "bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0}
            """;

    private TinyCheckpoints() {
    }

    /** {@link #VANILLA_CONFIG} with weights from seed 0, in {@code dir} (created if needed); returns {@code dir}. */
    public static Path vanilla(Path dir) {
        return write(dir, VANILLA_CONFIG, 0);
    }

    /** {@link #BLOCK_CONFIG} with weights from seed 0, in {@code dir} (created if needed); returns {@code dir}. */
    public static Path block(Path dir) {
        return write(dir, BLOCK_CONFIG, 0);
    }

    /**
     * {@code configJson} and float32 weights for every tensor it asks for (as the loader asks: WeightAssembler),
     * drawn from {@code seed}: LayerNorm scales near 1, everything else small and centred on 0.
     */
    public static Path write(Path dir, String configJson, long seed) {
        try {
            Files.createDirectories(dir);
            Path config = Files.writeString(dir.resolve(ConfigParser.CONFIG_FILE), configJson);
            Map<String, SafetensorsWriter.Tensor> tensors = new ConcurrentSkipListMap<>();
            WeightAssembler.assemble(ConfigParser.parse(config), new ParameterSource() {
                @Override
                public Matrix matrix(String name, int rows, int cols, Role role) {
                    tensors.put(name, SafetensorsWriter.f32(values(name, rows * cols, 0, 0.5 / Math.sqrt(cols)),
                            rows, cols));
                    return PLACEHOLDER;
                }

                @Override
                public Matrix conv1dAsLinear(String name, int out, int in, int kernel) {
                    tensors.put(name, SafetensorsWriter.f32(values(name, out * in * kernel, 0,
                            0.5 / Math.sqrt(in * kernel)), out, in, kernel));
                    return PLACEHOLDER;
                }

                @Override
                public float[] vector(String name, int length, Role role) {
                    tensors.put(name, SafetensorsWriter.f32(values(name, length, role == Role.NORM_WEIGHT ? 1 : 0,
                            0.05), length));
                    return new float[1]; // matches the 1 x 1 placeholder matrices
                }

                /** Each tensor from its own stream, so the values do not depend on the order of the requests. */
                private float[] values(String name, int n, double mean, double spread) {
                    SplittableRandom random = new SplittableRandom(seed * 31 + name.hashCode());
                    float[] v = new float[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = (float) (mean + spread * random.nextGaussian());
                    }
                    return v;
                }
            });
            SafetensorsWriter.write(dir.resolve(TensorSource.SINGLE_FILE), tensors);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What the assembler gets back: the weights are only written, never used here. */
    private static final Matrix PLACEHOLDER = new F32Matrix(1, 1, new float[1]);
}
