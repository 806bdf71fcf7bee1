package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.Test;

/** The library example of README.md, verbatim apart from the assertions: keeps the README true to the API. */
class ReadmeExampleTest {

    @Test
    void libraryExampleRuns() {
        ModelWeights weights = ModelSources.load("block-b4-5m", WeightFormat.F32, 0); // or a checkpoint directory
        try (InferenceEngine engine = InferenceEngine.open(weights, EngineOptions.defaults().withMaxBatchSize(8))) {
            List<GenerationResult> results = engine.generateAll(List.of(
                    GenerationRequest.greedy(new int[] {1, 2, 3}, 16),
                    GenerationRequest.greedy(new int[] {4, 5}, 16)));
            int[] newIds = results.get(0).generatedIds(); // results come in request order
            assertEquals(16, newIds.length);
            assertEquals(2, results.size());

            long seed = 1;
            GenerationResult sampled = engine.generateAll(List.of(new GenerationRequest(new int[] {1, 2, 3}, 4,
                    SamplingParams.sample(0.8, 40, 0.95, seed), true))).getFirst();
            assertEquals(true, sampled.generatedIds().length <= 4);
        }
    }
}
