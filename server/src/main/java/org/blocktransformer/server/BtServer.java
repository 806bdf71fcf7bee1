package org.blocktransformer.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible HTTP server on one {@link ServedModel}: {@code /v1/completions},
 * {@code /v1/chat/completions}, {@code /v1/models}, {@code /health} and {@code /metrics}. Built on Jetty 12's core
 * API (no servlets) with every request handled on its own virtual thread, so a request that waits for tokens just
 * blocks. All requests share the engine's continuous batching.
 *
 * <pre>{@code
 * try (var server = BtServer.start(model, ServerOptions.defaults("my-model").withPort(0))) {
 *     System.out.println("listening on " + server.baseUrl());
 *     server.awaitShutdown();
 * }
 * }</pre>
 */
public final class BtServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BtServer.class);
    /** Long enough for a non-streaming request that computes for minutes without writing a byte. */
    private static final Duration IDLE_TIMEOUT = Duration.ofMinutes(10);

    private final ServedModel model;
    private final ServerOptions options;
    private final Server jetty;
    private final ServerConnector connector;
    final Metrics metrics = new Metrics();
    private final Admission admission;
    private final Set<Generation> live = ConcurrentHashMap.newKeySet();
    /**
     * HTTP requests whose handler has not returned: a generation request leaves the admission's books before its
     * error response (a 503 at shutdown) is written, and the listener must not close under it.
     */
    private final AtomicInteger handling = new AtomicInteger();
    private final GenerationEndpoint generation;
    private final long created = System.currentTimeMillis() / 1000;
    private volatile boolean draining;
    private final Object stopLock = new Object();
    private volatile boolean stopped;

    private BtServer(ServedModel model, ServerOptions options) {
        this.model = model;
        this.options = options;
        this.admission = new Admission(model.engine().options().maxBatchSize() + options.maxQueued());
        this.generation = new GenerationEndpoint(model, options.modelName(), metrics, admission, live);
        QueuedThreadPool pool = new QueuedThreadPool();
        pool.setName("bt-http");
        pool.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        this.jetty = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        this.connector = new ServerConnector(jetty, new HttpConnectionFactory(http));
        connector.setHost(options.host());
        connector.setPort(options.port());
        connector.setIdleTimeout(IDLE_TIMEOUT.toMillis());
        jetty.addConnector(connector);
        jetty.setHandler(new Router());
    }

    /** Binds and starts serving; throws if the port cannot be bound. */
    public static BtServer start(ServedModel model, ServerOptions options) {
        BtServer s = new BtServer(model, options);
        try {
            s.jetty.start();
        } catch (Exception e) {
            try {
                s.jetty.stop();
            } catch (Exception ignored) {
                // already failing
            }
            throw new IllegalStateException("cannot listen on " + options.host() + ":" + options.port() + ": "
                    + e.getMessage(), e);
        }
        return s;
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /** {@code http://host:port}; clients use {@code baseUrl() + "/v1"} as OpenAI's base URL. */
    public String baseUrl() {
        String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + host + ":" + port();
    }

    public ServerOptions options() {
        return options;
    }

    /** HTTP generation requests admitted and not yet finished. */
    public int requestsInFlight() {
        return admission.requestsInFlight();
    }

    /**
     * Graceful shutdown: new requests get 503 at once, running ones may finish within the grace period, then the
     * rest are cancelled (a non-streaming one answered 503, a stream ended with an error event) and the listener
     * closes. The engine stays open: its owner closes it.
     */
    public void shutdown(Duration grace) {
        synchronized (stopLock) {
            if (stopped) {
                return;
            }
            draining = true;
            long deadline = System.nanoTime() + grace.toNanos();
            while (admission.requestsInFlight() > 0 && System.nanoTime() < deadline) {
                sleep(10);
            }
            for (Generation g : live) {
                g.abort("the server is shutting down");
            }
            long hardDeadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while ((admission.requestsInFlight() > 0 || handling.get() > 0) && System.nanoTime() < hardDeadline) {
                sleep(10);
            }
            try {
                jetty.stop();
            } catch (Exception e) {
                LOG.warn("stopping the HTTP server: {}", e.toString());
            }
            stopped = true;
            stopLock.notifyAll();
        }
    }

    /** Blocks until {@link #shutdown} has finished. */
    public void awaitShutdown() throws InterruptedException {
        synchronized (stopLock) {
            while (!stopped) {
                stopLock.wait();
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        shutdown(options.shutdownGrace());
    }

    /** Dispatches by path and method; every error leaves as OpenAI's error body. */
    private final class Router extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            handling.incrementAndGet();
            try {
                dispatch(request, response, callback);
            } finally {
                handling.decrementAndGet();
            }
            return true;
        }

        private void dispatch(Request request, Response response, Callback callback) {
            long arrival = System.nanoTime();
            Exchange x = new Exchange(request, response);
            String path = Request.getPathInContext(request);
            String endpoint = path.equals("/v1/completions") ? "completions"
                    : path.equals("/v1/chat/completions") ? "chat" : null;
            try {
                route(x, path, request.getMethod(), arrival);
                callback.succeeded();
            } catch (ApiError e) {
                if (endpoint != null) {
                    metrics.request(endpoint, e.outcome());
                }
                if (e.outcome() == Metrics.Outcome.ERROR) {
                    LOG.warn("{} {}: {}", request.getMethod(), path, e.getMessage(), e.getCause());
                }
                respond(x, e, callback);
            } catch (Exchange.ClientGone e) {
                callback.failed(e);
            } catch (RuntimeException | Error e) {
                LOG.error("{} {} failed", request.getMethod(), path, e);
                if (endpoint != null) {
                    metrics.request(endpoint, Metrics.Outcome.ERROR);
                }
                respond(x, ApiError.internal("internal error: " + e, e), callback);
            }
        }

        private void respond(Exchange x, ApiError e, Callback callback) {
            if (x.response.isCommitted()) {
                callback.failed(e);
                return;
            }
            if (e.status != 413) {
                discardBody(x.request);
            }
            try {
                x.json(e.status, Json.error(e));
                callback.succeeded();
            } catch (Exchange.ClientGone gone) {
                callback.failed(gone);
            }
        }

        private void route(Exchange x, String path, String method, long arrival) {
            switch (path) {
                case "/v1/completions", "/v1/chat/completions" -> {
                    allow(method, "POST", path);
                    if (draining) {
                        throw ApiError.unavailable("the server is shutting down");
                    }
                    JsonNode body = RequestParser.parse(body(x.request));
                    if (path.equals("/v1/completions")) {
                        generation.completions(x, body, arrival);
                    } else {
                        generation.chat(x, body, arrival);
                    }
                }
                case "/v1/models" -> {
                    allow(method, "GET", path);
                    x.json(200, models());
                }
                case "/health" -> {
                    allow(method, "GET", path);
                    ObjectNode o = Json.object();
                    o.put("status", draining ? "shutting down" : "ok");
                    x.json(draining ? 503 : 200, o);
                }
                case "/metrics" -> {
                    allow(method, "GET", path);
                    x.text(200, "text/plain; version=0.0.4; charset=utf-8",
                            metrics.render(model.engine(), admission.requestsInFlight()));
                }
                default -> throw ApiError.notFound("no route " + method + " " + path + "; this server has POST"
                        + " /v1/completions, POST /v1/chat/completions, GET /v1/models, GET /health and GET"
                        + " /metrics", "not_found");
            }
        }

        private static void allow(String method, String allowed, String path) {
            if (!method.equals(allowed)) {
                throw ApiError.methodNotAllowed(path + " takes " + allowed + ", not " + method);
            }
        }

        /**
         * Reads and drops what is left of a body within the size limit. An error answered before the body was read
         * (a wrong method, an unknown route) otherwise leaves it on the connection, and Jetty then closes the
         * connection after the reply, racing a client that sends its next request down it (seen once in a test as
         * "header parser received no bytes" on the request after a 405).
         */
        private void discardBody(Request request) {
            long length = request.getLength();
            if (length > 0 && length <= options.maxBodyBytes()) {
                try {
                    Content.Source.consumeAll(request);
                } catch (java.io.IOException gone) {
                    // The client left; writing the reply fails on its own.
                }
            }
        }

        private String body(Request request) {
            long length = request.getLength();
            if (length > options.maxBodyBytes()) {
                throw ApiError.tooLarge("the request body of " + length + " bytes exceeds the limit of "
                        + options.maxBodyBytes());
            }
            // The body is read as JSON whatever its Content-Type, as curl -d sends form encoding by default.
            try {
                String s = Content.Source.asString(request, java.nio.charset.StandardCharsets.UTF_8);
                if (s.length() > options.maxBodyBytes()) {
                    throw ApiError.tooLarge("the request body exceeds the limit of " + options.maxBodyBytes()
                            + " bytes");
                }
                return s;
            } catch (java.io.IOException e) {
                throw new Exchange.ClientGone(e);
            }
        }
    }

    private ObjectNode models() {
        ObjectNode o = Json.object();
        o.put("object", "list");
        ObjectNode m = o.putArray("data").addObject();
        m.put("id", options.modelName());
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "block-transformer-java");
        m.put("max_model_len", model.maxModelLength());
        m.put("vocab_size", model.config().vocabSize());
        m.put("kind", model.config().kind());
        m.put("chat_template", model.chatTemplate() != null);
        m.put("tokenizer", model.hasTokenizer());
        return o;
    }
}
