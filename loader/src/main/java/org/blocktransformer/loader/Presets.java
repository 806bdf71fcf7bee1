package org.blocktransformer.loader;

import java.util.LinkedHashMap;
import org.blocktransformer.model.config.ParameterCount;
import java.util.List;
import java.util.Map;

import org.blocktransformer.loader.assemble.WeightAssembler;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.EmbedderConfig;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.weights.MatrixLayout;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * The paper's model shapes (Ho et al. 2024) with seeded random weights: the default model for benchmarks, built in
 * memory without any download.
 *
 * <p>Sources. Block models: the reference repository's training configs {@code conf/trainer/block_main_b4_*.yaml}
 * (github itsnamgyu/block-transformer) give L_B = 4, the lookup embedder with concat projection, its hidden size
 * D_emb (= D/4), the block and token decoder {@code num_hidden_layers} and {@code hidden_size}, prefix decoding with
 * {@code expansion_ratio} 2 and vocab 50304. The decoders start from the {@code EleutherAI/pythia-410m-deduped} config
 * (rotary_pct 0.25, base 10000, eps 1e-5, parallel residual, 2048 positions), and the repository's
 * {@code util/config.py} fills in the rest: heads = D / head size with head size 32 up to D 256, 64 up to D 1536,
 * else 128, and intermediate size 4 D. Vanilla models: Pythia 70M / 160M / 410M are the EleutherAI Pythia shapes
 * (the reference {@code vanilla_70/160/410.yaml} use the Pythia configs unchanged); 31M is the reference's
 * {@code vanilla_31.yaml} (6 layers, 8 heads, hidden 256) with intermediate 4 D, which gives the paper's 31M total.
 *
 * <p>Names follow the paper: vanilla models by total parameters (as Pythia), block models by non-embedding
 * parameters (see {@link ParameterCount}).
 */
public final class Presets {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Presets.class);

    /** Pythia's (and the reference's) padded GPT-NeoX vocabulary. */
    public static final int VOCAB = 50304;
    public static final int MAX_POSITIONS = 2048;

    private static final String BLOCK_SOURCE = "itsnamgyu/block-transformer conf/trainer/";
    private static final Map<String, Preset> PRESETS = new LinkedHashMap<>();

    static {
        // vanilla_31.yaml sets hidden 256, 6 layers, 8 heads on the pythia-410m config; the yaml leaves
        // intermediate_size at that config's 4096, but the paper's 31M total only fits 4 D = 1024 (4096 would be 40M).
        vanilla("vanilla-31m", 256, 6, 8, "itsnamgyu/block-transformer conf/trainer/vanilla_31.yaml; paper Table: 31M");
        vanilla("vanilla-70m", 512, 6, 8, "EleutherAI/pythia-70m config (reference vanilla_70.yaml)");
        vanilla("vanilla-160m", 768, 12, 12, "EleutherAI/pythia-160m config (reference vanilla_160.yaml)");
        vanilla("vanilla-410m", 1024, 24, 16, "EleutherAI/pythia-410m config (reference vanilla_410.yaml)");
        //    name              D_emb  D     layers (block decoder = token decoder)
        block("block-b4-5m", 64, 256, 3, "block_main_b4_5.yaml");
        block("block-b4-19m", 128, 512, 3, "block_main_b4_19.yaml");
        block("block-b4-85m", 192, 768, 6, "block_main_b4_85.yaml");
        block("block-b4-300m", 256, 1024, 12, "block_main_b4_300.yaml");
        block("block-b4-800m", 512, 2048, 8, "block_main_b4_800.yaml");
        block("block-b4-1.2b", 512, 2048, 12, "block_main_b4_1.2b.yaml");
    }

    private Presets() {
    }

    /** Preset names, smallest first within each family. */
    public static List<String> names() {
        return List.copyOf(PRESETS.keySet());
    }

    public static boolean exists(String name) {
        return PRESETS.containsKey(name);
    }

    public static Preset get(String name) {
        Preset preset = PRESETS.get(name);
        if (preset == null) {
            throw new IllegalArgumentException("unknown preset '" + name + "'; presets: " + String.join(", ", names()));
        }
        return preset;
    }

    public static ModelConfig config(String name) {
        return get(name).config();
    }

    /**
     * Seeded random weights for a preset (scheme in {@link RandomParameters}): the same (name, seed) gives the same
     * weights on every machine and thread count; BF16 and F16 give exactly the F32 weights rounded to their format.
     */
    public static ModelWeights randomInit(String name, long seed, WeightFormat format) {
        return randomInit(name, config(name), seed, format);
    }

    /** As {@link #randomInit(String, long, WeightFormat)}, the Linear layers' matrices in {@code layout}. */
    public static ModelWeights randomInit(String name, long seed, WeightFormat format, MatrixLayout layout,
                                          LoadProgress progress) {
        return randomInit(name, config(name), seed, format, layout, progress);
    }

    /** Seeded random weights for any architecture; {@code scope} keeps streams of differently named models apart. */
    public static ModelWeights randomInit(String scope, ModelConfig config, long seed, WeightFormat format) {
        return randomInit(scope, config, seed, format, MatrixLayout.ROWS, LoadProgress.NONE);
    }

    /** Seeded random weights for any architecture, the Linear layers' matrices in {@code layout}. */
    public static ModelWeights randomInit(String scope, ModelConfig config, long seed, WeightFormat format,
                                          MatrixLayout layout, LoadProgress progress) {
        long start = System.nanoTime();
        RandomParameters parameters = new RandomParameters(scope, seed, format, layout,
                ParameterCount.of(config).total(), progress);
        ModelWeights weights = WeightAssembler.assemble(config, parameters);
        long allocated = System.nanoTime();
        parameters.fill();
        LOG.info("{}: {} random {} values (seed {}), Linear matrices in {}: allocated in {} ms, drawn in {} ms", scope,
                parameters.scheduled(), format.name().toLowerCase(java.util.Locale.ROOT), seed,
                layout.name().toLowerCase(java.util.Locale.ROOT), (allocated - start) / 1_000_000,
                (System.nanoTime() - allocated) / 1_000_000);
        return weights;
    }

    /** The reference's head-count rule (util/config.py): head size 32 up to D 256, 64 up to D 1536, else 128. */
    static int referenceHeads(int hiddenSize) {
        int headSize = hiddenSize <= 256 ? 32 : hiddenSize <= 1536 ? 64 : 128;
        return hiddenSize / headSize;
    }

    private static void vanilla(String name, int d, int layers, int heads, String source) {
        NeoXConfig stack = NeoXConfig.pythia(d, layers, heads, 4 * d, MAX_POSITIONS);
        PRESETS.put(name, new Preset(name, new VanillaConfig(VOCAB, stack, 0, 0, 0), source));
    }

    private static void block(String name, int embedDim, int d, int layers, String yaml) {
        NeoXConfig stack = NeoXConfig.pythia(d, layers, referenceHeads(d), 4 * d, MAX_POSITIONS);
        BlockConfig config = new BlockConfig(4, VOCAB, new EmbedderConfig(embedDim, EmbedderProjection.CONCAT),
                DecodingStrategy.PREFIX, 2, stack, stack, 0, 0, 0);
        PRESETS.put(name, new Preset(name, config, BLOCK_SOURCE + yaml));
    }
}
