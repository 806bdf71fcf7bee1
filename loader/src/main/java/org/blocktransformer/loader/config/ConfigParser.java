package org.blocktransformer.loader.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import org.blocktransformer.loader.CheckpointException;
import org.blocktransformer.loader.JsonSyntax;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.EmbedderConfig;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;

/**
 * Reads {@code config.json} into a {@link ModelConfig}:
 * <ul>
 *   <li>{@code "model_type": "block_transformer"}: the block-model schema of the golden README (embedder,
 *       block_decoder, token_decoder, decoding strategy, expansion);</li>
 *   <li>{@code "model_type": "gpt_neox"}: a Hugging Face GPT-NeoX / Pythia config, in the key style of
 *       transformers 4.x ({@code rotary_pct}, {@code rotary_emb_base}) or 5.x ({@code rope_parameters}).</li>
 * </ul>
 * Absent optional keys take transformers' GPTNeoXConfig defaults. Anything the engine does not implement exactly
 * (another activation, attention without bias, tied embeddings, scaled RoPE, another embedder or expansion) is
 * refused here with the file and key, rather than run with different math.
 */
public final class ConfigParser {

    public static final String CONFIG_FILE = "config.json";

    /** transformers' GPTNeoXConfig defaults. */
    static final double DEFAULT_ROTARY_PCT = 0.25;
    static final double DEFAULT_ROTARY_BASE = 10000;
    static final double DEFAULT_LAYER_NORM_EPS = 1e-5;
    static final int DEFAULT_MAX_POSITIONS = 2048;
    static final boolean DEFAULT_PARALLEL_RESIDUAL = true;
    static final String DEFAULT_HIDDEN_ACT = "gelu";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private ConfigParser() {
    }

    /** Parses a block-model or GPT-NeoX config, chosen by its {@code model_type}. */
    public static ModelConfig parse(Path configFile) {
        byte[] content;
        try {
            content = Files.readAllBytes(configFile);
        } catch (NoSuchFileException e) {
            throw CheckpointException.inFile(configFile, "file not found");
        } catch (IOException e) {
            throw new CheckpointException(configFile + ": cannot read: " + e.getMessage(), e);
        }
        return parse(configFile, content);
    }

    /** As {@link #parse(Path)}, from the file's bytes already read; {@code configFile} names it in messages. */
    public static ModelConfig parse(Path configFile, byte[] content) {
        JsonObject root = read(configFile, content);
        String type = root.requireString("model_type");
        return switch (type) {
            case "block_transformer" -> block(root);
            case "gpt_neox" -> vanilla(root);
            default -> throw root.error("model_type", "is '" + type
                    + "'; supported: 'block_transformer', 'gpt_neox'");
        };
    }

    public static BlockConfig parseBlock(Path configFile) {
        return switch (parse(configFile)) {
            case BlockConfig b -> b;
            case VanillaConfig v -> throw CheckpointException.inFile(configFile, "expected a block_transformer config,"
                    + " found gpt_neox");
        };
    }

    public static VanillaConfig parseVanilla(Path configFile) {
        return switch (parse(configFile)) {
            case VanillaConfig v -> v;
            case BlockConfig b -> throw CheckpointException.inFile(configFile, "expected a gpt_neox config, found"
                    + " block_transformer");
        };
    }

