package org.blocktransformer.model.engine;

/**
 * How an engine runs.
 *
 * @param maxBatchSize     most sequences decoded together (1 = one at a time)
 * @param batching         static (a batch starts and ends together) or continuous
 * @param cacheMemoryBytes bytes for the global KV-cache pool; 0 = a default share of the heap
 * @param threads          CPU threads for the kernels; 0 = all available processors
 * @param backend          "auto", "cpu" or "tornado"
 * @param device           the backend's device: an index or a name fragment; empty = its default
 */
public record EngineOptions(int maxBatchSize, Batching batching, long cacheMemoryBytes, int threads, String backend,
                            String device) {

    public EngineOptions {
        if (maxBatchSize <= 0) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + maxBatchSize);
        }
        if (batching == null) {
            throw new IllegalArgumentException("batching is missing");
        }
        if (cacheMemoryBytes < 0) {
            throw new IllegalArgumentException("cache memory must be >= 0, got " + cacheMemoryBytes);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        }
        backend = backend == null || backend.isBlank() ? "auto" : backend;
        device = device == null ? "" : device;
    }

    public EngineOptions(int maxBatchSize, Batching batching, long cacheMemoryBytes, int threads) {
        this(maxBatchSize, batching, cacheMemoryBytes, threads, "auto", "");
    }

    public static EngineOptions defaults() {
        return new EngineOptions(32, Batching.CONTINUOUS, 0, 0);
    }

    public EngineOptions withMaxBatchSize(int n) {
        return new EngineOptions(n, batching, cacheMemoryBytes, threads, backend, device);
    }

    public EngineOptions withBatching(Batching b) {
        return new EngineOptions(maxBatchSize, b, cacheMemoryBytes, threads, backend, device);
    }

    public EngineOptions withCacheMemoryBytes(long bytes) {
        return new EngineOptions(maxBatchSize, batching, bytes, threads, backend, device);
    }

    public EngineOptions withThreads(int n) {
        return new EngineOptions(maxBatchSize, batching, cacheMemoryBytes, n, backend, device);
    }

    /** Selects the backend ("auto", "cpu", "tornado") and its device (index or name fragment, "" = default). */
    public EngineOptions withBackend(String name, String deviceSelector) {
        return new EngineOptions(maxBatchSize, batching, cacheMemoryBytes, threads, name, deviceSelector);
    }
}
