package org.blocktransformer.tornado;

import org.blocktransformer.model.backend.DeviceException;

/** Turns TornadoVM's failures into messages that name the device and the task graph, and say what to do. */
final class DeviceErrors {
    private DeviceErrors() {
    }

    static RuntimeException wrap(String device, String graph, RuntimeException e) {
        String type = e.getClass().getSimpleName();
        String message = e.getMessage() == null ? type : e.getMessage().replaceAll("\u001B\\[[0-9;]*m", "").trim();
        // TornadoVM puts whole stack traces into some messages; the cause keeps them, the user sees the reason.
        int trace = message.indexOf("Stacktrace: [");
        if (trace > 0) {
            message = message.substring(0, trace).trim();
        }
        message = message.replaceAll("\\s*\n\\s*", " ");
        if (type.contains("OutOfMemory")) {
            return new DeviceException("out of device memory on " + device + " in task graph '" + graph + "': "
                    + message + " (TornadoVM's limit is -Dtornado.device.memory, BT_DEVICE_MEMORY for scripts/bt-tornado;"
                    + " or lower the batch size or cache memory)", e);
        }
        if (type.contains("Bailout") || type.contains("Compil") || type.contains("Build")) {
            return new DeviceException("kernel build failed on " + device + " in task graph '" + graph + "': "
                    + message, e);
        }
        return new DeviceException("TornadoVM failed on " + device + " in task graph '" + graph + "': " + type
                + ": " + message, e);
    }
}
