package org.blocktransformer.spark;

import java.io.Serializable;
import java.util.Locale;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * The engine an executor opens: one per distinct spec per executor JVM, shared by that executor's tasks (it is the
 * key of {@link ExecutorEngines}). The model and tokenizer paths are read on the executors, so they must be
 * reachable there (a shared file system, or files shipped with the job).
 *
 * @param model            checkpoint directory or preset name
 * @param initSeed         seed of a preset's random weights (ignored for checkpoints), as {@code bt --init-seed}
 * @param weights          how the weights are held (f32, bf16, f16)
 * @param tokenizer        a {@code tokenizer.json} (or the directory holding one); null: the model directory's, if
 *                         it has one
 * @param batchSize        most sequences the executor's engine decodes together (all its tasks together)
 * @param cacheMemoryBytes KV-cache pool; 0 = half of the executor's heap left once the model is loaded
 * @param threads          CPU kernel threads; 0 = all processors of the executor's machine
 * @param backend          auto, cpu or tornado
 * @param device           the backend's device (index or name fragment); empty = its first
 * @param kvCache          KV-cache storage (f32 or f16)
 */
public record EngineSpec(String model, long initSeed, WeightFormat weights, String tokenizer, int batchSize,
                         long cacheMemoryBytes, int threads, String backend, String device, KvFormat kvCache)
        implements Serializable {

    public EngineSpec {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("no model given: set a checkpoint directory or a preset name");
        }
        if (weights == null) {
            throw new IllegalArgumentException("weights format is missing (f32, bf16 or f16)");
        }
        tokenizer = tokenizer == null || tokenizer.isBlank() ? null : tokenizer;
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        if (cacheMemoryBytes < 0) {
            throw new IllegalArgumentException("cache memory must be >= 0 bytes (0 = half the heap left once the model is loaded), got "
                    + cacheMemoryBytes);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0 = all processors), got " + threads);
        }
        backend = backend == null || backend.isBlank() ? "auto" : backend.toLowerCase(Locale.ROOT);
        if (!backend.equals("auto") && !backend.equals("cpu") && !backend.equals("tornado")) {
            throw new IllegalArgumentException("backend must be auto, cpu or tornado, got '" + backend + "'");
        }
        device = device == null ? "" : device;
        if (kvCache == null) {
            throw new IllegalArgumentException("KV-cache format is missing (f32 or f16)");
        }
    }

    /** A model with {@code bt generate}'s defaults: f32 weights, batch 32, CPU or GPU as available. */
    public static EngineSpec of(String model) {
        return new EngineSpec(model, 0, WeightFormat.F32, null, 32, 0, 0, "auto", "", KvFormat.F32);
    }

    public EngineSpec withInitSeed(long seed) {
        return new EngineSpec(model, seed, weights, tokenizer, batchSize, cacheMemoryBytes, threads, backend, device,
                kvCache);
    }

    public EngineSpec withWeights(WeightFormat f) {
        return new EngineSpec(model, initSeed, f, tokenizer, batchSize, cacheMemoryBytes, threads, backend, device,
                kvCache);
    }

    public EngineSpec withTokenizer(String path) {
        return new EngineSpec(model, initSeed, weights, path, batchSize, cacheMemoryBytes, threads, backend, device,
                kvCache);
    }

    public EngineSpec withBatchSize(int n) {
        return new EngineSpec(model, initSeed, weights, tokenizer, n, cacheMemoryBytes, threads, backend, device,
                kvCache);
    }

    public EngineSpec withCacheMemoryBytes(long bytes) {
        return new EngineSpec(model, initSeed, weights, tokenizer, batchSize, bytes, threads, backend, device,
                kvCache);
    }

    public EngineSpec withThreads(int n) {
        return new EngineSpec(model, initSeed, weights, tokenizer, batchSize, cacheMemoryBytes, n, backend, device,
                kvCache);
    }

    public EngineSpec withBackend(String name, String dev) {
        return new EngineSpec(model, initSeed, weights, tokenizer, batchSize, cacheMemoryBytes, threads, name, dev,
                kvCache);
    }

    public EngineSpec withKvCache(KvFormat f) {
        return new EngineSpec(model, initSeed, weights, tokenizer, batchSize, cacheMemoryBytes, threads, backend,
                device, f);
    }

    /** The engine's options: always continuous batching, so one task's finished rows make room for any task's. */
    EngineOptions engineOptions() {
        return EngineOptions.defaults()
                .withMaxBatchSize(batchSize)
                .withCacheMemoryBytes(cacheMemoryBytes)
                .withThreads(threads)
                .withBackend(backend, device)
                .withKvCache(kvCache);
    }

    /** Parses f32, bf16 or f16 (any case), as {@code bt --weights}. */
    public static WeightFormat parseWeights(String s) {
        for (WeightFormat f : WeightFormat.values()) {
            if (f.name().equalsIgnoreCase(s == null ? "" : s.trim())) {
                return f;
            }
        }
        throw new IllegalArgumentException("weights format '" + s + "' is not f32, bf16 or f16");
    }
}
