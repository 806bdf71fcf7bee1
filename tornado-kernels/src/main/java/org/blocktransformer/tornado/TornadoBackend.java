package org.blocktransformer.tornado;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.LinearExecutor;
import org.blocktransformer.model.backend.StackExecutor;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.StackWeights;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/** The GPU backend: every stack and Linear layer as TornadoVM task graphs on one device. */
final class TornadoBackend implements ComputeBackend {
    /** Largest number of positions (rows of activations) one device call holds; bigger calls run in chunks. */
    static final int MAX_TOKENS = 1024;

    private final TornadoDevice device;
    private final String description;
    private final List<TornadoStackExecutor> stacks = new ArrayList<>();
    private final List<TornadoLinearExecutor> linears = new ArrayList<>();
    /**
     * Whether plans record their launches once and replay them (CUDA graphs, on PTX): a decode step then costs one
     * graph launch per task graph instead of a host round trip per kernel.
     */
    private final boolean recorded;
    /**
     * Whether many-token calls of float16 models run on the tensor cores (PTX devices; TornadoVM lowers its MMA
     * intrinsics there only).
     */
    private final boolean tensorCores;

    TornadoBackend(TornadoDevice device, String description, boolean recorded, boolean tensorCores) {
        this.device = device;
        this.description = description;
        this.recorded = recorded;
        this.tensorCores = tensorCores;
    }

    @Override
    public String name() {
        return "tornado";
    }

    @Override
    public String device() {
        return description;
    }

    @Override
    public synchronized StackExecutor stack(NeoXConfig config, StackWeights weights) {
        TornadoStackExecutor s = new TornadoStackExecutor(config, weights, device, MAX_TOKENS, recorded,
                tensorCores);
        stacks.add(s);
        return s;
    }

    @Override
    public synchronized LinearExecutor linear(Linear layer) {
        TornadoLinearExecutor l = new TornadoLinearExecutor(layer, device, MAX_TOKENS, recorded, tensorCores);
        linears.add(l);
        return l;
    }

    /**
     * Device memory TornadoVM counts for this backend's plans: its bookkeeping per graph, in which the graphs sharing
     * a buffer each count it, so a measure to compare over time rather than the device's own figure.
     */
    synchronized long deviceMemoryBytes() {
        long bytes = 0;
        for (TornadoStackExecutor s : stacks) {
            bytes += s.deviceMemoryBytes();
        }
        for (TornadoLinearExecutor l : linears) {
            bytes += l.deviceMemoryBytes();
        }
        return bytes;
    }

    /**
     * As many positions as one device call holds: a prefill unit is one call of {@link #MAX_TOKENS} rows, where the
     * tensor-core kernel runs at about twice its rate at 256 or 512 rows (docs/portability.md's kernel table), and a
     * 1,920-token prompt takes two calls instead of four.
     */
    @Override
    public int prefillTokens() {
        return MAX_TOKENS;
    }

    /**
     * The device's memory, no more than TornadoVM lets this process allocate on it ({@code tornado.device.memory})
     * and than the JVM's direct-memory limit: every TornadoVM array also has a host segment of its size, off the
     * heap and counted against that limit (on PTX pinned as well), device-only buffers such as the KV cache included.
     */
    @Override
    public OptionalLong deviceMemoryCapacity() {
        long device = Math.min(this.device.getMaxGlobalMemory(), this.device.getMemoryProvider().getHeapSize());
        return OptionalLong.of(Math.min(device, TornadoDevices.directMemoryLimit()));
    }

    @Override
    public synchronized void close() {
        // Only a backend that ran a model counts against PTX (see TornadoDevices): opening one just to check the
        // device, as `bt bench` does, and its self-test leave later plans correct.
        if (!stacks.isEmpty() || !linears.isEmpty()) {
            TornadoDevices.closed(device);
        }
        stacks.forEach(TornadoStackExecutor::close);
        linears.forEach(TornadoLinearExecutor::close);
        stacks.clear();
        linears.clear();
    }
}
