package org.blocktransformer.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.blocktransformer.loader.LoadProgress;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.loader.Presets;
import org.blocktransformer.loader.safetensors.TensorSource;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.backend.BackendInfo;
import org.blocktransformer.model.backend.Backends;
import org.blocktransformer.model.backend.ComputeBackend;
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
        return loadModel(dirOrPreset, format, initSeed, "auto");
    }

    @Override
    public ModelWeights loadModel(String dirOrPreset, WeightFormat format, long initSeed, String backend) {
        // The kernels' JIT warm-up overlaps with loading the weights.
        org.blocktransformer.model.cpu.CpuKernels.best().warmUp();
        LoadProgress progress = LoadProgressBar.forConsole(dirOrPreset);
        try {
            // In the layout of the backend that will run it, so the weights are held once.
            return ModelSources.load(dirOrPreset, format, initSeed, Backends.matrixLayout(backend), progress);
        } finally {
            if (progress instanceof LoadProgressBar bar) {
                bar.close();
            }
        }
    }

    @Override
    public ModelConfig modelConfig(String dirOrPreset) {
        // Checked against the weights' headers as loading checks them, so that info refuses what generate refuses.
        return ModelSources.checkedConfig(dirOrPreset);
    }

    @Override
    public Optional<String> checkpointDtypes(String dirOrPreset) {
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

    @Override
    public boolean isPreset(String dirOrPreset) {
        return Presets.exists(dirOrPreset);
    }

    @Override
    public List<String> presetNames() {
        return Presets.names();
    }

    @Override
    public Optional<String> presetSource(String name) {
        return Presets.exists(name) ? Optional.of(Presets.get(name).source()) : Optional.empty();
    }

    @Override
    public Optional<Path> tokenizerBeside(String dirOrPreset) {
        return ModelSources.checkpointDirectory(dirOrPreset)
                .map(d -> d.resolve(BtTokenizer.TOKENIZER_FILE))
                .filter(Files::isRegularFile);
    }

    @Override
    public Tokenizer openTokenizer(Path tokenizerJson) {
        BtTokenizer tok = BtTokenizer.load(tokenizerJson);
        return new Tokenizer() {
            @Override
            public int[] encode(String text) {
                return tok.encode(text);
            }

            @Override
            public String decode(int[] ids) {
                return tok.decode(ids);
            }

            @Override
            public void close() {
                tok.close();
            }
        };
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
            public void generateEach(List<GenerationRequest> requests,
                                     java.util.function.ObjIntConsumer<GenerationResult> done) {
                generateStreaming(requests, (i, id) -> { }, done);
            }

            @Override
            public void generateStreaming(List<GenerationRequest> requests, TokenSink tokens,
                                          java.util.function.ObjIntConsumer<GenerationResult> done) {
                List<java.util.concurrent.CompletableFuture<Void>> all = new java.util.ArrayList<>();
                List<org.blocktransformer.model.generate.TokenListener> listeners = new java.util.ArrayList<>();
                for (int i = 0; i < requests.size(); i++) {
                    int index = i;
                    listeners.add(id -> {
                        synchronized (done) {
                            tokens.token(index, id);
                        }
                    });
                }
                var futures = engine.submitAll(requests, listeners);
                for (int i = 0; i < requests.size(); i++) {
                    int index = i;
                    all.add(futures.get(i).thenAccept(r -> {
                        synchronized (done) {
                            done.accept(r, index);
                        }
                    }));
                }
                java.util.concurrent.CompletableFuture.allOf(all.toArray(java.util.concurrent.CompletableFuture[]::new)).join();
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

    @Override
    public String checkDevice(String name, String device) {
        try (ComputeBackend b = Backends.open(name, device, 1)) {
            return null;
        } catch (RuntimeException e) {
            return e.getMessage() != null ? e.getMessage() : e.toString();
        }
    }
}
