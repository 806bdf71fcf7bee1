package org.blocktransformer.cli;

import java.util.List;
import org.blocktransformer.model.backend.BackendInfo;
import org.blocktransformer.model.backend.BackendOptions;
import org.blocktransformer.model.backend.BackendProvider;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.DeviceException;

/**
 * A backend for the tests (registered in the test resources) that fails to open, with the kind of exception its
 * device names: {@code --backend failing-test --device internal|device|argument} shows how {@code bt} reports an
 * internal error, a device's failure and an invalid argument coming out of the engine. Its low priority keeps
 * {@code --backend auto} on the CPU.
 */
public final class FailingBackendProvider implements BackendProvider {

    static final String NAME = "failing-test";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return -100;
    }

    @Override
    public BackendInfo probe() {
        return new BackendInfo(NAME, true, "test double", List.of("internal", "device", "argument"));
    }

    @Override
    public ComputeBackend open(BackendOptions options) {
        throw switch (options.device()) {
            case "device" -> new DeviceException("out of device memory on GPU X in task graph 'g0': 4 GB requested"
                    + " (lower the batch size)");
            case "argument" -> new IllegalArgumentException("no device 'argument' here");
            default -> new IllegalStateException("kernel exploded");
        };
    }
}
