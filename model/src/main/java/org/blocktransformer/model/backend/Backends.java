package org.blocktransformer.model.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/** The backends this JVM can see (through {@link ServiceLoader}) and the choice among them. */
public final class Backends {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Backends.class);

    private Backends() {
    }

    public static List<BackendProvider> providers() {
        List<BackendProvider> out = new ArrayList<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            out.add(p);
        }
        out.sort(Comparator.comparingInt(BackendProvider::priority).reversed());
        return out;
    }

    public static List<BackendInfo> list() {
        return providers().stream().map(Backends::safeProbe).collect(Collectors.toList());
    }

    private static BackendInfo safeProbe(BackendProvider p) {
        try {
            return p.probe();
        } catch (RuntimeException | LinkageError e) {
            return new BackendInfo(p.name(), false, "probe failed: " + e, List.of());
        }
    }

    /**
     * Checks that {@code name} ("auto" or a provider's name) can be opened here, without opening it.
     *
     * @throws IllegalArgumentException naming the backend and why it cannot be used
     */
    public static void require(String name) {
        String wanted = name == null || name.isBlank() ? "auto" : name.toLowerCase();
        if (wanted.equals("auto")) {
            return;
        }
        for (BackendProvider p : providers()) {
            if (p.name().equals(wanted)) {
                BackendInfo info = safeProbe(p);
                if (!info.available()) {
                    throw new IllegalArgumentException("backend '" + wanted + "' is unavailable: " + info.reason());
                }
                return;
            }
        }
        throw unknown(wanted, providers());
    }

    private static IllegalArgumentException unknown(String wanted, List<BackendProvider> providers) {
        String known = providers.stream().map(BackendProvider::name).collect(Collectors.joining(", "));
        String hint = wanted.equals("tornado")
                ? " (the TornadoVM backend is in the bt-tornado-kernels module: build with -Ptornado and start the JVM"
                + " with TornadoVM, e.g. scripts/bt-tornado)"
                : "";
        return new IllegalArgumentException("unknown backend '" + wanted + "'; known: " + known + hint);
    }

    /**
     * The matrix layout of the backend {@code name} ("auto": the available one of highest priority) reads in place,
     * for loading weights that it will hold once; rows when the backend is unknown or unavailable.
     */
    public static org.blocktransformer.model.weights.MatrixLayout matrixLayout(String name) {
        String wanted = name == null || name.isBlank() ? "auto" : name.toLowerCase();
        for (BackendProvider p : providers()) {
            if ((wanted.equals("auto") || p.name().equals(wanted)) && safeProbe(p).available()) {
                return p.matrixLayout();
            }
        }
        return org.blocktransformer.model.weights.MatrixLayout.ROWS;
    }

    /**
     * Opens a backend by name: "cpu", "tornado", or "auto" (the available backend of highest priority that opens,
     * so a TornadoVM GPU when the JVM runs with TornadoVM and the device passes its self-test, else the CPU).
     *
     * @throws IllegalArgumentException naming the backend and why it cannot be used
     */
    public static ComputeBackend open(String name, String device, int threads) {
        return open(name, BackendOptions.defaults().withDevice(device).withThreads(threads));
    }

    /** As {@link #open(String, String, int)}, with every option of the backend. */
    public static ComputeBackend open(String name, BackendOptions options) {
        String wanted = name == null || name.isBlank() ? "auto" : name.toLowerCase();
        List<BackendProvider> providers = providers();
        if (wanted.equals("auto")) {
            // A backend that is present but fails to open (a device that fails its self-test, say) gives way to
            // the next one, with a warning saying so.
            List<String> failures = new ArrayList<>();
            for (BackendProvider p : providers) {
                if (safeProbe(p).available()) {
                    try {
                        ComputeBackend opened = p.open(options);
                        if (!failures.isEmpty()) {
                            LOG.warn("{}; using backend '{}'", String.join("; ", failures), p.name());
                        }
                        return opened;
                    } catch (RuntimeException e) {
                        failures.add("backend '" + p.name() + "' failed: " + e.getMessage());
                    }
                }
            }
            throw new IllegalArgumentException("no backend is available"
                    + (failures.isEmpty() ? "" : ": " + String.join("; ", failures)));
        }
        for (BackendProvider p : providers) {
            if (p.name().equals(wanted)) {
                BackendInfo info = safeProbe(p);
                if (!info.available()) {
                    throw new IllegalArgumentException("backend '" + wanted + "' is unavailable: " + info.reason());
                }
                return p.open(options);
            }
        }
        throw unknown(wanted, providers);
    }
}
