package org.blocktransformer.cli;

import picocli.CommandLine.Option;

/** Where the arithmetic runs: {@code --backend}, {@code --device}, {@code --threads} (shared by the commands that compute). */
final class ComputeOptions {

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto",
            description = "Compute backend: auto (a TornadoVM GPU when this JVM runs with TornadoVM, else the CPU),"
                    + " cpu, or tornado ('bt devices' lists what is available). Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "",
            description = "The backend's device: an index or part of its name, as 'bt devices' lists them"
                    + " (default: the backend's first).")
    String device;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "CPU threads for the kernels (0 = all available processors). Default: ${DEFAULT-VALUE}.")
    int threads;

    /** The problem with these options, or null. */
    String problem() {
        return threads < 0 ? "--threads must be >= 0 (0 = all processors), got " + threads : null;
    }
}
