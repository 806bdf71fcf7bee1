package org.blocktransformer.model.cpu;

import java.util.List;
import org.blocktransformer.model.backend.BackendInfo;
import org.blocktransformer.model.backend.BackendOptions;
import org.blocktransformer.model.backend.BackendProvider;
import org.blocktransformer.model.backend.ComputeBackend;

/** The CPU backend, always available. */
public final class CpuBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public BackendInfo probe() {
        int threads = Runtime.getRuntime().availableProcessors();
        return new BackendInfo("cpu", true, "pure Java, " + CpuKernels.best().describe(),
                List.of("0: CPU, " + threads + " hardware threads (" + System.getProperty("os.arch") + ")"));
    }

    @Override
    public ComputeBackend open(BackendOptions options) {
        String device = options.device();
        if (!device.isBlank() && !device.equals("0") && !device.equalsIgnoreCase("cpu")) {
            throw new IllegalArgumentException("the cpu backend has one device (0), not '" + device + "'");
        }
        return new CpuBackend(options.threads());
    }

    @Override
    public int priority() {
        return 0;
    }
}
