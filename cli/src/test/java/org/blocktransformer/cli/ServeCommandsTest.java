package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bt serve} answers what {@code bt generate} prints; {@code bt bench-serve} writes its table, JSON and charts. */
class ServeCommandsTest {

    @Test
    void serveAnswersWhatGeneratePrints() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        AtomicReference<CliRun> result = new AtomicReference<>();
        Thread serving = Thread.ofPlatform().start(() -> result.set(CliRun.run(new LibraryServices(), "serve",
                "--model", "block-b4-5m", "--port", String.valueOf(port), "--batch-size", "4",
                "--cache-memory", "64m", "--threads", "2", "--shutdown-grace", "1")));
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + port;
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                    break;
                }
            } catch (java.io.IOException notYet) {
                assertTrue(System.nanoTime() < deadline && serving.isAlive(), "the server did not start: " + result);
                Thread.sleep(50);
            }
        }
        String body = "{\"prompt\": [1, 2, 3], \"max_tokens\": 8, \"temperature\": 0}";
        var r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode served = new ObjectMapper().readTree(r.body()).path("choices").get(0).path("token_ids");
        serving.interrupt();
        serving.join(30_000);
        CliRun run = result.get();
        assertEquals(0, run.code(), run.toString());
        assertTrue(run.err().contains("listening on http://127.0.0.1:" + port), run.err());
        assertTrue(run.err().contains("bt serve: stopped"), run.err());

        CliRun generated = CliRun.run(new LibraryServices(), "generate", "--model", "block-b4-5m", "--prompt-ids",
                "1,2,3", "--max-new-tokens", "8", "--greedy", "--format", "json");
        assertEquals(0, generated.code(), generated.toString());
        assertEquals(new ObjectMapper().readTree(generated.out()).path("ids"), served);
    }

    @Test
    void serveRefusesBadOptions() {
        CliRun run = CliRun.run(new LibraryServices(), "serve", "--model", "block-b4-5m", "--port", "70000");
        assertEquals(BtCommand.EXIT_USAGE, run.code(), run.toString());
        assertTrue(run.err().contains("--port must be in 0..65535"), run.err());
        CliRun noTemplate = CliRun.run(new LibraryServices(), "serve", "--model", "block-b4-5m", "--chat-template",
                "/nonexistent/template.jinja");
        assertEquals(BtCommand.EXIT_ERROR, noTemplate.code(), noTemplate.toString());
        assertTrue(noTemplate.err().contains("cannot read --chat-template"), noTemplate.err());
    }

    @Test
    void benchServeWritesTableJsonAndCharts(@TempDir Path out) throws Exception {
        CliRun run = CliRun.run(new LibraryServices(), "bench-serve", "--models", "block-b4-5m", "--clients", "1,2",
                "--requests", "4", "--prompt-len", "8", "--output-len", "5", "--threads", "2", "--out",
                out.toString());
        assertEquals(0, run.code(), run.toString());
        assertTrue(run.out().contains("out tok/s") && run.out().contains("block-b4-5m"), run.out());
        JsonNode doc = new ObjectMapper().readTree(out.resolve("serve-results.json").toFile());
        assertEquals(2, doc.path("runs").size());
        for (JsonNode r : doc.path("runs")) {
            assertEquals(4, r.path("requests").asInt());
            assertEquals(0, r.path("failed").asInt());
            assertEquals(20, r.path("output_tokens").asInt());
            assertTrue(r.path("ttft_p50_ms").asDouble() > 0);
        }
        assertTrue(Files.size(out.resolve("serve-throughput.png")) > 1000);
        assertTrue(Files.size(out.resolve("serve-latency.png")) > 1000);
    }
}
