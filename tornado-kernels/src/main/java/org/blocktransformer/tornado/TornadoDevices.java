package org.blocktransformer.tornado;

import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.model.backend.DeviceException;
import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoVMBackendType;

/** TornadoVM's devices, addressed as "backend:device" indices (as {@code bt devices} lists them) or by name. */
final class TornadoDevices {
    /**
     * Whether a backend on a PTX device has been closed in this JVM. TornadoVM 5.2's PTX runtime computes wrong
     * results in execution plans made after others were closed (its host-to-device copies start failing with
     * CUDA_ERROR_INVALID_VALUE and the kernels read stale or zeroed buffers), so a second PTX backend is refused
     * rather than allowed to generate wrong tokens. OpenCL devices are unaffected.
     */
    private static volatile boolean ptxBackendClosed;

    private TornadoDevices() {
    }

    static boolean isPtx(TornadoDevice device) {
        return device.getTornadoVMBackend() == TornadoVMBackendType.PTX;
    }

    static void closed(TornadoDevice device) {
        if (isPtx(device)) {
            ptxBackendClosed = true;
        }
    }

    /** Null when TornadoVM can run in this JVM, else why not. */
    static String unavailableReason() {
        try {
            Class.forName("uk.ac.manchester.tornado.api.TornadoExecutionPlan");
        } catch (ClassNotFoundException | LinkageError e) {
            return "the JVM was not started with TornadoVM (install a TornadoVM 5.2 SDK, set TORNADOVM_HOME and run"
                    + " scripts/bt-tornado)";
        }
        if (ModuleLayer.boot().findModule("jdk.internal.vm.ci").isEmpty()) {
            return "TornadoVM needs JVMCI: start java with @$TORNADOVM_HOME/tornado-argfile (scripts/bt-tornado)";
        }
        return null;
    }

    static String version() {
        Package p = TornadoExecutionPlan.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "5.2" : v;
    }

    static List<String> list() {
        List<String> out = new ArrayList<>();
        var map = TornadoExecutionPlan.getTornadoDeviceMap();
        List<TornadoBackend> backends = map.getAllBackends();
        for (int b = 0; b < backends.size(); b++) {
            TornadoBackend backend = backends.get(b);
            for (int d = 0; d < backend.getNumDevices(); d++) {
                out.add(b + ":" + d + "  " + describe(backend.getDevice(d)));
            }
        }
        return out;
    }

    /**
     * The JVM's limit on direct (off-heap) memory, which native memory segments count against:
     * {@code -XX:MaxDirectMemorySize}, or by default the heap's maximum.
     */
    static long directMemoryLimit() {
        var vm = java.lang.management.ManagementFactory.getPlatformMXBean(
                com.sun.management.HotSpotDiagnosticMXBean.class);
        long set = Long.parseLong(vm.getVMOption("MaxDirectMemorySize").getValue());
        return set > 0 ? set : Runtime.getRuntime().maxMemory();
    }

    static String describe(TornadoDevice device) {
        long mem = device.getMaxGlobalMemory();
        return device.getPhysicalDevice().getDeviceName().trim() + " (" + device.getTornadoVMBackend() + ", "
                + (mem >> 20) + " MiB)";
    }

    static org.blocktransformer.tornado.TornadoBackend open(String selector) {
        return open(selector, true);
    }

    /**
     * A backend on the device {@code selector} names; on PTX its plans are recorded (CUDA graphs) and, with
     * {@code tensorCores}, the many-token calls of float16 models run on the tensor cores.
     */
    static org.blocktransformer.tornado.TornadoBackend open(String selector, boolean tensorCores) {
        TornadoDevice chosen = choose(selector);
        return open(chosen, isPtx(chosen), tensorCores);
    }

