package org.blocktransformer.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.blocktransformer.loader.Presets;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.Test;

/**
 * The bounded queue (429 with Retry-After), a queued request whose client hangs up (cancelled, nothing held), and
 * graceful shutdown (503 for newcomers, running requests finish within the grace period, the rest are ended).
 * vanilla-31m at batch 1 makes a long request take seconds, so the states below are reached for sure.
 */
class QueueAndShutdownTest {
    // Large enough that a 2,000-token request still runs while the test queues and refuses others, on a loaded
    // machine as on a quiet one (vanilla-31m finished its long request first there once).
    private static final ModelWeights WEIGHTS = Presets.randomInit("vanilla-70m", 0, WeightFormat.F32);

    private static ObjectNode longStream(int maxTokens) {
        ObjectNode b = Json.object();
        b.set("prompt", Json.ids(new int[] {1, 2, 3}));
        b.put("max_tokens", maxTokens);
        b.put("ignore_eos", true);
        b.put("stream", true);
        return b;
    }

    /** Opens a stream and reads its first chunk, so the request is surely running. */
    private static BufferedReader running(Http http, ObjectNode body) throws Exception {
        HttpResponse<InputStream> r = http.client.send(http.post("/v1/completions", Json.write(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        assertTrue(in.readLine().startsWith("data: {"));
        return in;
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(10);
        }
    }

    @Test
    void fullQueueAnswers429AndAHungUpQueuedRequestIsCancelled() throws Exception {
        try (InferenceEngine engine = Fixtures.engine(WEIGHTS, 1);
             BtServer server = Fixtures.serve(new ServedModel(engine, null, null), "v", 1)) {
            Http http = new Http(server);
            BufferedReader first = running(http, longStream(2000));
            // The second waits in the engine's queue behind the first (batch 1); its client will hang up.
            Socket queued = new Socket("127.0.0.1", server.port());
            byte[] json = Json.write(longStream(8).put("stream", false)).getBytes(StandardCharsets.UTF_8);
            OutputStream out = queued.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + json.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(json);
            out.flush();
            await("the second request is queued", () -> engine.waitingCount() == 1);

            Http.Reply full = http.post("/v1/completions", longStream(4).put("stream", false));
            assertEquals(429, full.status(), full.raw().body());
            assertEquals("1", full.raw().headers().firstValue("Retry-After").orElse(""));
            assertEquals("rate_limit_error", full.body().path("error").path("type").asText());
            assertEquals("queue_full", full.body().path("error").path("code").asText());
            assertTrue(full.errorMessage().contains("queue is full"));

            queued.close();
            await("the hung-up request left the queue", () -> engine.waitingCount() == 0);
            assertEquals(1, server.metrics.requests("completions", Metrics.Outcome.CANCELLED));
            assertEquals(1, server.metrics.requests("completions", Metrics.Outcome.REJECTED));
            assertEquals(1, engine.runningCount(), "the first still runs, undisturbed");

            first.close();
            await("everything is released", () -> engine.freeCachePages() == engine.totalCachePages()
                    && server.requestsInFlight() == 0 && engine.runningCount() == 0);
            assertEquals(2, server.metrics.requests("completions", Metrics.Outcome.CANCELLED));
        }
    }

    @Test
    void shutdownLetsRunningRequestsFinishWithinTheGraceAndEndsTheRest() throws Exception {
        try (InferenceEngine engine = Fixtures.engine(WEIGHTS, 4)) {
            BtServer server = Fixtures.serve(new ServedModel(engine, null, null), "v", 8);
            Http http = new Http(server);
            // A short request finishes within the grace period.
            ObjectNode shortOne = longStream(24).put("stream", false);
            CompletableFuture<HttpResponse<String>> finishing = http.client.sendAsync(
                    http.post("/v1/completions", Json.write(shortOne)).build(), HttpResponse.BodyHandlers.ofString());
            BufferedReader endless = running(http, longStream(2000));
            await("both run", () -> engine.runningCount() == 2);
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> server.shutdown(Duration.ofSeconds(2)));
            await("the server drains", () -> {
                try {
                    return http.get("/health").status() == 503;
                } catch (Exception e) {
                    return false;
                }
            });
            Http.Reply refused = http.post("/v1/completions", shortOne);
            assertEquals(503, refused.status());
            assertEquals("shutting_down", refused.body().path("error").path("code").asText());

            HttpResponse<String> done = finishing.get();
            assertEquals(200, done.statusCode(), done.body());
            assertEquals(24, Json.MAPPER.readTree(done.body()).path("usage").path("completion_tokens").asInt());

            // The long stream outlives the grace period: it ends with an error event and [DONE].
            List<String> rest = new ArrayList<>();
            String line;
            while ((line = endless.readLine()) != null) {
                if (!line.isEmpty()) {
                    rest.add(line);
                }
            }
            assertEquals("data: [DONE]", rest.getLast());
            JsonNode error = Json.MAPPER.readTree(rest.get(rest.size() - 2).substring(6));
            assertTrue(error.path("error").path("message").asText().contains("shutting down"), error.toString());
            stopping.get();
            await("pages are free", () -> engine.freeCachePages() == engine.totalCachePages());
            assertEquals(0, server.requestsInFlight());
        }
    }
}
