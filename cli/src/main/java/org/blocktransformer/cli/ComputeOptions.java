package org.blocktransformer.cli;

import org.blocktransformer.model.backend.KvFormat;
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

    @Option(names = "--kv-cache", paramLabel = "FMT", defaultValue = "f32",
            description = "KV-cache storage: f32, or f16 (keys and values rounded to float16 as they are stored:"
                    + " half the memory per sequence on the GPU, so twice the sequences fit; logits move by about"
                    + " 0.003). Default: ${DEFAULT-VALUE}.")
    String kvCache;

    @Option(names = "--tensor-cores", paramLabel = "MODE", defaultValue = "auto",
            description = "auto: with --weights f16 on an NVIDIA GPU (TornadoVM PTX device), run prefill and large"
                    + " batches on the tensor cores (activations rounded to float16 there); off: float32"
                    + " arithmetic everywhere. Default: ${DEFAULT-VALUE}.")
    String tensorCores;

    /** The problem with these options, or null. */
    String problem() {
        if (threads < 0) {
            return "--threads must be >= 0 (0 = all processors), got " + threads;
        }
        if (!kvCache.equalsIgnoreCase("f32") && !kvCache.equalsIgnoreCase("f16")) {
            return "--kv-cache must be f32 or f16, got '" + kvCache + "'";
        }
        if (!tensorCores.equalsIgnoreCase("auto") && !tensorCores.equalsIgnoreCase("off")) {
            return "--tensor-cores must be auto or off, got '" + tensorCores + "'";
        }
        return null;
    }

    KvFormat kvCache() {
        return KvFormat.parse(kvCache);
    }

    boolean tensorCores() {
        return tensorCores.equalsIgnoreCase("auto");
    }
}
