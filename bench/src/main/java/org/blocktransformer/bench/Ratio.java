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
 */
public record Ratio(ModelPair pair, String scenario, int batchSize, int vanillaBatch, double vanillaTokensPerSecond,
                    int blockBatch, double blockTokensPerSecond) {

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
