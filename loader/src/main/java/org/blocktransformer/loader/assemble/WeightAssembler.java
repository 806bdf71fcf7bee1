package org.blocktransformer.loader.assemble;

import java.util.List;
import java.util.stream.IntStream;

import org.blocktransformer.loader.assemble.ParameterSource.Role;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.LayerNormWeights;
import org.blocktransformer.model.weights.LayerWeights;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.StackWeights;
import org.blocktransformer.model.weights.VanillaWeights;

/**
 * Builds the model's weight records from a {@link ParameterSource}, asking for every parameter by the name the
 * reference code gives it (Hugging Face GPT-NeoX names; block models prefix them with {@code block_decoder.} /
 * {@code token_decoder.}, see the golden README). This is the single place that knows the state_dict layout, shared
 * by checkpoint loading and random initialisation.
 */
public final class WeightAssembler {

    /** Prefix of the vanilla model's stack; its embeddings are {@code gpt_neox.embed_in} and {@code embed_out}. */
    public static final String VANILLA_STACK = "gpt_neox.";
    public static final String BLOCK_DECODER_STACK = "block_decoder.gpt_neox.";
    public static final String TOKEN_DECODER_STACK = "token_decoder.gpt_neox.";

    private WeightAssembler() {
    }

    public static ModelWeights assemble(ModelConfig config, ParameterSource source) {
        return switch (config) {
            case VanillaConfig v -> vanilla(v, source);
            case BlockConfig b -> block(b, source);
        };
    }

    public static VanillaWeights vanilla(VanillaConfig c, ParameterSource s) {
        int d = c.stack().hiddenSize();
        return new VanillaWeights(c,
                s.matrix(VANILLA_STACK + "embed_in.weight", c.vocabSize(), d, Role.TOKEN_EMBEDDING),
                stack(VANILLA_STACK, c.stack(), s),
                new Linear(s.matrix("embed_out.weight", c.vocabSize(), d, Role.OUTPUT_EMBEDDING), null));
    }

    public static BlockWeights block(BlockConfig c, ParameterSource s) {
        int dEmb = c.embedder().embedDim();
        int d = c.blockDecoder().hiddenSize();
        int dTok = c.tokenDecoder().hiddenSize();
        int lb = c.blockLength();
        int r = c.expansionRatio();
        Linear projection = null;
        if (c.embedder().projection() == EmbedderProjection.PROJECTION_LAYER) {
            projection = new Linear(s.conv1dAsLinear("embedder.projection_layer.weight", d, dEmb, lb),
                    s.vector("embedder.projection_layer.bias", d, Role.BIAS));
        }
        return new BlockWeights(c,
                s.matrix("embedder.embeddings.weight", c.vocabSize(), dEmb, Role.TOKEN_EMBEDDING),
                projection,
                stack(BLOCK_DECODER_STACK, c.blockDecoder(), s),
                new Linear(s.conv1dAsLinear("token_decoder.expansion_layer.weight", r * dTok, d, 1),
                        s.vector("token_decoder.expansion_layer.bias", r * dTok, Role.BIAS)),
                s.matrix(TOKEN_DECODER_STACK + "embed_in.weight", c.vocabSize(), dTok, Role.TOKEN_EMBEDDING),
                stack(TOKEN_DECODER_STACK, c.tokenDecoder(), s),
                new Linear(s.matrix("token_decoder.embed_out.weight", c.vocabSize(), dTok, Role.OUTPUT_EMBEDDING),
                        null));
    }

    /**
     * The layers and final LayerNorm under {@code prefix} (e.g. "gpt_neox."). Layers are built in parallel, so a
     * {@link ParameterSource} must be thread-safe: for large models most of the time is spent allocating (first
     * touch of fresh memory) and converting, which then spreads over the cores.
     */
    public static StackWeights stack(String prefix, NeoXConfig c, ParameterSource s) {
        int d = c.hiddenSize();
        List<LayerWeights> layers = IntStream.range(0, c.numLayers()).parallel()
                .mapToObj(i -> layer(prefix + "layers." + i + ".", c, s))
                .toList();
        return new StackWeights(layers, norm(prefix + "final_layer_norm", d, s));
    }

    private static LayerWeights layer(String p, NeoXConfig c, ParameterSource s) {
        int d = c.hiddenSize();
        int inter = c.intermediateSize();
        return new LayerWeights(
                norm(p + "input_layernorm", d, s),
                norm(p + "post_attention_layernorm", d, s),
                linear(p + "attention.query_key_value", 3 * d, d, s),
                linear(p + "attention.dense", d, d, s),
                linear(p + "mlp.dense_h_to_4h", inter, d, s),
                linear(p + "mlp.dense_4h_to_h", d, inter, s));
    }

    private static LayerNormWeights norm(String name, int d, ParameterSource s) {
        return new LayerNormWeights(s.vector(name + ".weight", d, Role.NORM_WEIGHT), s.vector(name + ".bias", d, Role.BIAS));
    }

    private static Linear linear(String name, int out, int in, ParameterSource s) {
        return new Linear(s.matrix(name + ".weight", out, in, Role.LINEAR), s.vector(name + ".bias", out, Role.BIAS));
    }
}
