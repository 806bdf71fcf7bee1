package org.blocktransformer.model.backend;

/**
 * A compute device that cannot run what was asked of it: out of device memory, a kernel that failed to build, a
 * device that failed its self-test or is refused. The message names the device and what to do, and is written for
 * the user (the CLI shows it as it is).
 */
public class DeviceException extends RuntimeException {
    public DeviceException(String message, Throwable cause) {
        super(message, cause);
    }

    public DeviceException(String message) {
        super(message);
    }
}
