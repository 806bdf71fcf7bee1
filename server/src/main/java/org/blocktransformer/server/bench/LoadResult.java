package org.blocktransformer.server.bench;

/**
 * What a serving benchmark run measured. Latencies in milliseconds: TTFT from sending a request to its first token;
 * inter-token latency (ITL) between consecutive streamed tokens of a request; TPOT a request's time per output token
 * after the first, (end - first token) / (tokens - 1).
 */
public record LoadResult(LoadConfig config, int completed, int failed, long outputTokens, double seconds,
                         double requestsPerSecond, double outputTokensPerSecond,
                         double ttftP50, double ttftP99, double itlP50, double itlP99, double tpotMean,
                         double latencyP50, double latencyP99) {
}