    /**
     * A backend on {@code chosen}; with {@code recorded} its plans record their launches once and replay them: as
     * CUDA graphs on PTX (TornadoVM's OpenCL backend cannot record), with launch grids sized once (see Grids#fix).
     */
    static org.blocktransformer.tornado.TornadoBackend open(TornadoDevice chosen, boolean recorded) {
        return open(chosen, recorded, true);
    }

    /** As {@link #open(TornadoDevice, boolean)}; tensor cores (PTX only) only with {@code tensorCores}. */
    static org.blocktransformer.tornado.TornadoBackend open(TornadoDevice chosen, boolean recorded,
                                                           boolean tensorCores) {
        if (isPtx(chosen) && ptxBackendClosed) {
            throw new DeviceException("device " + describe(chosen) + ": TornadoVM's PTX backend gives wrong"
                    + " results once a model has been closed in the same process, and one was; run one model per"
                    + " process on PTX, or pick an OpenCL device (--device, see `bt devices`)");
        }
        DeviceCheck.verify(chosen, describe(chosen));
        return new org.blocktransformer.tornado.TornadoBackend(chosen, describe(chosen), recorded,
                tensorCores && isPtx(chosen));
    }

    /**
     * Makes the tasks of graph {@code graph}, created next, be parsed for {@code device}. TornadoVM builds a task's
     * intermediate form ("sketch") when the task is added, for the graph's device, which is TornadoVM's default
     * unless the property {@code <graph>.device} names another; a kernel using PTX-only intrinsics (tensor cores)
     * fails to parse for an OpenCL default device, so graphs holding one name their device this way.
     */
    static void sketchOn(String graph, TornadoDevice device) {
        System.setProperty(graph + ".device", indexOf(device));
    }

    /** Undoes {@link #sketchOn} once the graph's tasks are added (graphs of other plans may share the name). */
    static void sketchDone(String graph) {
        System.clearProperty(graph + ".device");
    }

    /** "backend:device" of {@code device}. */
    static String indexOf(TornadoDevice device) {
        List<TornadoBackend> backends = TornadoExecutionPlan.getTornadoDeviceMap().getAllBackends();
        for (int b = 0; b < backends.size(); b++) {
            for (int d = 0; d < backends.get(b).getNumDevices(); d++) {
                if (backends.get(b).getDevice(d) == device
                        || describe(backends.get(b).getDevice(d)).equals(describe(device))
                        && backends.get(b).getDevice(d).getTornadoVMBackend() == device.getTornadoVMBackend()) {
                    return b + ":" + d;
                }
            }
        }
        throw new IllegalArgumentException("device " + describe(device) + " is not in TornadoVM's device map");
    }

    /** The device {@code selector} names: "backend:device", a name match, or (blank) TornadoVM's default. */
    static TornadoDevice choose(String selector) {
        var map = TornadoExecutionPlan.getTornadoDeviceMap();
        List<TornadoBackend> backends = map.getAllBackends();
        TornadoDevice chosen = null;
        if (selector == null || selector.isBlank()) {
            chosen = TornadoExecutionPlan.getDevice(0, 0);
        } else if (selector.matches("\\d+:\\d+")) {
            String[] parts = selector.split(":");
            int b = Integer.parseInt(parts[0]);
            int d = Integer.parseInt(parts[1]);
            if (b >= backends.size() || d >= backends.get(b).getNumDevices()) {
                throw new IllegalArgumentException("no TornadoVM device " + selector + "; devices: " + list());
            }
            chosen = backends.get(b).getDevice(d);
        } else {
            String wanted = selector.toLowerCase();
            outer:
            for (TornadoBackend backend : backends) {
                for (int d = 0; d < backend.getNumDevices(); d++) {
                    TornadoDevice dev = backend.getDevice(d);
                    if (describe(dev).toLowerCase().contains(wanted)) {
                        chosen = dev;
                        break outer;
                    }
                }
            }
            if (chosen == null) {
                throw new IllegalArgumentException("no TornadoVM device matches '" + selector + "'; devices: " + list());
            }
        }
        return chosen;
    }
}
