package org.blocktransformer.model.backend;

/**
 * Makes a {@link ComputeBackend}; found with {@link java.util.ServiceLoader}, so the TornadoVM module plugs in
 * without the engine depending on it.
 */
public interface BackendProvider {

    /** The name users select it by, e.g. "tornado". */
    String name();

    /** Whether it can run in this JVM, why not, and its devices. Must not throw. */
    BackendInfo probe();

    /**
     * Opens the backend on a device: {@code options.device()} is a device index or name fragment as {@link #probe()}
     * lists them (empty = the default).
     */
    ComputeBackend open(BackendOptions options);

    /** {@link #open(BackendOptions)} with tensor cores where they apply. */
    default ComputeBackend open(String device, int threads) {
        return open(BackendOptions.defaults().withDevice(device).withThreads(threads));
    }

    /**
     * The layout of the Linear layers' matrices this backend reads without a copy; weights loaded in it are held
     * once (see {@link org.blocktransformer.model.weights.MatrixLayout}).
     */
    default org.blocktransformer.model.weights.MatrixLayout matrixLayout() {
        return org.blocktransformer.model.weights.MatrixLayout.ROWS;
    }

    /** Preference when the user asks for "auto": higher wins among available providers. */
    default int priority() {
        return 0;
    }
}
