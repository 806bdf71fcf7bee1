package org.blocktransformer.server.bench;

/**
 * A serving benchmark run, as vLLM's {@code benchmark_serving} shapes one: random token-id prompts of one length,
 * a fixed number of new tokens each (EOS ignored, greedy), streamed.
 *
 * @param baseUrl    the server, e.g. {@code http://127.0.0.1:8000}
 * @param clients    most requests in flight at once
 * @param requests   requests in the run (after {@code warmup} untimed ones)
 * @param rate       requests per second with Poisson arrivals; 0 = closed loop (each client sends its next request
 *                   when the previous one ends)
 * @param promptLen  prompt tokens per request
 * @param outputLen  new tokens per request
 * @param seed       seed of the prompts and arrival times
 * @param warmup     untimed requests sent first (JIT, caches)
 */
public record LoadConfig(String baseUrl, int clients, int requests, double rate, int promptLen, int outputLen,
                         long seed, int warmup) {

    public LoadConfig {
        if (clients < 1 || requests < 1 || promptLen < 1 || outputLen < 1 || warmup < 0 || !(rate >= 0)) {
            throw new IllegalArgumentException("clients, requests, prompt and output lengths must be >= 1, warmup"
                    + " and rate >= 0");
        }
    }
}
