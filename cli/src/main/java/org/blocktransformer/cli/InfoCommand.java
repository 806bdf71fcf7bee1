package org.blocktransformer.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.loader.Presets;
import org.blocktransformer.loader.safetensors.TensorSource;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.ParameterCount;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.weights.WeightFormat;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bt info}: architecture, parameter counts and cache sizes of a model, or the list of presets. */
@Command(name = "info",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Describe a model: architecture, parameters, cache sizes.",
        description = {
                "Describe a model without running it: the architecture of each decoder stack, parameter counts"
                        + " (embedding and non-embedding), weight memory and KV-cache bytes. Only config.json"
                        + " and the safetensors headers are read. --presets lists the built-in presets.",
                ""},
        footerHeading = "%nExamples:%n",
        footer = {
                "  bt info --model block-b4-5m",
                "  bt info --model path/to/checkpoint --format json",
                "  bt info --presets",
                "",
                "KV cache (float32 entries): the global cache holds one entry per token (vanilla) or one per block"
                        + " of L_B tokens (block decoder); the token decoder's local slot holds R+L_B-1 positions"
                        + " (prefix decoding; L_B for summation) per sequence and is reused for every block."})
public final class InfoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    LoggingMixin logging;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = "--model", required = true, paramLabel = "DIR|PRESET",
                description = "Checkpoint directory (config.json + model.safetensors) or preset name.")
        String model;

        @Option(names = "--presets", required = true, description = "List the presets.")
        boolean presets;
    }

    @Option(names = "--weights", paramLabel = "DTYPE", defaultValue = "f32",
            description = "Weight format to size the weight memory for: f32, bf16 or f16. Default: ${DEFAULT-VALUE}.")
    WeightFormat weights;

    @Option(names = "--format", paramLabel = "FMT", defaultValue = "text",
            description = "Output: text or json. Default: ${DEFAULT-VALUE}.")
    OutputFormat format;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (target.presets) {
            printPresets(out);
        } else {
            // Checked against the weights' headers as loading checks them, so that info refuses what generate refuses.
            ModelConfig config = ModelSources.checkedConfig(target.model);
            boolean preset = Presets.exists(target.model);
            Optional<String> stored = checkpointDtypes(target.model);
            Optional<String> source = preset ? Optional.of(Presets.get(target.model).source()) : Optional.empty();
            if (format == OutputFormat.json) {
                ObjectNode o = toJson(target.model, preset, config, weights);
                stored.ifPresent(d -> o.put("checkpoint_dtype", d));
                source.ifPresent(src -> o.put("preset_source", src));
                out.println(Json.line(o));
            } else {
                out.print(toText(target.model, preset, config, weights, stored));
                source.ifPresent(src -> out.printf("%nshape from: %s%n", src));
            }
        }
        out.flush();
        return 0;
    }

    /**
     * The element types stored in a checkpoint directory's weights, e.g. "F32" or "BF16, F32" (from the safetensors
     * headers only); empty for a preset.
     */
    private static Optional<String> checkpointDtypes(String dirOrPreset) {
        Optional<Path> dir = ModelSources.checkpointDirectory(dirOrPreset);
        if (dir.isEmpty()) {
            return Optional.empty();
        }
        try (TensorSource tensors = TensorSource.openCheckpoint(dir.get())) {
            Set<String> dtypes = new TreeSet<>();
            for (String name : tensors.names()) {
                dtypes.add(tensors.info(name).dtype().name());
            }
            return Optional.of(String.join(", ", dtypes));
        }
    }

    private void printPresets(PrintWriter out) {
        if (format == OutputFormat.json) {
            for (String name : Presets.names()) {
                ModelConfig c = Presets.config(name);
                ObjectNode o = Json.object();
                o.put("name", name);
                o.put("kind", c.kind());
                o.put("summary", summary(c));
                o.put("parameters", ModelInfo.totalParameters(c));
                o.put("non_embedding_parameters", ModelInfo.nonEmbeddingParameters(c));
                o.put("source", Presets.get(name).source());
                out.println(Json.line(o));
            }
            return;
        }
        out.printf(Locale.ROOT, "%-18s %-18s %10s %14s  %s%n", "preset", "kind", "params", "non-embedding",
                "architecture");
        for (String name : Presets.names()) {
            ModelConfig c = Presets.config(name);
            out.printf(Locale.ROOT, "%-18s %-18s %10s %14s  %s%n", name, c.kind(),
                    ModelInfo.humanCount(ModelInfo.totalParameters(c)),
                    ModelInfo.humanCount(ModelInfo.nonEmbeddingParameters(c)), summary(c));
        }
    }

    /** One line: "L_B 4, R 2, prefix, block 512x6x8, token 512x6x8" or "512x6x8". */
    static String summary(ModelConfig config) {
        return switch (config) {
            case VanillaConfig v -> "gpt-neox " + shape(v.stack());
            case BlockConfig b -> "L_B " + b.blockLength() + ", R " + b.expansionRatio() + ", "
                    + b.decoding().name().toLowerCase(Locale.ROOT) + ", block " + shape(b.blockDecoder())
                    + ", token " + shape(b.tokenDecoder());
        };
    }

    /** hidden x layers x heads. */
    private static String shape(NeoXConfig s) {
        return s.hiddenSize() + "x" + s.numLayers() + "x" + s.numHeads();
    }

    static String toText(String name, boolean preset, ModelConfig c, WeightFormat weights,
            Optional<String> storedDtypes) {
        StringBuilder sb = new StringBuilder();
        String kv = "%-26s %s%n";
        sb.append(String.format(Locale.ROOT, kv, "model", name + (preset ? " (preset, random weights)" : "")));
        sb.append(String.format(Locale.ROOT, kv, "kind", c.kind()));
        sb.append(String.format(Locale.ROOT, kv, "vocabulary", c.vocabSize() + " (bos " + c.bosTokenId() + ", eos "
                + c.eosTokenId() + ", pad " + c.padTokenId() + ")"));
        sb.append(String.format(Locale.ROOT, kv, "max sequence", c.maxSequenceTokens() + " tokens"));
        switch (c) {
            case VanillaConfig v -> sb.append(String.format(Locale.ROOT, kv, "stack", stackText(v.stack())));
            case BlockConfig b -> {
                sb.append(String.format(Locale.ROOT, kv, "block length (L_B)", b.blockLength()));
                sb.append(String.format(Locale.ROOT, kv, "expansion ratio (R)", b.expansionRatio()));
                sb.append(String.format(Locale.ROOT, kv, "decoding", b.decoding().name().toLowerCase(Locale.ROOT)));
                sb.append(String.format(Locale.ROOT, kv, "embedder", "lookup, "
                        + b.embedder().projection().name().toLowerCase(Locale.ROOT) + ", D_emb "
                        + b.embedder().embedDim()));
                sb.append(String.format(Locale.ROOT, kv, "block decoder", stackText(b.blockDecoder())));
                sb.append(String.format(Locale.ROOT, kv, "token decoder", stackText(b.tokenDecoder())));
            }
        }
        sb.append(String.format(Locale.ROOT, "%nparameters%n"));
        for (ParameterCount.Part p : ModelInfo.parts(c)) {
            sb.append(String.format(Locale.ROOT, "  %-24s %,15d  %s%n", p.name(), p.total(),
                    p.embedding() ? "embedding" : "non-embedding"));
        }
        sb.append(String.format(Locale.ROOT, "  %-24s %,15d%n", "embedding", ModelInfo.embeddingParameters(c)));
        sb.append(String.format(Locale.ROOT, "  %-24s %,15d%n", "non-embedding", ModelInfo.nonEmbeddingParameters(c)));
        sb.append(String.format(Locale.ROOT, "  %-24s %,15d (%s)%n", "total", ModelInfo.totalParameters(c),
                ModelInfo.humanCount(ModelInfo.totalParameters(c))));
        long wb = ModelInfo.weightBytes(c, weights);
        sb.append(String.format(Locale.ROOT, "%n%-26s %s (%s%s)%n", "weights in memory", ModelInfo.humanBytes(wb),
                weights.name().toLowerCase(Locale.ROOT),
                weights == WeightFormat.F32 ? "" : " matrices, float32 biases and norms"));
        storedDtypes.ifPresent(d -> sb.append(String.format(Locale.ROOT, "%-26s %s%n", "stored in the checkpoint", d)));
        sb.append(String.format(Locale.ROOT, "%nKV cache (float32)%n"));
        switch (c) {
            case VanillaConfig v -> sb.append(String.format(Locale.ROOT, "  %-24s %s%n", "per token",
                    bytes(ModelInfo.globalBytesPerEntry(v))));
            case BlockConfig b -> {
                sb.append(String.format(Locale.ROOT, "  %-24s %s, one entry per block of %d tokens%n",
                        "global, per block", bytes(ModelInfo.globalBytesPerEntry(b)), b.blockLength()));
                sb.append(String.format(Locale.ROOT, "  %-24s %s%n", "global, per token",
                        bytes(ModelInfo.globalBytesPerToken(b))));
                sb.append(String.format(Locale.ROOT, "  %-24s %s: %d positions x %,d B%n", "local slot, per sequence",
                        bytes(ModelInfo.localBytesPerSequence(b)), b.localCacheLength(),
                        b.tokenDecoder().kvBytesPerPosition(ModelInfo.CACHE_ELEMENT_BYTES)));
            }
        }
        long tokens = Math.min(2048, c.maxSequenceTokens());
        sb.append(String.format(Locale.ROOT, "  %-24s %s%n", "sequence of " + tokens + " tokens",
                ModelInfo.humanBytes(ModelInfo.cacheBytesForTokens(c, tokens))));
        return sb.toString();
    }

    private static String stackText(NeoXConfig s) {
        return "hidden " + s.hiddenSize() + ", layers " + s.numLayers() + ", heads " + s.numHeads() + " (head size "
                + s.headSize() + "), intermediate " + s.intermediateSize() + ", max positions " + s.maxPositions();
    }

    private static String bytes(double b) {
        String exact = b == Math.rint(b) ? String.format(Locale.ROOT, "%,d B", (long) b)
                : String.format(Locale.ROOT, "%,.1f B", b);
        return b >= 1024 ? exact + " (" + ModelInfo.humanBytes(b) + ")" : exact;
    }

    static ObjectNode toJson(String name, boolean preset, ModelConfig c, WeightFormat weights) {
        ObjectNode o = Json.object();
        o.put("model", name);
        o.put("source", preset ? "preset" : "directory");
        o.put("kind", c.kind());
        o.put("vocab_size", c.vocabSize());
        o.put("bos_token_id", c.bosTokenId());
        o.put("eos_token_id", c.eosTokenId());
        o.put("pad_token_id", c.padTokenId());
        o.put("max_sequence_tokens", c.maxSequenceTokens());
        ObjectNode stacks = Json.object();
        switch (c) {
            case VanillaConfig v -> stacks.set("gpt_neox", stackJson(v.stack()));
            case BlockConfig b -> {
                o.put("block_length", b.blockLength());
                o.put("expansion_ratio", b.expansionRatio());
                o.put("decoding", b.decoding().name().toLowerCase(Locale.ROOT));
                ObjectNode emb = Json.object();
                emb.put("type", "lookup");
                emb.put("projection", b.embedder().projection().name().toLowerCase(Locale.ROOT));
                emb.put("hidden_size", b.embedder().embedDim());
                o.set("embedder", emb);
                stacks.set("block_decoder", stackJson(b.blockDecoder()));
                stacks.set("token_decoder", stackJson(b.tokenDecoder()));
            }
        }
        o.set("stacks", stacks);
        ObjectNode params = Json.object();
        params.put("embedding", ModelInfo.embeddingParameters(c));
        params.put("non_embedding", ModelInfo.nonEmbeddingParameters(c));
        params.put("total", ModelInfo.totalParameters(c));
        ObjectNode parts = Json.object();
        for (ParameterCount.Part p : ModelInfo.parts(c)) {
            parts.put(p.name().replace(' ', '_'), p.total());
        }
        params.set("parts", parts);
        o.set("parameters", params);
        ObjectNode w = Json.object();
        w.put("dtype", weights.name().toLowerCase(Locale.ROOT));
        w.put("bytes", ModelInfo.weightBytes(c, weights));
        o.set("weights", w);
        ObjectNode kv = Json.object();
        kv.put("element_bytes", ModelInfo.CACHE_ELEMENT_BYTES);
        kv.put("global_bytes_per_token", ModelInfo.globalBytesPerToken(c));
        if (c instanceof BlockConfig b) {
            kv.put("global_bytes_per_block", ModelInfo.globalBytesPerEntry(b));
            kv.put("local_positions", b.localCacheLength());
            kv.put("local_bytes_per_sequence", ModelInfo.localBytesPerSequence(b));
        }
        o.set("kv_cache", kv);
        return o;
    }

    private static ObjectNode stackJson(NeoXConfig s) {
        ObjectNode o = Json.object();
        o.put("hidden_size", s.hiddenSize());
        o.put("layers", s.numLayers());
        o.put("heads", s.numHeads());
        o.put("head_size", s.headSize());
        o.put("intermediate_size", s.intermediateSize());
        o.put("rotary_dims", s.rotaryDims());
        o.put("max_positions", s.maxPositions());
        o.put("non_embedding_parameters", s.nonEmbeddingParameters());
        return o;
    }
}
