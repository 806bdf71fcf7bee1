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

    /**
     * 422: the model cannot continue this prompt, its logits having turned NaN or infinite (a numerical overflow in
     * the model for this input, not a fault of the server's). Not a 5xx: clients retry those, and the same request
     * fails the same way; the server goes on serving the others.
     */
    static ApiError nonFiniteLogits(String message, Throwable cause) {
        return new ApiError(422, "model_error", message, null, "non_finite_logits", cause);
    }

    /** 500: the engine failed; the message says how. */
    static ApiError internal(String message, Throwable cause) {
        return new ApiError(500, "internal_error", message, null, null, cause);
    }

    /** How the request counts in {@code bt_requests_total}: the model's failures and the server's are errors. */
    Metrics.Outcome outcome() {
        return switch (status) {
            case 429 -> Metrics.Outcome.REJECTED;
            case 503 -> Metrics.Outcome.UNAVAILABLE;
            default -> status >= 500 || code != null && code.equals("non_finite_logits") ? Metrics.Outcome.ERROR
                    : Metrics.Outcome.INVALID;
        };
    }
}
