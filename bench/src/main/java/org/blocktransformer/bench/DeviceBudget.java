package org.blocktransformer.bench;

import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;

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
     * Bytes of KV cache that fit {@code deviceMemory} beside {@code weights} (0 if none). 16-bit weights count twice:
     * the tensor-core path holds them in two layouts (row-major for few-token calls, packed for the tensor cores).
     */
    public static long kvBytes(long deviceMemory, ModelWeights weights, WeightFormat format) {
        long onDevice = weightBytes(weights, format);
        return Math.max(0, deviceMemory - onDevice - RESERVE);
    }

    /** The weights' bytes on the device, as {@link #kvBytes} counts them. */
    public static long weightBytes(ModelWeights weights, WeightFormat format) {
        long loaded = WeightMemory.of(weights).loaded();
        return format == WeightFormat.F32 ? loaded : 2 * loaded;
    }
}
