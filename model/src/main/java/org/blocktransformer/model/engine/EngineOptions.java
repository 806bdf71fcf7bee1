package org.blocktransformer.model.engine;

import org.blocktransformer.model.backend.BackendOptions;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.cache.CacheGeometry;
import org.blocktransformer.model.config.ModelConfig;

/**
 * How an engine runs.
 *
 * @param maxBatchSize     most sequences decoded together (1 = one at a time)
 * @param batching         static (a batch starts and ends together) or continuous
 * @param cacheMemoryBytes bytes for the global KV-cache pool; 0 = half of the heap left once the weights and the
 *                         backend's copies of them are in place (at most what maxBatchSize sequences of the
 *                         model's longest length use)
 * @param threads          CPU threads for the kernels; 0 = all available processors
 * @param backend          "auto", "cpu" or "tornado"
 * @param device           the backend's device: an index or a name fragment; empty = its default
 * @param kvCache          how the KV caches are stored (float32, or float16: half the memory per sequence)
 * @param tensorCores      whether a GPU backend may run many-token products on its matrix units (see
 *                         {@link BackendOptions#tensorCores()})
 */
public record EngineOptions(int maxBatchSize, Batching batching, long cacheMemoryBytes, int threads, String backend,
                            String device, KvFormat kvCache, boolean tensorCores) {

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
        if (kvCache == null) {
            throw new IllegalArgumentException("KV-cache format is missing");
        }
    }

    public EngineOptions(int maxBatchSize, Batching batching, long cacheMemoryBytes, int threads, String backend,
                         String device) {
        this(maxBatchSize, batching, cacheMemoryBytes, threads, backend, device, KvFormat.F32, true);
    }

    public EngineOptions(int maxBatchSize, Batching batching, long cacheMemoryBytes, int threads) {
        this(maxBatchSize, batching, cacheMemoryBytes, threads, "auto", "");
    }

    public static EngineOptions defaults() {
        return new EngineOptions(32, Batching.CONTINUOUS, 0, 0);
    }

    public EngineOptions withMaxBatchSize(int n) {
        return new EngineOptions(n, batching, cacheMemoryBytes, threads, backend, device, kvCache, tensorCores);
    }

    public EngineOptions withBatching(Batching b) {
        return new EngineOptions(maxBatchSize, b, cacheMemoryBytes, threads, backend, device, kvCache, tensorCores);
    }

    public EngineOptions withCacheMemoryBytes(long bytes) {
        return new EngineOptions(maxBatchSize, batching, bytes, threads, backend, device, kvCache, tensorCores);
    }

    public EngineOptions withThreads(int n) {
        return new EngineOptions(maxBatchSize, batching, cacheMemoryBytes, n, backend, device, kvCache, tensorCores);
    }

    /** Selects the backend ("auto", "cpu", "tornado") and its device (index or name fragment, "" = default). */
    public EngineOptions withBackend(String name, String deviceSelector) {
        return new EngineOptions(maxBatchSize, batching, cacheMemoryBytes, threads, name, deviceSelector, kvCache,
                tensorCores);
    }

    /** Stores the KV caches as {@code f} (float16 halves the memory each sequence holds). */
    public EngineOptions withKvCache(KvFormat f) {
        return new EngineOptions(maxBatchSize, batching, cacheMemoryBytes, threads, backend, device, f, tensorCores);
    }

    /** Allows (the default) or forbids a GPU backend's matrix units for many-token products. */
    public EngineOptions withTensorCores(boolean on) {
        return new EngineOptions(maxBatchSize, batching, cacheMemoryBytes, threads, backend, device, kvCache, on);
    }

    /** The options the backend is opened with. */
    public BackendOptions backendOptions() {
        return new BackendOptions(device, threads, tensorCores);
    }

    /** The cache geometry of {@code config} under these options. */
    public CacheGeometry cacheGeometry(ModelConfig config) {
        return new CacheGeometry(config, kvCache);
    }
}
