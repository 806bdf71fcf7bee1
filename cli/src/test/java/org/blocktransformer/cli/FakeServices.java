package org.blocktransformer.cli;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.blocktransformer.model.backend.BackendInfo;

/**
 * Backends this machine may lack, for {@code bt devices}: a CPU with two threads and a TornadoVM backend that is
 * unavailable; a device whose check fails says so through {@link #failingDevices}.
 */
final class FakeServices implements CliServices {

    /** Devices whose check fails ("backend/device"), with the message. */
    final Map<String, String> failingDevices = new HashMap<>();

    @Override
    public List<BackendInfo> backends() {
        return List.of(new BackendInfo("cpu", true, "pure Java", List.of("CPU: 2 threads")),
                new BackendInfo("tornado", false, "the JVM was not started with TornadoVM", List.of()));
    }

    @Override
    public String checkDevice(String name, String device) {
        return failingDevices.get(name + "/" + device);
    }
}
