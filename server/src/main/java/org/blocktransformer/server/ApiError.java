package org.blocktransformer.server;

/**
 * A request that ends in an HTTP error with OpenAI's body, {@code {"error": {"message", "type", "param", "code"}}}.
 * Thrown anywhere while a request is handled; the handler turns it into the response.
 */
final class ApiError extends RuntimeException {
    final int status;
    final String type;
    final String param;
    final String code;

    private ApiError(int status, String type, String message, String param, String code, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: the request is wrong; {@code param} names the field (or null). */
    static ApiError invalid(String message, String param) {
        return new ApiError(400, "invalid_request_error", message, param, null, null);
    }

    static ApiError notFound(String message, String code) {
        return new ApiError(404, "invalid_request_error", message, null, code, null);
    }

    static ApiError methodNotAllowed(String message) {
        return new ApiError(405, "invalid_request_error", message, null, null, null);
    }

    static ApiError tooLarge(String message) {
        return new ApiError(413, "invalid_request_error", message, null, null, null);
    }

    /** 429: the queue is full; the client should retry later. */
    static ApiError queueFull(String message) {
        return new ApiError(429, "rate_limit_error", message, null, "queue_full", null);
    }

    /** 503: the server is shutting down. */
    static ApiError unavailable(String message) {
        return new ApiError(503, "service_unavailable", message, null, "shutting_down", null);
    }

    /** 500: the engine failed; the message says how. */
    static ApiError internal(String message, Throwable cause) {
        return new ApiError(500, "internal_error", message, null, null, cause);
    }
}
