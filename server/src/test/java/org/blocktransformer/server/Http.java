package org.blocktransformer.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The JDK's HttpClient against a test server: JSON in, JSON (or server-sent events) out. */
final class Http {
    final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final String base;

    Http(BtServer server) {
        this.base = server.baseUrl();
    }

    record Reply(int status, JsonNode body, HttpResponse<String> raw) {
        String errorMessage() {
            return body.path("error").path("message").asText();
        }
    }

    HttpRequest.Builder post(String path, String json) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
    }

    Reply send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
        JsonNode body = r.body().isEmpty() || !r.headers().firstValue("Content-Type").orElse("").contains("json")
                ? Json.object() : Json.MAPPER.readTree(r.body());
        return new Reply(r.statusCode(), body, r);
    }

    Reply post(String path, JsonNode body) throws IOException, InterruptedException {
        return send(post(path, Json.write(body)).build());
    }

    Reply postText(String path, String body) throws IOException, InterruptedException {
        return send(post(path, body).build());
    }

    Reply get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET().build());
    }

    /** A 200 with a JSON body. */
    JsonNode ok(String path, JsonNode body) throws IOException, InterruptedException {
        Reply r = post(path, body);
        assertEquals(200, r.status(), () -> "status of " + body + ": " + r.raw().body());
        return r.body();
    }

    /** A streamed request's events (the {@code data:} payloads before [DONE]), checking the stream's framing. */
    List<JsonNode> stream(String path, JsonNode body) throws IOException, InterruptedException {
        HttpResponse<InputStream> r = client.send(post(path, Json.write(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<JsonNode> events = new ArrayList<>();
        boolean done = false;
        try (var in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isEmpty()) {
                    continue;
                }
                assertTrue(line.startsWith("data: "), "an SSE data line: " + line);
                assertTrue(!done, "nothing after [DONE]");
                String data = line.substring(6);
                if (data.equals("[DONE]")) {
                    done = true;
                } else {
                    events.add(Json.MAPPER.readTree(data));
                }
            }
        }
        assertTrue(done, "the stream ends with data: [DONE]");
        return events;
    }

    /** The value of a metric line {@code name value} (labels included in {@code name}), or -1 when absent. */
    static double metric(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        return -1;
    }
}
