package org.blocktransformer.server;

import java.time.Duration;

/**
 * How the server listens and admits work.
 *
 * @param host          address to bind (127.0.0.1 = this machine only)
 * @param port          TCP port; 0 = any free port ({@link BtServer#port()} tells which)
 * @param modelName     the id clients name in {@code "model"} and see in {@code /v1/models}
 * @param maxQueued     sequences allowed to wait beyond the running batch; more get 429 with Retry-After
 * @param shutdownGrace how long a shutdown lets running requests finish before cancelling them
 * @param maxBodyBytes  largest request body accepted (413 above)
 */
public record ServerOptions(String host, int port, String modelName, int maxQueued, Duration shutdownGrace,
                            int maxBodyBytes) {

    public ServerOptions {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host is missing");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in 0..65535, got " + port);
        }
        if (modelName == null || modelName.isBlank()) {
            throw new IllegalArgumentException("model name is missing");
        }
        if (maxQueued < 0) {
            throw new IllegalArgumentException("max queued must be >= 0, got " + maxQueued);
        }
        if (shutdownGrace == null || shutdownGrace.isNegative()) {
            throw new IllegalArgumentException("shutdown grace must be >= 0");
        }
        if (maxBodyBytes < 1024) {
            throw new IllegalArgumentException("max body must be >= 1024 bytes, got " + maxBodyBytes);
        }
    }

    /** Loopback, port 8000, 256 queued, 30 s grace, 16 MiB bodies. */
    public static ServerOptions defaults(String modelName) {
        return new ServerOptions("127.0.0.1", 8000, modelName, 256, Duration.ofSeconds(30), 16 << 20);
    }

    public ServerOptions withHost(String h) {
        return new ServerOptions(h, port, modelName, maxQueued, shutdownGrace, maxBodyBytes);
    }

    public ServerOptions withPort(int p) {
        return new ServerOptions(host, p, modelName, maxQueued, shutdownGrace, maxBodyBytes);
    }

    public ServerOptions withMaxQueued(int n) {
        return new ServerOptions(host, port, modelName, n, shutdownGrace, maxBodyBytes);
    }

    public ServerOptions withShutdownGrace(Duration d) {
        return new ServerOptions(host, port, modelName, maxQueued, d, maxBodyBytes);
    }
}
