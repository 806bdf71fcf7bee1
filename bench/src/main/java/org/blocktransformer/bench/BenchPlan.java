package org.blocktransformer.bench;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * What {@code bt bench} runs: every model x scenario x batch size.
 *
 * @param models      models in run order (preset names or checkpoint directories)
 * @param pairs       vanilla/block pairs whose throughput ratio is reported (both members are in {@code models})
 * @param scenarios   prompt/new-token lengths
 * @param batchSizes  explicit batch sizes, ascending
 * @param maxBatch    also run the largest batch whose KV cache fits the memory budget
 * @param maxBatchCap upper bound for that largest batch
 * @param deviceMemory the backend's device memory ({@code ComputeBackend#deviceMemoryCapacity}) where its weights
 *                    and KV cache live outside the heap, else 0: without {@code --memory}, 'max' batches are sized
 *                    from it ({@link DeviceBudget}) rather than from the heap
 * @param deviceWeightCopies copies of the weights the backend keeps in that memory ({@code
 *                    ComputeBackend#weightCopies}; 1 where there is none)
 * @param weights     weight format in memory
 * @param initSeed    seed of presets' random weights
 * @param run         how each run goes (batching, warm-up, backend, memory budget, ...)
 */
public record BenchPlan(List<String> models, List<ModelPair> pairs, List<Scenario> scenarios, List<Integer> batchSizes,
                        boolean maxBatch, int maxBatchCap, long deviceMemory, int deviceWeightCopies,
                        WeightFormat weights, long initSeed,
                        ThroughputHarness.Options run) {

    public BenchPlan {
        models = List.copyOf(models);
        pairs = List.copyOf(pairs);
        scenarios = List.copyOf(scenarios);
        batchSizes = List.copyOf(batchSizes);
        if (models.isEmpty()) {
            throw new IllegalArgumentException("no models to benchmark");
        }
        if (scenarios.isEmpty()) {
            throw new IllegalArgumentException("no scenarios to run");
        }
        if (batchSizes.isEmpty() && !maxBatch) {
            throw new IllegalArgumentException("no batch sizes to run");
        }
        for (int b : batchSizes) {
            if (b < 1) {
                throw new IllegalArgumentException("batch sizes must be >= 1, got " + b);
            }
        }
        if (deviceMemory < 0) {
            throw new IllegalArgumentException("device memory must be >= 0, got " + deviceMemory);
        }
        if (deviceWeightCopies < 1) {
            throw new IllegalArgumentException("device weight copies must be >= 1, got " + deviceWeightCopies);
        }
        if (maxBatchCap < 1) {
            throw new IllegalArgumentException("the largest batch cap must be >= 1, got " + maxBatchCap);
        }
        for (ModelPair p : pairs) {
            if (!models.contains(p.vanilla()) || !models.contains(p.block())) {
                throw new IllegalArgumentException("pair " + p + " names a model that is not benchmarked");
            }
        }
    }

    /** Runs in all: models x scenarios x (batch sizes + the largest one, if asked). */
    public int runCount() {
        return models.size() * scenarios.size() * (batchSizes.size() + (maxBatch ? 1 : 0));
    }

    /**
     * The models of {@code pairs} and {@code extraModels} (pairs first, vanilla before block, no repeats), and the
     * pairs to report: the given ones, else the paper's pairs among the models, else the one vanilla and one block
     * model when there are exactly two of different kinds.
     *
     * @param configs the architecture of every model named (to tell vanilla from block)
     */
    public static Resolved resolve(List<ModelPair> pairs, List<String> extraModels, Map<String, ModelConfig> configs) {
        Set<String> models = new LinkedHashSet<>();
        for (ModelPair p : pairs) {
            check(p.vanilla(), configs, false, p);
            check(p.block(), configs, true, p);
            models.add(p.vanilla());
            models.add(p.block());
        }
        models.addAll(extraModels);
        List<ModelPair> resolved = new ArrayList<>(pairs);
        if (resolved.isEmpty()) {
            for (ModelPair p : ModelPair.PAPER) {
                if (models.contains(p.vanilla()) && models.contains(p.block())) {
                    resolved.add(p);
                }
            }
        }
        if (resolved.isEmpty()) {
            List<String> vanilla = new ArrayList<>();
            List<String> block = new ArrayList<>();
            for (String m : models) {
                (configs.get(m) instanceof BlockConfig ? block : vanilla).add(m);
            }
            if (vanilla.size() == 1 && block.size() == 1) {
                resolved.add(new ModelPair(vanilla.get(0), block.get(0)));
            }
        }
        return new Resolved(List.copyOf(models), List.copyOf(resolved));
    }

    private static void check(String model, Map<String, ModelConfig> configs, boolean block, ModelPair pair) {
        ModelConfig c = configs.get(model);
        if (c != null && (c instanceof BlockConfig) != block) {
            throw new IllegalArgumentException("pair " + pair + ": '" + model + "' is a "
                    + (block ? "vanilla" : "block") + " model; write VANILLA:BLOCK");
        }
    }

    /** Models to run and pairs to report. */
    public record Resolved(List<String> models, List<ModelPair> pairs) {
    }
}
