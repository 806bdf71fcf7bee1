package org.blocktransformer.model.engine;

import java.util.List;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.weights.ModelWeights;

/** Runs generation requests on a model. (Work in progress: the implementation lands next.) */
public final class InferenceEngine implements AutoCloseable {

    private final ModelWeights weights;
    private final EngineOptions options;

    private InferenceEngine(ModelWeights weights, EngineOptions options) {
        this.weights = weights;
        this.options = options;
    }

    public static InferenceEngine open(ModelWeights weights, EngineOptions options) {
        return new InferenceEngine(weights, options);
    }

    /** Generates every request; results in input order. */
    public List<GenerationResult> generateAll(List<GenerationRequest> requests) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    public ModelWeights weights() {
        return weights;
    }

    public EngineOptions options() {
        return options;
    }

    @Override
    public void close() {
    }
}
