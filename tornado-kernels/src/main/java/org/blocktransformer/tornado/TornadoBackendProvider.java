package org.blocktransformer.tornado;

import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.model.backend.BackendInfo;
import org.blocktransformer.model.backend.BackendOptions;
import org.blocktransformer.model.backend.BackendProvider;
import org.blocktransformer.model.backend.ComputeBackend;

/**
 * Makes the TornadoVM backend available when the JVM was started with TornadoVM (its argfile: JVMCI and the
 * TornadoVM modules); otherwise reports why not. Touches TornadoVM classes only through {@link TornadoDevices} so
 * that a plain JVM can still load this class.
 */
public final class TornadoBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "tornado";
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public BackendInfo probe() {
        String missing = TornadoDevices.unavailableReason();
        if (missing != null) {
            return new BackendInfo("tornado", false, missing, List.of());
        }
        try {
            List<String> devices = new ArrayList<>(TornadoDevices.list());
            if (devices.isEmpty()) {
                return new BackendInfo("tornado", false, "TornadoVM found no device", List.of());
            }
            return new BackendInfo("tornado", true, "TornadoVM " + TornadoDevices.version(), devices);
        } catch (RuntimeException | LinkageError e) {
            return new BackendInfo("tornado", false, "TornadoVM failed to start: " + e, List.of());
        }
    }

    @Override
    public ComputeBackend open(BackendOptions options) {
        String missing = TornadoDevices.unavailableReason();
        if (missing != null) {
            throw new IllegalArgumentException("backend 'tornado' is unavailable: " + missing);
        }
        return TornadoDevices.open(options.device(), options.tensorCores());
    }
}
