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
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.weights.ModelWeights;
import org.junit.jupiter.api.Test;

/**
 * The bounded queue (429 with Retry-After), a queued request whose client hangs up (cancelled, nothing held), and
 * graceful shutdown (503 for newcomers, running requests finish within the grace period, the rest are ended). The
 * engine runs behind a {@link Gate}, so each state below is reached because the test holds the engine there, not
 * because a model is slow enough.
 */
class QueueAndShutdownTest {
    private static final ModelWeights WEIGHTS = Fixtures.tinyVanilla(3);

    private static ObjectNode longStream(int maxTokens) {
        ObjectNode b = Json.object();
        b.set("prompt", Json.ids(new int[] {1, 2, 3}));
        b.put("max_tokens", maxTokens);
        b.put("ignore_eos", true);
        b.put("stream", true);
        return b;
    }

    /** Opens a stream and reads its first chunk (the prompt's ids), sent once the request is submitted. */
    private static BufferedReader submitted(Http http, ObjectNode body) throws Exception {
        HttpResponse<InputStream> r = http.client.send(http.post("/v1/completions", Json.write(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        assertTrue(in.readLine().startsWith("data: {"));
        return in;
    }

    /** The events after the first chunk, up to the end of the stream. */
    private static List<String> rest(BufferedReader in) throws Exception {
        List<String> rest = new ArrayList<>();
        String line;
        while ((line = in.readLine()) != null) {
            if (!line.isEmpty()) {
                rest.add(line);
            }
        }
        return rest;
    }

    /** For states the test cannot be told of (another thread's progress): polls, failing after 60 s. */
    private static void await(String what, java.util.function.BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(10);
        }
    }

    @Test
    void fullQueueAnswers429AndAHungUpQueuedRequestIsCancelled() throws Exception {
        Gate gate = Gate.closed("queue");
        try (InferenceEngine engine = InferenceEngine.open(WEIGHTS, gate.engineOptions(1));
             BtServer server = Fixtures.serve(new ServedModel(engine, null, null), "v", 1)) {
            try {
                Http http = new Http(server);
                BufferedReader first = submitted(http, longStream(100));
                gate.awaitEngine(); // the first runs: the engine waits inside its first step
                // The second waits in the engine's queue behind the first (batch 1); its client will hang up.
                Socket queued = new Socket("127.0.0.1", server.port());
                byte[] json = Json.write(longStream(8).put("stream", false)).getBytes(StandardCharsets.UTF_8);
                OutputStream out = queued.getOutputStream();
                out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + json.length
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
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
                // Its request counts as cancelled before it leaves the server's books.
                await("the hung-up request has ended", () -> server.requestsInFlight() == 1);
                assertEquals(1, server.metrics.requests("completions", Metrics.Outcome.CANCELLED));
                assertEquals(1, server.metrics.requests("completions", Metrics.Outcome.REJECTED));
                // The engine drops a cancelled request at its next step.
                gate.stepUntil("the hung-up request left the queue", 10, () -> engine.waitingCount() == 0);
                assertEquals(1, engine.runningCount(), "the first still runs, undisturbed");

                first.close();
                gate.open();
                await("everything is released", () -> engine.freeCachePages() == engine.totalCachePages()
                        && server.requestsInFlight() == 0 && engine.runningCount() == 0);
                assertEquals(2, server.metrics.requests("completions", Metrics.Outcome.CANCELLED));
            } finally {
                gate.open();
            }
        }
    }

    @Test
    void shutdownLetsRunningRequestsFinishWithinTheGrace() throws Exception {
        Gate gate = Gate.closed("grace");
        try (InferenceEngine engine = InferenceEngine.open(WEIGHTS, gate.engineOptions(4))) {
            try {
                BtServer server = Fixtures.serve(new ServedModel(engine, null, null), "v", 8);
                Http http = new Http(server);
                ObjectNode whole = longStream(24).put("stream", false);
                CompletableFuture<HttpResponse<String>> finishing = http.client.sendAsync(
                        http.post("/v1/completions", Json.write(whole)).build(), HttpResponse.BodyHandlers.ofString());
                gate.awaitEngine();
                BufferedReader streaming = submitted(http, longStream(40));
                gate.stepUntil("both run", 5, () -> engine.runningCount() == 2);

                // A grace far longer than the two need: shutdown returns as soon as they have finished.
                CompletableFuture<Void> stopping = CompletableFuture.runAsync(
                        () -> server.shutdown(Duration.ofMinutes(5)));
                await("the server drains", () -> health(http) == 503);
                Http.Reply refused = http.post("/v1/completions", whole);
                assertEquals(503, refused.status());
                assertEquals("shutting_down", refused.body().path("error").path("code").asText());
                assertEquals(0, engine.waitingCount(), "the newcomer never reached the engine");

                gate.open();
                HttpResponse<String> done = finishing.get();
                assertEquals(200, done.statusCode(), done.body());
                assertEquals(24, Json.MAPPER.readTree(done.body()).path("usage").path("completion_tokens").asInt());
                List<String> rest = rest(streaming);
                assertEquals("data: [DONE]", rest.getLast());
                JsonNode last = Json.MAPPER.readTree(rest.get(rest.size() - 2).substring(6));
                assertEquals("length", last.path("choices").get(0).path("finish_reason").asText(), last.toString());
                stopping.get();
                assertEquals(0, server.requestsInFlight());
                assertEquals(engine.totalCachePages(), engine.freeCachePages());
            } finally {
                gate.open();
            }
        }
    }

    @Test
    void shutdownEndsWhatOutlivesTheGrace() throws Exception {
        Gate gate = Gate.closed("ended");
        try (InferenceEngine engine = InferenceEngine.open(WEIGHTS, gate.engineOptions(1))) {
            try {
                BtServer server = Fixtures.serve(new ServedModel(engine, null, null), "v", 8);
                Http http = new Http(server);
                BufferedReader running = submitted(http, longStream(40));
                gate.awaitEngine();
                CompletableFuture<HttpResponse<String>> queued = http.client.sendAsync(
                        http.post("/v1/completions", Json.write(longStream(8).put("stream", false))).build(),
                        HttpResponse.BodyHandlers.ofString());
                await("the second request is queued", () -> engine.waitingCount() == 1);

                // Neither can finish while the engine is held: both are ended when the grace is over.
                server.shutdown(Duration.ofMillis(100));
                HttpResponse<String> whole = queued.get();
                assertEquals(503, whole.statusCode(), whole.body());
                assertEquals("shutting_down", Json.MAPPER.readTree(whole.body()).path("error").path("code").asText());
                List<String> rest = rest(running);
                assertEquals("data: [DONE]", rest.getLast());
                JsonNode error = Json.MAPPER.readTree(rest.get(rest.size() - 2).substring(6));
                assertTrue(error.path("error").path("message").asText().contains("shutting down"), error.toString());
                assertEquals(0, server.requestsInFlight());

                gate.open();
                await("pages are free", () -> engine.freeCachePages() == engine.totalCachePages());
            } finally {
                gate.open();
            }
        }
    }

    private static int health(Http http) {
        try {
            return http.get("/health").status();
        } catch (Exception e) {
            return -1;
        }
    }
}
