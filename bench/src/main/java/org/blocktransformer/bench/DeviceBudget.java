package org.blocktransformer.bench;

import org.blocktransformer.model.weights.ModelWeights;

/**
 * The KV-cache budget of the largest batch on a device whose memory holds the weights and the cache (a GPU): the
 * device's memory less the weights' copies there and a fixed reserve. The reference implementation grows the batch
 * until less than 2 GiB of the GPU is free; the reserve keeps those 2 GiB plus room for the activation buffers of
 * 1,024-position calls, the recorded graphs and the driver's own allocations.
 */
public final class DeviceBudget {
    /** Memory left out of the budget: the paper's 2 GiB free, and 2 GiB for activations and the runtime. */
    public static final long RESERVE = 4L << 30;

    private DeviceBudget() {
    }

    /**
     * Bytes of KV cache that fit {@code deviceMemory} beside {@code copies} copies of {@code weights} (the backend's
     * {@code ComputeBackend#weightCopies}) and the reserve (0 if none).
     */
    public static long kvBytes(long deviceMemory, ModelWeights weights, int copies) {
        return Math.max(0, deviceMemory - weightBytes(weights, copies) - RESERVE);
    }

    /** The weights' bytes on the device, as {@link #kvBytes} counts them. */
    public static long weightBytes(ModelWeights weights, int copies) {
        return copies * WeightMemory.of(weights).loaded();
    }
}
