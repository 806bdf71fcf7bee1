package org.blocktransformer.server;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.blocktransformer.model.engine.InferenceEngine;

/**
 * The server's counters and histograms, written in Prometheus' text format (version 0.0.4) by hand: a dozen
 * series do not justify a client library, and the gauges are read from the engine at scrape time rather than
 * mirrored.
 */
final class Metrics {
    /** How a request ended: its label value in {@code bt_requests_total}. */
    enum Outcome {
        OK, INVALID, REJECTED, CANCELLED, ERROR, UNAVAILABLE;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    final LongAdder promptTokens = new LongAdder();
    final LongAdder generationTokens = new LongAdder();
    final Histogram timeToFirstToken = new Histogram("bt_time_to_first_token_seconds",
            "Time from a request's arrival to the first token of each of its choices.",
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60);
    final Histogram interTokenLatency = new Histogram("bt_inter_token_latency_seconds",
            "Time between consecutive tokens of a choice.",
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5);
    final Histogram requestDuration = new Histogram("bt_request_duration_seconds",
            "Time from a request's arrival to its last byte, for requests that completed.",
            0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300);

    void request(String endpoint, Outcome outcome) {
        requests.computeIfAbsent(endpoint + "\u0000" + outcome.label(), k -> new LongAdder()).increment();
    }

    long requests(String endpoint, Outcome outcome) {
        LongAdder a = requests.get(endpoint + "\u0000" + outcome.label());
        return a == null ? 0 : a.sum();
    }

    String render(InferenceEngine engine, int inFlight) {
        StringBuilder out = new StringBuilder(4096);
        out.append("# HELP bt_requests_total Requests to the generation endpoints, by endpoint and outcome.\n");
        out.append("# TYPE bt_requests_total counter\n");
        for (Map.Entry<String, LongAdder> e : new TreeMap<>(requests).entrySet()) {
            String[] k = e.getKey().split("\u0000");
            out.append("bt_requests_total{endpoint=\"").append(k[0]).append("\",outcome=\"").append(k[1])
                    .append("\"} ").append(e.getValue().sum()).append('\n');
        }
        counter(out, "bt_prompt_tokens_total", "Prompt tokens of admitted requests.", promptTokens.sum());
        counter(out, "bt_generation_tokens_total", "Tokens generated and delivered (or, for a cancelled request,"
                + " generated before it was cancelled).", generationTokens.sum());
        gauge(out, "bt_queue_depth", "Sequences submitted to the engine and waiting for a batch row or cache pages.",
                engine.waitingCount());
        gauge(out, "bt_running_batch_size", "Sequences in the engine's running batch.", engine.runningCount());
        gauge(out, "bt_requests_in_flight", "HTTP generation requests admitted and not yet finished.", inFlight);
        gauge(out, "bt_cache_pages_in_use", "KV-cache pages reserved by running sequences.",
                engine.totalCachePages() - engine.freeCachePages());
        gauge(out, "bt_cache_pages_total", "KV-cache pages in the pool.", engine.totalCachePages());
        timeToFirstToken.write(out);
        interTokenLatency.write(out);
        requestDuration.write(out);
        return out.toString();
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void gauge(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        out.append(name).append(' ').append(value).append('\n');
    }
}
