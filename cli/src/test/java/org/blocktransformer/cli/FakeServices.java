package org.blocktransformer.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.blocktransformer.model.backend.BackendInfo;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.EmbedderConfig;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.generate.FinishReason;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.LayerNormWeights;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.StackWeights;
import org.blocktransformer.model.weights.VanillaWeights;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * Services without the loader or the engine: two tiny models ("tiny-vanilla", "tiny-block", vocabulary 512, at
 * most 64 tokens), a one-id-per-character tokenizer, and a generator that continues with prompt[last] + 1, + 2, ...
 */
final class FakeServices implements CliServices {

    static final VanillaConfig VANILLA = new VanillaConfig(512, NeoXConfig.pythia(64, 2, 2, 48, 64), 0, 0, 0);
    static final BlockConfig BLOCK = new BlockConfig(4, 512, new EmbedderConfig(16, EmbedderProjection.CONCAT),
            DecodingStrategy.PREFIX, 2, NeoXConfig.pythia(64, 2, 2, 48, 16), NeoXConfig.pythia(64, 2, 2, 48, 16),
            0, 0, 0);

    final List<GenerationRequest> requests = new ArrayList<>();
    EngineOptions options;
    WeightFormat loadedFormat;
    RuntimeException generatorFailure;
    boolean tokenizerClosed;

    @Override
    public ModelWeights loadModel(String dirOrPreset, WeightFormat format, long initSeed) {
        loadedFormat = format;
        modelConfig(dirOrPreset);
        // The fake generator never reads the weights: zero matrices of the right shapes.
        float[] z = new float[64];
        StackWeights stack = new StackWeights(List.of(), new LayerNormWeights(z, z));
        if (dirOrPreset.equals("tiny-block")) {
            return new BlockWeights(BLOCK, zeros(512, 16), null, stack, new Linear(zeros(128, 64), new float[128]),
                    zeros(512, 64), stack, new Linear(zeros(512, 64), null));
        }
        return new VanillaWeights(VANILLA, zeros(512, 64), stack, new Linear(zeros(512, 64), null));
    }

    private static F32Matrix zeros(int rows, int cols) {
        return new F32Matrix(rows, cols, new float[rows * cols]);
    }

    @Override
    public ModelConfig modelConfig(String dirOrPreset) {
        return switch (dirOrPreset) {
            case "tiny-vanilla" -> VANILLA;
            case "tiny-block" -> BLOCK;
            default -> throw new CliException("unknown model '" + dirOrPreset + "'");
        };
    }

    @Override
    public Optional<String> checkpointDtypes(String dirOrPreset) {
        return Optional.empty();
    }

    @Override
    public boolean isPreset(String dirOrPreset) {
        return dirOrPreset.startsWith("tiny-");
    }

    @Override
    public List<String> presetNames() {
        return List.of("tiny-vanilla", "tiny-block");
    }

    @Override
    public Optional<String> presetSource(String name) {
        return isPreset(name) ? Optional.of("a test") : Optional.empty();
    }

    @Override
    public Optional<Path> tokenizerBeside(String dirOrPreset) {
        return Optional.empty();
    }

    @Override
    public Tokenizer openTokenizer(Path tokenizerJson) {
        return new Tokenizer() {
            @Override
            public int[] encode(String text) {
                return text.codePoints().toArray();
            }

            @Override
            public String decode(int[] ids) {
                StringBuilder sb = new StringBuilder();
                for (int id : ids) {
                    sb.appendCodePoint(id);
                }
                return sb.toString();
            }

            @Override
            public void close() {
                tokenizerClosed = true;
            }
        };
    }

    @Override
    public Generator openGenerator(ModelWeights weights, EngineOptions options) {
        this.options = options;
        return new Generator() {
            @Override
            public List<GenerationResult> generateAll(List<GenerationRequest> reqs) {
                if (generatorFailure != null) {
                    throw generatorFailure;
                }
                requests.addAll(reqs);
                List<GenerationResult> out = new ArrayList<>();
                for (GenerationRequest r : reqs) {
                    int[] p = r.promptIds();
                    int[] g = new int[r.maxNewTokens()];
                    for (int i = 0; i < g.length; i++) {
                        g[i] = (p[p.length - 1] + i + 1) % 512;
                    }
                    out.add(new GenerationResult(p, g, FinishReason.LENGTH, 1_000, 2_500_000, 10_000_000));
                }
                return out;
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public List<BackendInfo> backends() {
        return List.of(new BackendInfo("cpu", true, "pure Java", List.of("CPU: 2 threads")),
                new BackendInfo("tornado", false, "the JVM was not started with TornadoVM", List.of()));
    }

    /** Devices whose check fails, with the message. */
    final java.util.Map<String, String> failingDevices = new java.util.HashMap<>();

    @Override
    public String checkDevice(String name, String device) {
        return failingDevices.get(name + "/" + device);
    }
}
