package org.blocktransformer.loader.config;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.blocktransformer.loader.CheckpointException;
import org.blocktransformer.loader.Refusal;
import org.blocktransformer.loader.assemble.ParameterSource;
import org.blocktransformer.loader.assemble.WeightAssembler;
import org.blocktransformer.model.config.ArraySizes;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.Matrix;
import org.blocktransformer.model.weights.PanelMatrix;

/**
 * {@code config.json} as the parser sees it. Each input is either refused with a one-line
 * {@link CheckpointException} or parses into a config whose numbers are all usable (finite, and no array it implies
 * too large for Java or negative from an overflow). Two targets: raw bytes
 * (the JSON syntax, seeded with configs in both GPT-NeoX key styles and the block schema), and valid configs with
 * keys of either style set, changed or removed at random, which reaches the semantic checks far more often than
 * mutated bytes do.
 */
class ConfigParserFuzzTest {

    private static final Path NAME = Path.of("config.json");
    private static final ObjectMapper JSON = new ObjectMapper();

    @DictionaryEntries({"\"model_type\"", "\"gpt_neox\"", "\"block_transformer\"", "\"rope_parameters\"",
            "\"rope_theta\"", "\"partial_rotary_factor\"", "\"rotary_pct\"", "\"rotary_emb_base\"", "\"rope_type\"",
            "\"rope_scaling\"", "\"hidden_size\"", "\"num_attention_heads\"", "\"block_decoder\"",
            "\"token_decoder\"", "\"embedder\"", "\"decoding_strategy\"", "null"})
    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void configJson(byte[] json) {
        parseOrRefuse(json);
    }

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void configKeys(FuzzedDataProvider data) throws Exception {
        ObjectNode config = (ObjectNode) JSON.readTree(data.pickValue(TEMPLATES));
        int edits = data.consumeInt(1, 6);
        for (int i = 0; i < edits && data.remainingBytes() > 0; i++) {
            String[] path = data.pickValue(KEYS).split("\\.");
            ObjectNode holder = config;
            for (int k = 0; k < path.length - 1; k++) {
                JsonNode child = holder.get(path[k]);
                holder = child instanceof ObjectNode o ? o : holder.putObject(path[k]);
            }
            String key = path[path.length - 1];
            switch (data.consumeInt(0, 8)) {
                case 0 -> holder.remove(key);
                case 1 -> holder.put(key, data.consumeInt());
                case 2 -> holder.put(key, data.consumeInt(-2, 4096));
                case 3 -> holder.put(key, data.consumeDouble());
                case 4 -> holder.put(key, data.consumeBoolean());
                case 5 -> holder.putNull(key);
                case 6 -> holder.put(key, data.pickValue(WORDS));
                case 7 -> holder.put(key, data.consumeString(40));
                default -> holder.set(key, JsonNodeFactory.instance.objectNode());
            }
        }
        parseOrRefuse(JSON.writeValueAsBytes(config));
    }

    private static void parseOrRefuse(byte[] json) {
        try {
            ModelConfig c = ConfigParser.parse(NAME, json);
            assertNotNull(c);
            switch (c) {
                case VanillaConfig v -> assertFinite(v.stack());
                case BlockConfig b -> {
                    assertFinite(b.blockDecoder());
                    assertFinite(b.tokenDecoder());
                }
            }
            assertFitsArrays(c);
        } catch (CheckpointException refused) {
            Refusal.assertOneLine(refused);
        }
    }

    /**
     * Every array the loader and the engine make from a config it accepted fits one Java array: each tensor as the
     * loader asks for it (Linear layers padded to whole panels, as the CPU holds them), each rotary table, and the
     * block model's derived lengths are positive ints. The stacks are cut to one layer, whose shapes all layers share.
     */
    private static void assertFitsArrays(ModelConfig c) {
        WeightAssembler.assemble(oneLayer(c), new ParameterSource() {
            @Override
            public Matrix matrix(String name, int rows, int cols, Role role) {
                assertFits(name, rows, cols, PanelMatrix.size(rows, cols));
                return new F32Matrix(1, 1, new float[1]);
            }

            @Override
            public Matrix conv1dAsLinear(String name, int out, int in, int kernel) {
                assertFits(name, out, (long) in * kernel, PanelMatrix.size(out, in * kernel));
                return new F32Matrix(1, 1, new float[1]);
            }

            @Override
            public float[] vector(String name, int length, Role role) {
                assertFits(name, length, 1, length);
                return new float[1];
            }
        });
        switch (c) {
            case VanillaConfig v -> assertRotaryFits(v.stack());
            case BlockConfig b -> {
                assertRotaryFits(b.blockDecoder());
                assertRotaryFits(b.tokenDecoder());
                assertTrue(b.localCacheLength() > 0, b::toString);
            }
        }
        assertTrue(c.maxSequenceTokens() > 0, c::toString);
    }

    private static void assertFits(String name, long rows, long cols, long held) {
        assertTrue(rows > 0 && cols > 0 && held <= ArraySizes.MAX_ELEMENTS,
                () -> name + ": " + rows + " x " + cols + " (" + held + " held) does not fit one array");
    }

