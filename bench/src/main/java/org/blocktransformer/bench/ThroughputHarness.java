package org.blocktransformer.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.weights.ModelWeights;

/**
 * Measures generation throughput the way the paper does: a batch of same-length random prompts, a fixed number of
 * new tokens each (EOS ignored), greedy, wall time from submission to the last token.
 */
public final class ThroughputHarness {
    private ThroughputHarness() {
    }

    public static ThroughputResult run(String modelName, ModelWeights weights, long weightBytes, Scenario scenario,
                                       int batchSize, EngineOptions options, long seed) {
        int vocab = weights.config().vocabSize();
        SplittableRandom random = new SplittableRandom(seed);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int b = 0; b < batchSize; b++) {
            int[] prompt = new int[scenario.promptLength()];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = 1 + random.nextInt(vocab - 1);
            }
            requests.add(new GenerationRequest(prompt, scenario.newTokens(), SamplingParams.GREEDY, false));
        }
        try (var engine = InferenceEngine.open(weights, options.withMaxBatchSize(batchSize))) {
            long start = System.nanoTime();
            List<GenerationResult> results = engine.generateAll(requests);
            double seconds = (System.nanoTime() - start) / 1e9;
            long tokens = results.stream().mapToLong(r -> r.generatedIds().length).sum();
            double ttft = results.stream().mapToLong(GenerationResult::firstTokenNanos).average().orElse(0) / 1e6;
            double[] perToken = results.stream()
                    .mapToDouble(r -> (r.totalNanos() - r.firstTokenNanos()) / 1e6 / Math.max(1, r.generatedIds().length - 1))
                    .sorted().toArray();
            return new ThroughputResult(modelName, "cpu", engine.describeBackend(), scenario.name(),
                    scenario.promptLength(), scenario.newTokens(), batchSize, options.batching().name().toLowerCase(),
                    tokens / seconds, ttft, percentile(perToken, 0.5), percentile(perToken, 0.99),
                    engine.cacheBytes(), weightBytes, seconds);
        }
    }

    static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    /** Quick command-line use: model, batch sizes, prompt length, new tokens, weight format. */
    public static void main(String[] args) {
        String model = args[0];
        int[] batches = Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray();
        int prompt = Integer.parseInt(args[2]);
        int fresh = Integer.parseInt(args[3]);
        var format = args.length > 4 ? org.blocktransformer.model.weights.WeightFormat.valueOf(args[4].toUpperCase())
                : org.blocktransformer.model.weights.WeightFormat.F32;
        var weights = org.blocktransformer.loader.ModelSources.load(model, format, 0);
        for (int b : batches) {
            // Warm-up run so the JIT has compiled the kernels before timing.
            run(model, weights, 0, Scenario.custom(Math.min(prompt, 16), 8), b, EngineOptions.defaults(), 1);
            var r = run(model, weights, 0, Scenario.custom(prompt, fresh), b, EngineOptions.defaults(), 1);
            System.out.printf("%s batch %d prompt %d new %d: %.1f tok/s, ttft %.0f ms, p50 %.1f ms/token (%s)%n",
                    model, b, prompt, fresh, r.tokensPerSecond(), r.ttftMillis(), r.p50TokenMillis(), r.device());
        }
    }
}
