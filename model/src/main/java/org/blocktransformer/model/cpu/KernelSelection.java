package org.blocktransformer.model.cpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the kernels, on first use (not in a static initializer, which would run whenever the class is touched). The
 * Vector API lives in an incubator module that the JVM only resolves with {@code --add-modules
 * jdk.incubator.vector}; a plain {@code java -jar} must still run, on scalar loops.
 */
final class KernelSelection {
    private static final Logger LOG = LoggerFactory.getLogger(KernelSelection.class);
    private static volatile CpuKernels best;

    private KernelSelection() {
    }

    static CpuKernels best() {
        CpuKernels b = best;
        if (b == null) {
            synchronized (KernelSelection.class) {
                if (best == null) {
                    best = select();
                    LOG.info("CPU kernels: {}", best.describe());
                }
                b = best;
            }
        }
        return b;
    }

    static CpuKernels named(String name) {
        String n = name == null ? "auto" : name.trim().toLowerCase(java.util.Locale.ROOT);
        if (n.startsWith("vector")) {
            n = n.substring("vector".length());
        }
        return switch (n) {
            case "", "auto", "0", "cpu" -> best();
            case "scalar" -> ScalarKernels.INSTANCE;
            case "128", "256", "512" -> {
                if (!vectorModulePresent()) {
                    throw new IllegalArgumentException(name + ": the Vector API module is absent (start java with"
                            + " --add-modules jdk.incubator.vector)");
                }
                yield vector(Integer.parseInt(n));
            }
            default -> throw new IllegalArgumentException("unknown CPU kernels '" + name
                    + "'; known: auto, scalar, 128, 256, 512");
        };
    }

    private static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** Through reflection, so that this class links without the incubator module. */
    private static CpuKernels vector(int bits) {
        try {
            return (CpuKernels) Class.forName("org.blocktransformer.model.cpu.VectorKernels")
                    .getMethod("of", int.class).invoke(null, bits);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int preferredBits() {
        try {
            return (int) Class.forName("org.blocktransformer.model.cpu.VectorKernels")
                    .getMethod("preferredBits").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static CpuKernels select() {
        if (!vectorModulePresent()) {
            LOG.warn("the Vector API module is absent (start java with --add-modules jdk.incubator.vector); "
                    + "using scalar kernels, which are several times slower");
            return ScalarKernels.INSTANCE;
        }
        try {
            int bits = preferredBits();
            if (bits == 0) {
                LOG.warn("this CPU has no vectors of 128 bits or more for the Vector API; using scalar kernels");
                return ScalarKernels.INSTANCE;
            }
            return vector(bits);
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("the Vector API could not be used ({}); using scalar kernels", e.toString());
            return ScalarKernels.INSTANCE;
        }
    }
}
