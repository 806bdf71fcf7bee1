package org.blocktransformer.bench;

/**
 * What one (model, scenario, batch) run measured.
 *
 * @param tokensPerSecond generated tokens (all rows) per second of wall time, prefill included
 * @param ttftMillis      mean time to first token
 * @param p50TokenMillis  median per-token latency of a row after its first token
 * @param p99TokenMillis  99th percentile of the same
 */
public record ThroughputResult(
        String model,
        String backend,
        String device,
        String scenario,
        int promptLength,
        int newTokens,
        int batchSize,
        String batching,
        double tokensPerSecond,
        double ttftMillis,
        double p50TokenMillis,
        double p99TokenMillis,
        long cacheBytes,
        long weightBytes,
        double seconds) {
}
