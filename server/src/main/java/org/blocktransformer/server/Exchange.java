package org.blocktransformer.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;

/**
 * One HTTP exchange written in blocking style (handlers run on virtual threads): a JSON response, or a stream of
 * server-sent events. A failed write means the client has gone: {@link ClientGone}.
 */
final class Exchange {
    final Request request;
    final Response response;
    private boolean streaming;
    private DisconnectWatch watch;

    Exchange(Request request, Response response) {
        this.request = request;
        this.response = response;
    }

    void watch(DisconnectWatch w) {
        this.watch = w;
    }

    void json(int status, JsonNode body) {
        send(status, "application/json", Json.write(body) + "\n");
    }

    void text(int status, String contentType, String body) {
        send(status, contentType, body);
    }

    private void send(int status, String contentType, String body) {
        stopWatching();
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        write(true, bytes);
    }

    /** Commits the headers of an event stream. */
    void startEvents() {
        streaming = true;
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        write(false, new byte[0]);
    }

    boolean streaming() {
        return streaming;
    }

    void event(JsonNode data) {
        write(false, ("data: " + Json.write(data) + "\n\n").getBytes(StandardCharsets.UTF_8));
    }

    /** The stream's end: {@code data: [DONE]}. */
    void endEvents() {
        stopWatching();
        write(true, "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
    }

    private void stopWatching() {
        if (watch != null) {
            watch.stop();
            if (watch.mustClose()) {
                response.getHeaders().put(HttpHeader.CONNECTION, "close");
            }
        }
    }

    private void write(boolean last, byte[] bytes) {
        try (Blocker.Callback cb = Blocker.callback()) {
            response.write(last, ByteBuffer.wrap(bytes), cb);
            cb.block();
        } catch (IOException e) {
            throw new ClientGone(e);
        }
    }

    /** The client closed the connection before the response was written. */
    static final class ClientGone extends RuntimeException {
        ClientGone(Throwable cause) {
            super("the client closed the connection", cause);
        }
    }

    void header(String name, String value) {
        response.getHeaders().put(name, value);
    }
}
