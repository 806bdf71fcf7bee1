package org.blocktransformer.model.cpu;

/**
 * Picks the kernels once. The Vector API lives in an incubator module that the JVM only resolves with
 * {@code --add-modules jdk.incubator.vector}; a plain {@code java -jar} must still run, on scalar loops.
 */
final class KernelSelection {
    static final CpuKernels BEST = select();

    private KernelSelection() {
    }

    private static CpuKernels select() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                CpuKernels kernels = (CpuKernels) Class.forName("org.blocktransformer.model.cpu.VectorKernels")
                        .getField("INSTANCE").get(null);
                KernelWarmup.start(kernels);
                return kernels;
            } catch (ReflectiveOperationException | LinkageError e) {
                warn("the Vector API could not be used (" + e + "); using scalar kernels");
                return ScalarKernels.INSTANCE;
            }
        }
        warn("the Vector API module is absent (start java with --add-modules jdk.incubator.vector); "
                + "using scalar kernels, which are several times slower");
        return ScalarKernels.INSTANCE;
    }

    /** One line on standard error: the model module has no logging binding, and java.util.logging prints two. */
    private static void warn(String message) {
        System.err.println("warning: " + message);
    }
}
