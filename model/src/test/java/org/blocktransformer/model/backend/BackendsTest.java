package org.blocktransformer.model.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BackendsTest {

    /** Registered for this module's tests only: present, preferred over the CPU, and failing to open. */
    public static final class BrokenProvider implements BackendProvider {
        @Override
        public String name() {
            return "broken-test";
        }

        @Override
        public int priority() {
            return 100;
        }

        @Override
        public BackendInfo probe() {
            return new BackendInfo(name(), true, "test double", List.of("0:0  a device that fails its self-test"));
        }

        @Override
        public ComputeBackend open(BackendOptions options) {
            throw new IllegalStateException("device 0:0 failed its self-test");
        }
    }

    @Test
    void autoPassesOverABackendThatFailsToOpen() {
        try (ComputeBackend b = Backends.open("auto", null, 1)) {
            assertEquals("cpu", b.name());
        }
    }

    @Test
    void namingTheFailingBackendReportsWhy() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.open("broken-test", null, 1));
        assertTrue(e.getMessage().contains("self-test"), e.getMessage());
    }
}
