package org.blocktransformer.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Block / vanilla throughput of a pair in one scenario: at one batch size, or each model at its best batch size (the
 * paper's comparison: each model at the batch that maximises its throughput within the memory budget).
 *
 * @param batchSize 0 for the best-of-each comparison
 * @param expected  what the machine's limits predict for the two runs (see {@link Roofline}), or null
 */
public record Ratio(ModelPair pair, String scenario, int batchSize, int vanillaBatch, double vanillaTokensPerSecond,
                    int blockBatch, double blockTokensPerSecond, Expectation expected) {

    public Ratio(ModelPair pair, String scenario, int batchSize, int vanillaBatch, double vanillaTokensPerSecond,
                 int blockBatch, double blockTokensPerSecond) {
        this(pair, scenario, batchSize, vanillaBatch, vanillaTokensPerSecond, blockBatch, blockTokensPerSecond, null);
    }

    /**
     * The roofline ceilings of the pair's two runs and what they say.
     *
     * @param limits the machine limits used, in words
     */
    public record Expectation(Roofline vanilla, Roofline block, String limits) {
        public double ratio() {
            return block.tokensPerSecond() / vanilla.tokensPerSecond();
        }

        /** One line on what would change the ratio, from which ceiling binds each model. */
        public String advice() {
            boolean vm = vanilla.bound().equals("memory");
            boolean bm = block.bound().equals("memory");
            if (vm && !bm) {
                return "vanilla is bound by memory reads and the block model by arithmetic: the block model pulls"
                        + " further ahead with longer contexts, larger batches and cheaper arithmetic (GPU tensor"
                        + " cores)";
            }
            if (!vm && !bm) {
                return "both are bound by arithmetic here, so the block model's larger decoders cost more than the"
                        + " KV reads they save; longer contexts and larger batches would make vanilla memory-bound,"
                        + " and tensor cores would cheapen the block model's arithmetic";
            }
            if (vm) {
                return "both are bound by memory reads: the block model reads fewer KV bytes per token, and larger"
                        + " batches spread its weight reads further";
            }
            return "vanilla is bound by arithmetic and the block model by memory reads (short contexts, small"
                    + " batches): the block model's advantage needs longer contexts and larger batches";
        }
    }

    public Ratio withExpected(Expectation e) {
        return new Ratio(pair, scenario, batchSize, vanillaBatch, vanillaTokensPerSecond, blockBatch,
                blockTokensPerSecond, e);
    }

    public double ratio() {
        return blockTokensPerSecond / vanillaTokensPerSecond;
    }

    public boolean best() {
        return batchSize == 0;
    }

    /** "batch 32" or "best batch". */
    public String batchLabel() {
        return best() ? "best batch" : "batch " + batchSize;
    }

    public Map<String, Object> fields() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vanilla", pair.vanilla());
        m.put("block", pair.block());
        m.put("scenario", scenario);
        m.put("batch_size", best() ? "best" : batchSize);
        m.put("vanilla_batch_size", vanillaBatch);
        m.put("vanilla_tokens_per_s", ThroughputResult.round(vanillaTokensPerSecond, 2));
        m.put("block_batch_size", blockBatch);
        m.put("block_tokens_per_s", ThroughputResult.round(blockTokensPerSecond, 2));
        m.put("ratio", ThroughputResult.round(ratio(), 3));
        if (expected != null) {
            m.put("expected_ratio", ThroughputResult.round(expected.ratio(), 3));
            m.put("vanilla_ceiling_tokens_per_s", ThroughputResult.round(expected.vanilla().tokensPerSecond(), 1));
            m.put("block_ceiling_tokens_per_s", ThroughputResult.round(expected.block().tokensPerSecond(), 1));
            m.put("vanilla_bound", expected.vanilla().bound());
            m.put("block_bound", expected.block().bound());
            m.put("limits", expected.limits());
            m.put("advice", expected.advice());
        }
        return m;
    }

    /** Every pair's ratio per scenario at each batch size both ran, then best-of-each (when there are several). */
    public static List<Ratio> compute(List<ThroughputResult> results, List<ModelPair> pairs) {
        List<Ratio> out = new ArrayList<>();
        Set<String> scenarios = new LinkedHashSet<>();
        results.forEach(r -> scenarios.add(r.scenario()));
        for (ModelPair pair : pairs) {
            for (String scenario : scenarios) {
                List<ThroughputResult> v = select(results, pair.vanilla(), scenario);
                List<ThroughputResult> b = select(results, pair.block(), scenario);
                if (v.isEmpty() || b.isEmpty()) {
                    continue;
                }
                for (ThroughputResult rv : v) {
                    for (ThroughputResult rb : b) {
                        if (rv.batchSize() == rb.batchSize()) {
                            out.add(new Ratio(pair, scenario, rv.batchSize(), rv.batchSize(), rv.tokensPerSecond(),
                                    rb.batchSize(), rb.tokensPerSecond()));
                        }
                    }
                }
                if (v.size() > 1 || b.size() > 1) {
                    ThroughputResult bestV = best(v);
                    ThroughputResult bestB = best(b);
                    out.add(new Ratio(pair, scenario, 0, bestV.batchSize(), bestV.tokensPerSecond(),
                            bestB.batchSize(), bestB.tokensPerSecond()));
                }
            }
        }
        return out;
    }

    /**
     * {@code ratios} with their expectations under {@code limits}: each ratio's two runs (by model, scenario and
     * batch) through {@link Roofline}; ratios whose runs or configurations are not found stay without.
     */
    public static List<Ratio> withExpectations(List<Ratio> ratios, List<ThroughputResult> results,
                                               java.util.Map<String, org.blocktransformer.model.config.ModelConfig>
                                                       configs, MachineLimits limits) {
        List<Ratio> out = new ArrayList<>();
        for (Ratio r : ratios) {
            ThroughputResult v = find(results, r.pair().vanilla(), r.scenario(), r.vanillaBatch());
            ThroughputResult b = find(results, r.pair().block(), r.scenario(), r.blockBatch());
            var cv = configs.get(r.pair().vanilla());
            var cb = configs.get(r.pair().block());
            if (v == null || b == null || cv == null || cb == null) {
                out.add(r);
                continue;
            }
            out.add(r.withExpected(new Expectation(ceiling(cv, v, limits), ceiling(cb, b, limits), limits.describe())));
        }
        return out;
    }

    private static Roofline ceiling(org.blocktransformer.model.config.ModelConfig config, ThroughputResult run,
                                    MachineLimits limits) {
        int weightBytes = run.weights().equals("f32") ? 4 : 2;
        return Roofline.of(config, run.promptLength(), run.newTokens(), run.batchSize(), weightBytes,
                org.blocktransformer.model.backend.KvFormat.parse(run.kvCache()), limits);
    }

    private static ThroughputResult find(List<ThroughputResult> results, String model, String scenario, int batch) {
        for (ThroughputResult r : results) {
            if (r.model().equals(model) && r.scenario().equals(scenario) && r.batchSize() == batch) {
                return r;
            }
        }
        return null;
    }

    private static List<ThroughputResult> select(List<ThroughputResult> results, String model, String scenario) {
        List<ThroughputResult> out = new ArrayList<>();
        for (ThroughputResult r : results) {
            if (r.model().equals(model) && r.scenario().equals(scenario)) {
                out.add(r);
            }
        }
        return out;
    }

    private static ThroughputResult best(List<ThroughputResult> rs) {
        ThroughputResult best = rs.get(0);
        for (ThroughputResult r : rs) {
            if (r.tokensPerSecond() > best.tokensPerSecond()) {
                best = r;
            }
        }
        return best;
    }
}
