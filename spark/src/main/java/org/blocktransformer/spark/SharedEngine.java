package org.blocktransformer.spark;

import java.nio.file.Path;
import org.blocktransformer.loader.LoadProgress;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.backend.Backends;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.weights.ModelWeights;

/** An executor's engine for one {@link EngineSpec}, with its tokenizer (null when none is known). */
final class SharedEngine implements AutoCloseable {

    private final EngineSpec spec;
    private final InferenceEngine engine;
    private final BtTokenizer tokenizer;

    private SharedEngine(EngineSpec spec, InferenceEngine engine, BtTokenizer tokenizer) {
        this.spec = spec;
        this.engine = engine;
        this.tokenizer = tokenizer;
    }

    /** Loads the model in the layout of the backend that will run it (held once) and opens the engine. */
    static SharedEngine open(EngineSpec spec) {
        Backends.require(spec.backend());
        // The kernels' JIT warm-up overlaps with loading the weights, as in bt generate.
        org.blocktransformer.model.cpu.CpuKernels.best().warmUp();
        ModelWeights weights = ModelSources.load(spec.model(), spec.weights(), spec.initSeed(),
                Backends.matrixLayout(spec.backend()), LoadProgress.NONE);
        BtTokenizer tok = openTokenizer(spec);
        try {
            if (tok != null) {
                tok.requireFits(weights.config().vocabSize());
            }
            return new SharedEngine(spec, InferenceEngine.open(weights, spec.engineOptions()), tok);
        } catch (RuntimeException | Error e) {
            if (tok != null) {
                tok.close();
            }
            throw e;
        }
    }

    /** The spec's tokenizer, else the model directory's tokenizer.json (as bt generate finds it), else null. */
    private static BtTokenizer openTokenizer(EngineSpec spec) {
        if (spec.tokenizer() != null) {
            return BtTokenizer.load(Path.of(spec.tokenizer()));
        }
        return ModelSources.tokenizerBeside(spec.model()).map(BtTokenizer::load).orElse(null);
    }

    EngineSpec spec() {
        return spec;
    }

    InferenceEngine engine() {
        return engine;
    }

    /** Null when neither the spec nor the model directory names one. */
    BtTokenizer tokenizer() {
        return tokenizer;
    }

    ModelConfig config() {
        return engine.weights().config();
    }

    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            if (tokenizer != null) {
                tokenizer.close();
            }
        }
    }
}
