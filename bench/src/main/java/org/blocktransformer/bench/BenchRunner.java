package org.blocktransformer.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;

/** Runs a {@link BenchPlan}: loads each model once, then every scenario and batch size on it. */
public final class BenchRunner {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BenchRunner.class);

    /** Loads a model by name. */
    @FunctionalInterface
    public interface Loader {
        ModelWeights load(String model, WeightFormat format, long initSeed);
    }

    /** Told what happens, on the calling thread (a progress display polls {@link ThroughputHarness.Progress}). */
    public interface Listener {
        default void modelLoading(String model) {
        }

        default void modelLoaded(String model, double seconds) {
        }

        /** Run {@code index} (from 1) of {@code total} starts; {@code progress} tracks its tokens. */
        default void runStarting(int index, int total, String model, Scenario scenario, int batchSize,
                                 ThroughputHarness.Progress progress) {
        }

        default void runFinished(int index, int total, ThroughputResult result) {
        }
    }

    private BenchRunner() {
    }

    /** The architecture of a preset or checkpoint directory, without loading weights. */
    public static ModelConfig config(String model) {
        return ModelSources.config(model);
    }

    /** Configs of all models, checking that every scenario fits every model before anything runs. */
    public static Map<String, ModelConfig> checkedConfigs(List<String> models, List<Scenario> scenarios) {
        Map<String, ModelConfig> configs = new LinkedHashMap<>();
        for (String m : models) {
            ModelConfig c = config(m);
            for (Scenario s : scenarios) {
                if ((long) s.promptLength() + s.newTokens() > c.maxSequenceTokens()) {
                    throw new IllegalArgumentException("scenario " + s + " needs " + (s.promptLength() + s.newTokens())
                            + " tokens, more than " + m + " handles (" + c.maxSequenceTokens() + ")"
                            + (s.name().equals("prefill-heavy") || s.name().equals("decode-heavy")
                            ? "; " + s.name() + "-2k is the same scenario within 2048 positions" : ""));
                }
            }
            configs.put(m, c);
        }
        return configs;
    }

    /** Loads each model in the layout of the plan's backend, so that the backend holds the weights once. */
    public static List<ThroughputResult> run(BenchPlan plan, Listener listener) {
        var layout = org.blocktransformer.model.backend.Backends.matrixLayout(plan.run().backend());
        return run(plan, (model, format, seed) -> ModelSources.load(model, format, seed, layout,
                org.blocktransformer.loader.LoadProgress.NONE), listener);
    }

    public static List<ThroughputResult> run(BenchPlan plan, Loader loader, Listener listener) {
        checkedConfigs(plan.models(), plan.scenarios());
        List<ThroughputResult> results = new ArrayList<>();
        int total = plan.runCount();
        int index = 0;
        String format = plan.weights().name().toLowerCase(java.util.Locale.ROOT);
        for (String model : plan.models()) {
            listener.modelLoading(model);
            long t0 = System.nanoTime();
            ModelWeights weights = loader.load(model, plan.weights(), plan.initSeed());
            listener.modelLoaded(model, (System.nanoTime() - t0) / 1e9);
            long budget = budget(plan, weights);
            ThroughputHarness.Options run = plan.run();
            ThroughputHarness.Options options = new ThroughputHarness.Options(run.batching(), run.rounds(),
                    run.backend(), run.device(), run.threads(), run.warmupTokens(), run.promptSeed(), budget,
                    run.topK(), run.kvCache(), run.tensorCores());
            for (Scenario scenario : plan.scenarios()) {
                for (int batch : batchSizes(plan, weights.config(), scenario, budget, model)) {
                    index++;
                    ThroughputHarness.Progress progress = new ThroughputHarness.Progress();
                    listener.runStarting(index, total, model, scenario, batch, progress);
                    ThroughputResult r = ThroughputHarness.run(model, weights, format, scenario, batch, options, progress);
                    results.add(r);
                    listener.runFinished(index, total, r);
                }
            }
        }
        return results;
    }

    /**
     * The KV-cache budget of 'max' batches and of the reported largest batch: {@code --memory}, else on a device
     * its memory less the weights and a reserve ({@link DeviceBudget}), else half the heap free now.
     */
    static long budget(BenchPlan plan, ModelWeights weights) {
        if (plan.run().memoryBudget() > 0) {
            return plan.run().memoryBudget();
        }
        if (plan.deviceMemory() > 0) {
            long kv = DeviceBudget.kvBytes(plan.deviceMemory(), weights, plan.deviceWeightCopies());
            LOG.info("KV-cache budget {} MiB: device memory {} MiB less weights {} MiB ({} cop{}) and a reserve of {}"
                    + " MiB", kv >> 20, plan.deviceMemory() >> 20,
                    DeviceBudget.weightBytes(weights, plan.deviceWeightCopies()) >> 20, plan.deviceWeightCopies(),
                    plan.deviceWeightCopies() == 1 ? "y" : "ies", DeviceBudget.RESERVE >> 20);
            return kv;
        }
        return InferenceEngine.defaultCacheBytes();
    }

    /** The plan's batch sizes for one model and scenario, the largest that fits the budget last. */
    static List<Integer> batchSizes(BenchPlan plan, ModelConfig config, Scenario s, long budget, String model) {
        List<Integer> sizes = new ArrayList<>(plan.batchSizes());
        if (plan.maxBatch()) {
            int fits = plan.run().cacheGeometry(config).maxBatch(s.promptLength(), s.newTokens(), budget);
            if (fits < 1) {
                throw new IllegalArgumentException(model + ": not even one sequence of " + s + " fits the memory"
                        + " budget of " + budget + " bytes");
            }
            sizes.add(Math.min(fits, plan.maxBatchCap()));
        }
        return sizes;
    }
}
