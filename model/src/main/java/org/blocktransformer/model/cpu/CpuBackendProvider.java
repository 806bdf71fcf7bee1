package org.blocktransformer.model.cpu;

import java.util.List;
import org.blocktransformer.model.backend.BackendInfo;
import org.blocktransformer.model.backend.BackendOptions;
import org.blocktransformer.model.backend.BackendProvider;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.weights.MatrixLayout;

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
                List.of("0: CPU, " + threads + " hardware threads (" + System.getProperty("os.arch") + "); kernels"
                        + " by --device: auto (the default), scalar, 128, 256, 512 (vector bits)"));
    }

    /** {@code device}: "0", "cpu" or empty (the best kernels), or kernels by {@link CpuKernels#named} name. */
    @Override
    public ComputeBackend open(BackendOptions options) {
        String device = options.device();
        CpuKernels kernels;
        try {
            kernels = CpuKernels.named(device);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the cpu backend has one device (0, or its kernels by name: auto,"
                    + " scalar, 128, 256, 512), not '" + device + "'");
        }
        return new CpuBackend(kernels, options.threads());
    }

    /** The kernels read panels; weights loaded so are used in place (no packed copy). */
    @Override
    public MatrixLayout matrixLayout() {
        return MatrixLayout.PANELS;
    }

    @Override
    public int priority() {
        return 0;
    }
}