    private static JsonObject read(Path file, byte[] content) {
        JsonNode node;
        try {
            // From the bytes, so that Jackson reports invalid UTF-8 with its position.
            node = JSON.readTree(content);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(JsonSyntax.inFile(file, e), e);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (node == null || node.isMissingNode() || !node.isObject()) {
            throw CheckpointException.inFile(file, "must hold a JSON object");
        }
        return new JsonObject(file, "", node);
    }

    private static VanillaConfig vanilla(JsonObject root) {
        if (root.optBoolean("tie_word_embeddings", false)) {
            throw root.error("tie_word_embeddings", "is true; GPT-NeoX here has an untied embed_out");
        }
        NeoXConfig stack = stack(root);
        int vocab = root.requireInt("vocab_size");
        int eos = root.optInt("eos_token_id", 0);
        return construct(root, () -> new VanillaConfig(vocab, stack, root.optInt("bos_token_id", 0), eos,
                root.optInt("pad_token_id", eos)));
    }

    private static BlockConfig block(JsonObject root) {
        int blockLength = root.requireInt("block_length");
        int vocab = root.requireInt("vocab_size");
        JsonObject embedderJson = root.requireObject("embedder");
        String embedderType = embedderJson.requireString("type");
        if (!embedderType.equals("lookup")) {
            throw embedderJson.error("type", "is '" + embedderType + "'; only the 'lookup' embedder is supported");
        }
        int nEmbeddingTokens = embedderJson.optInt("n_embedding_tokens", root.optInt("n_embedding_tokens", 1));
        if (nEmbeddingTokens != 1) {
            throw root.error("n_embedding_tokens", "is " + nEmbeddingTokens + "; only 1 is supported");
        }
        String projectionName = embedderJson.requireString("projection_method");
        EmbedderProjection projection = switch (projectionName) {
            case "concat" -> EmbedderProjection.CONCAT;
            case "projection_layer" -> EmbedderProjection.PROJECTION_LAYER;
            default -> throw embedderJson.error("projection_method", "is '" + projectionName
                    + "'; supported: 'concat', 'projection_layer'");
        };
        int embedDim = embedderJson.requireInt("hidden_size");

        String expansion = root.requireString("expansion_method");
        if (!expansion.equals("expansion_layer")) {
            throw root.error("expansion_method", "is '" + expansion + "'; only 'expansion_layer' is supported");
        }
        String strategyName = root.requireString("decoding_strategy");
        DecodingStrategy strategy = switch (strategyName) {
            case "prefix" -> DecodingStrategy.PREFIX;
            case "summation" -> DecodingStrategy.SUMMATION;
            default -> throw root.error("decoding_strategy", "is '" + strategyName
                    + "'; supported: 'prefix', 'summation'");
        };
        // The reference sets R = L_B itself for summation, so the key may be absent there.
        int ratio = strategy == DecodingStrategy.SUMMATION
                ? root.optInt("expansion_ratio", blockLength) : root.requireInt("expansion_ratio");

        NeoXConfig blockDecoder = stack(root.requireObject("block_decoder"));
        NeoXConfig tokenDecoder = stack(root.requireObject("token_decoder"));
        if (embedderJson.has("projection_hidden_size")
                && embedderJson.requireInt("projection_hidden_size") != blockDecoder.hiddenSize()) {
            throw embedderJson.error("projection_hidden_size", "is " + embedderJson.requireInt("projection_hidden_size")
                    + " but block_decoder.hidden_size is " + blockDecoder.hiddenSize());
        }
        int eos = root.optInt("eos_token_id", 0);
        return construct(root, () -> new BlockConfig(blockLength, vocab,
                new EmbedderConfig(embedDim, projection), strategy, ratio, blockDecoder, tokenDecoder,
                root.optInt("bos_token_id", 0), eos, root.optInt("pad_token_id", eos)));
    }

    /** One GPT-NeoX stack: the top level of a HF config, or block_decoder / token_decoder of a block config. */
    private static NeoXConfig stack(JsonObject o) {
        String act = o.optString("hidden_act", DEFAULT_HIDDEN_ACT);
        if (!act.equals("gelu")) {
            throw o.error("hidden_act", "is '" + act + "'; only 'gelu' (exact erf GELU) is supported");
        }
        if (!o.optBoolean("attention_bias", true)) {
            throw o.error("attention_bias", "is false; only attention with biases (as in Pythia) is supported");
        }
        if (o.has("rope_scaling")) {
            o.optObject("rope_scaling").ifPresent(s -> requireDefaultRope(s, s.has("rope_type") ? "rope_type" : "type"));
        }
        double pct = agreed(o, DEFAULT_ROTARY_PCT, "rotary_pct", "partial_rotary_factor",
                "rope_parameters.partial_rotary_factor");
        double base = agreed(o, DEFAULT_ROTARY_BASE, "rotary_emb_base", "rope_theta", "rope_parameters.rope_theta");
        o.optObject("rope_parameters").ifPresent(p -> requireDefaultRope(p, "rope_type"));
        int hidden = o.requireInt("hidden_size");
        int layers = o.requireInt("num_hidden_layers");
        int heads = o.requireInt("num_attention_heads");
        int intermediate = o.requireInt("intermediate_size");
        double eps = o.optDouble("layer_norm_eps", DEFAULT_LAYER_NORM_EPS);
        int maxPositions = o.optInt("max_position_embeddings", DEFAULT_MAX_POSITIONS);
        boolean parallel = o.optBoolean("use_parallel_residual", DEFAULT_PARALLEL_RESIDUAL);
        return construct(o, () -> new NeoXConfig(hidden, layers, heads, intermediate, pct, base, eps, maxPositions,
                parallel));
    }

    private static void requireDefaultRope(JsonObject rope, String typeKey) {
        String type = rope.optString(typeKey, "default");
        if (!type.equals("default")) {
            throw rope.error(typeKey, "is '" + type + "'; only 'default' (unscaled) rotary embeddings are supported");
        }
    }

    /**
     * The same setting may be spelled several ways (transformers 4.x top-level keys, 5.x rope_parameters); use
     * whichever is present, and refuse a file where two spellings disagree.
     */
    private static double agreed(JsonObject o, double fallback, String... keys) {
        List<String> found = new ArrayList<>();
        Double value = null;
        for (String key : keys) {
            JsonObject holder = o;
            String leaf = key;
            int dot = key.indexOf('.');
            if (dot >= 0) {
                var nested = o.optObject(key.substring(0, dot));
                if (nested.isEmpty()) {
                    continue;
                }
                holder = nested.get();
                leaf = key.substring(dot + 1);
            }
            if (!holder.has(leaf)) {
                continue;
            }
            double v = holder.requireDouble(leaf);
            if (value != null && v != value) {
                throw o.error(key, String.format(Locale.ROOT, "is %s but %s is %s", v, found.getFirst(), value));
            }
            value = v;
            found.add(key);
        }
        return value == null ? fallback : value;
    }

    /**
     * The records check their own invariants; report a violation against the file, and for a nested stack its key
     * (the record names the stack's own keys only: "in block_decoder: hidden_size ...").
     */
    private static <T> T construct(JsonObject where, java.util.function.Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw CheckpointException.inFile(where.file(), (where.path().isEmpty() ? "" : "in " + where.path() + ": ")
                    + e.getMessage());
        }
    }
}
