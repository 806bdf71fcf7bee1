package org.blocktransformer.model.backend;

/**
 * How a backend is opened.
 *
 * @param device      the backend's device: an index or a name fragment as its provider lists them; "" = default
 * @param threads     host threads for the kernels, 0 = all processors
 * @param tensorCores whether a GPU backend may run many-token products on matrix units (NVIDIA tensor cores
 *                    with float16 weights), rounding the activations to float16 there; false keeps float32
 *                    arithmetic everywhere
 */
public record BackendOptions(String device, int threads, boolean tensorCores) {

    public BackendOptions {
        device = device == null ? "" : device;
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        }
    }

    /** The default device, all threads, tensor cores where they apply. */
    public static BackendOptions defaults() {
        return new BackendOptions("", 0, true);
    }

    public BackendOptions withDevice(String d) {
        return new BackendOptions(d, threads, tensorCores);
    }

    public BackendOptions withThreads(int n) {
        return new BackendOptions(device, n, tensorCores);
    }

    public BackendOptions withTensorCores(boolean on) {
        return new BackendOptions(device, threads, on);
    }
}
