package org.blocktransformer.model.backend;

import org.blocktransformer.model.weights.WeightFormat;

import java.util.OptionalLong;

import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.StackWeights;

/**
 * Where the model's arithmetic runs. The decode loop, the caches' bookkeeping and the scheduler are the same for
 * every backend; a backend only provides executors for stacks and Linear layers, holding the weights (and, for
 * stacks, the KV storage of each page pool) in its own memory. Close it to free that memory.
 */
public interface ComputeBackend extends AutoCloseable {

    /** "cpu", "tornado", ... */
    String name();

    /** The device in words, e.g. "CPU: 2 threads, Vector API" or "NVIDIA H100 (OpenCL)". */
    String device();

    StackExecutor stack(NeoXConfig config, StackWeights weights);

    LinearExecutor linear(Linear layer);

    /**
     * Bytes of memory this backend's KV storage takes for {@code cacheBytes} of cache as cache sizes count it
     * ({@link KvFormat#bytes()} per key or value): the same, unless the backend stores values wider than their
     * format (the CPU keeps float16 values in float arrays).
     */
    default long kvStorageBytes(long cacheBytes, KvFormat kv) {
        return cacheBytes;
    }

    /**
     * Prompt tokens one engine step feeds at most, over all new sequences (prefill chunking): large enough that the
     * backend's many-token calls are efficient, small enough that the rows decoding beside a long prompt still get a
     * token per step. 512 by default (the CPU's).
     */
    default int prefillTokens() {
        return 512;
    }

    /**
     * Memory that this backend's weights, KV storage and activations share when it is not the Java heap (a GPU's
     * memory, as far as its runtime lets this process use it): what the largest batch that fits is sized from.
     * Empty where they live in the heap (the CPU backend), whose limit is the heap's.
     */
    default OptionalLong deviceMemoryCapacity() {
        return OptionalLong.empty();
    }

    /**
     * Copies of a model's weights in {@code format} this backend keeps in {@link #deviceMemoryCapacity()}, for the
     * largest batch's budget: one for every backend here (the TornadoVM backend's tensor-core path keeps its float16
     * weights in the packed layout only, which its few-token kernel reads too).
     */
    default int weightCopies(WeightFormat format) {
        return 1;
    }

    @Override
    void close();
}
