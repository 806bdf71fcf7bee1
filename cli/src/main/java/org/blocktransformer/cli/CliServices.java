package org.blocktransformer.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.blocktransformer.model.backend.BackendInfo;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * What the commands need from the rest of the project: loading models and tokenizers, running the engine,
 * listing backends. {@link LibraryServices} is the real one; tests pass fakes.
 */
public interface CliServices {

    /** Loads a checkpoint directory or builds a preset with seeded random weights. */
    ModelWeights loadModel(String dirOrPreset, WeightFormat format, long initSeed);

    /** As {@link #loadModel(String, WeightFormat, long)}, laid out for {@code backend} ("auto", "cpu", ...). */
    default ModelWeights loadModel(String dirOrPreset, WeightFormat format, long initSeed, String backend) {
        return loadModel(dirOrPreset, format, initSeed);
    }

    /**
     * The architecture of a checkpoint directory or preset, without loading its weights; a directory's tensors are
     * checked against it from their headers, refused as {@link #loadModel} would refuse them.
     */
    ModelConfig modelConfig(String dirOrPreset);

    /**
     * The element types stored in a checkpoint directory's weights, e.g. "F32" or "BF16, F32" (read from the
     * safetensors headers only); empty for a preset.
     */
    Optional<String> checkpointDtypes(String dirOrPreset);

    /** Whether {@code dirOrPreset} names a preset (rather than a directory). */
    boolean isPreset(String dirOrPreset);

    List<String> presetNames();

    /** Where a preset's shape comes from (paper, config file); empty for anything else. */
    Optional<String> presetSource(String name);

    /** A tokenizer that sits beside a checkpoint ({@code tokenizer.json} in the directory), if any. */
    Optional<Path> tokenizerBeside(String dirOrPreset);

    Tokenizer openTokenizer(Path tokenizerJson);

    Generator openGenerator(ModelWeights weights, EngineOptions options);

    List<BackendInfo> backends();

    /**
     * Opens backend {@code name} on {@code device} (null: its default) and closes it again; a TornadoVM device runs
     * its self-test on the way. Null when that worked, else why not.
     */
    String checkDevice(String name, String device);

    /** Text to token ids and back. */
    interface Tokenizer extends AutoCloseable {
        int[] encode(String text);

        String decode(int[] ids);

        @Override
        void close();
    }

    /** Runs generation requests; results in input order. */
    interface Generator extends AutoCloseable {
        List<GenerationResult> generateAll(List<GenerationRequest> requests);

        /**
         * Runs the requests and hands each result to {@code done} (with its index) as soon as it finishes; returns
         * when all are done. By default in input order after all finished.
         */
        default void generateEach(List<GenerationRequest> requests, java.util.function.ObjIntConsumer<GenerationResult> done) {
            List<GenerationResult> all = generateAll(requests);
            for (int i = 0; i < all.size(); i++) {
                done.accept(all.get(i), i);
            }
        }

        /**
         * As {@link #generateEach}, each token also going to {@code tokens} as it is produced (on the engine's
         * thread: keep it quick). By default the tokens come with their finished request.
         */
        default void generateStreaming(List<GenerationRequest> requests, TokenSink tokens,
                                       java.util.function.ObjIntConsumer<GenerationResult> done) {
            generateEach(requests, (r, i) -> {
                for (int id : r.generatedIds()) {
                    tokens.token(i, id);
                }
                done.accept(r, i);
            });
        }

        @Override
        void close();
    }

    /** Receives generated tokens: request index, token id. */
    interface TokenSink {
        void token(int index, int id);
    }
}