    private static void assertRotaryFits(NeoXConfig s) {
        assertTrue((long) s.maxPositions() * (s.rotaryDims() / 2) <= ArraySizes.MAX_ELEMENTS, s::toString);
    }

    private static ModelConfig oneLayer(ModelConfig c) {
        return switch (c) {
            case VanillaConfig v -> new VanillaConfig(v.vocabSize(), oneLayer(v.stack()), v.bosTokenId(),
                    v.eosTokenId(), v.padTokenId());
            case BlockConfig b -> new BlockConfig(b.blockLength(), b.vocabSize(), b.embedder(), b.decoding(),
                    b.expansionRatio(), oneLayer(b.blockDecoder()), oneLayer(b.tokenDecoder()), b.bosTokenId(),
                    b.eosTokenId(), b.padTokenId());
        };
    }

    private static NeoXConfig oneLayer(NeoXConfig s) {
        return new NeoXConfig(s.hiddenSize(), 1, s.numHeads(), s.intermediateSize(), s.rotaryPct(), s.rotaryBase(),
                s.layerNormEps(), s.maxPositions(), s.parallelResidual());
    }

    private static void assertFinite(NeoXConfig s) {
        assertTrue(Double.isFinite(s.rotaryPct()) && Double.isFinite(s.rotaryBase())
                && Double.isFinite(s.layerNormEps()), s::toString);
    }

    /** Valid configs: transformers 4.x keys, transformers 5.x keys, the block schema. */
    private static final List<String> TEMPLATES = List.of("""
            {"model_type": "gpt_neox", "vocab_size": 512, "hidden_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 2, "intermediate_size": 48, "rotary_pct": 0.25, "rotary_emb_base": 10000,
             "layer_norm_eps": 1e-05, "max_position_embeddings": 2048, "use_parallel_residual": true,
             "hidden_act": "gelu", "tie_word_embeddings": false, "bos_token_id": 0, "eos_token_id": 0}
            """, """
            {"model_type": "gpt_neox", "vocab_size": 512, "hidden_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 2, "intermediate_size": 48, "attention_bias": true, "layer_norm_eps": 1e-06,
             "rope_parameters": {"partial_rotary_factor": 0.5, "rope_theta": 500, "rope_type": "default"},
             "rope_scaling": null, "max_position_embeddings": 512, "use_parallel_residual": false,
             "bos_token_id": 3, "eos_token_id": 5, "pad_token_id": 7}
            """, """
            {"model_type": "block_transformer", "block_length": 4, "vocab_size": 512, "n_embedding_tokens": 1,
             "embedder": {"type": "lookup", "hidden_size": 16, "projection_method": "concat",
                          "projection_hidden_size": 64},
             "decoding_strategy": "prefix", "expansion_method": "expansion_layer", "expansion_ratio": 2,
             "block_decoder": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                               "intermediate_size": 48, "rotary_pct": 0.25, "rotary_emb_base": 10000},
             "token_decoder": {"hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
                               "intermediate_size": 40, "hidden_act": "gelu",
                               "rope_parameters": {"rope_theta": 10000, "rope_type": "default"}},
             "bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0}
            """);

    /** Every key the parser reads, in both spellings, top level and nested. */
    private static final List<String> KEYS = List.of("model_type", "vocab_size", "hidden_size", "num_hidden_layers",
            "num_attention_heads", "intermediate_size", "rotary_pct", "rotary_emb_base", "partial_rotary_factor",
            "rope_theta", "rope_parameters", "rope_parameters.partial_rotary_factor", "rope_parameters.rope_theta",
            "rope_parameters.rope_type", "rope_scaling", "rope_scaling.type", "rope_scaling.rope_type",
            "layer_norm_eps", "max_position_embeddings", "use_parallel_residual", "hidden_act", "attention_bias",
            "tie_word_embeddings", "bos_token_id", "eos_token_id", "pad_token_id", "block_length",
            "n_embedding_tokens", "embedder", "embedder.type", "embedder.hidden_size", "embedder.projection_method",
            "embedder.projection_hidden_size", "embedder.n_embedding_tokens", "decoding_strategy",
            "expansion_method", "expansion_ratio", "block_decoder", "block_decoder.hidden_size",
            "block_decoder.num_attention_heads", "block_decoder.rotary_pct", "block_decoder.rope_parameters",
            "block_decoder.rope_parameters.rope_theta", "block_decoder.max_position_embeddings", "token_decoder",
            "token_decoder.hidden_size", "token_decoder.num_hidden_layers", "token_decoder.max_position_embeddings",
            "token_decoder.rope_parameters.partial_rotary_factor", "token_decoder.rope_theta",
            "token_decoder.hidden_act");

    /** Strings the parser gives a meaning to, and near misses. */
    private static final List<String> WORDS = List.of("gpt_neox", "block_transformer", "llama", "gelu", "relu",
            "default", "linear", "yarn", "lookup", "concat", "projection_layer", "expansion_layer", "prefix",
            "summation", "", "a\nb");

    /** The templates parse, so a refused mutation was refused for what it changed. */
    @Test
    void templatesAreValid() {
        for (String t : TEMPLATES) {
            assertNotNull(ConfigParser.parse(NAME, t.getBytes(StandardCharsets.UTF_8)));
        }
    }
}
