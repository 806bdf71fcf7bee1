package org.blocktransformer.model.backend;

import java.util.List;

/**
 * What a backend reports about itself.
 *
 * @param name      e.g. "cpu" or "tornado"
 * @param available whether it can run here
 * @param reason    why it is unavailable, or a one-line description of how it runs
 * @param devices   the devices it can use, e.g. "CPU: 2 threads, Vector API 512-bit"
 */
public record BackendInfo(String name, boolean available, String reason, List<String> devices) {
    public BackendInfo {
        devices = List.copyOf(devices);
    }
}
