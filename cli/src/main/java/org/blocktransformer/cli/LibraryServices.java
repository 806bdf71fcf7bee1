package org.blocktransformer.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.blocktransformer.loader.Checkpoints;
import org.blocktransformer.model.backend.BackendInfo;
import org.blocktransformer.model.backend.Backends;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;

/** The real services: the loader module and the inference engine. */
public final class LibraryServices implements CliServices {

    @Override
    public ModelWeights loadModel(String dirOrPreset, WeightFormat format, long initSeed) {
        return Checkpoints.load(directory(dirOrPreset), format);
    }

    @Override
    public ModelConfig modelConfig(String dirOrPreset) {
        return Checkpoints.config(directory(dirOrPreset));
    }

    private Path directory(String dirOrPreset) {
        Path p = Path.of(dirOrPreset);
        if (!Files.isDirectory(p)) {
            throw new CliException("'" + dirOrPreset + "' is neither a checkpoint directory nor a preset");
        }
        return p;
    }

    @Override
    public boolean isPreset(String dirOrPreset) {
        return false;
    }

    @Override
    public List<String> presetNames() {
        return List.of();
    }

    @Override
    public Optional<Path> tokenizerBeside(String dirOrPreset) {
        Path p = Path.of(dirOrPreset);
        if (!Files.isDirectory(p)) {
            return Optional.empty();
        }
        Path t = p.resolve("tokenizer.json");
        return Files.isRegularFile(t) ? Optional.of(t) : Optional.empty();
    }

    @Override
    public Tokenizer openTokenizer(Path tokenizerJson) {
        throw new CliException("tokenizers are not supported yet");
    }

    @Override
    public Generator openGenerator(ModelWeights weights, EngineOptions options) {
        InferenceEngine engine = InferenceEngine.open(weights, options);
        return new Generator() {
            @Override
            public List<GenerationResult> generateAll(List<GenerationRequest> requests) {
                return engine.generateAll(requests);
            }

            @Override
            public void close() {
                engine.close();
            }
        };
    }

    @Override
    public List<BackendInfo> backends() {
        return Backends.list();
    }
}
