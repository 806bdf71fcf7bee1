package org.blocktransformer.cli;

import org.blocktransformer.model.engine.Batching;
import picocli.CommandLine.Option;

/** The engine's batching options for the commands that serve ({@code bt serve}, {@code bt bench-serve --model}). */
final class EngineOptionsMixin {

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "32",
            description = "Most sequences decoded together. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--batching", paramLabel = "MODE", defaultValue = "continuous",
            description = "continuous (requests join and leave the running batch) or static. Default:"
                    + " ${DEFAULT-VALUE}.")
    Batching batching;

    @Option(names = "--cache-memory", paramLabel = "SIZE", defaultValue = "0", converter = ByteSizeConverter.class,
            description = "Memory for the global KV cache, e.g. 512m or 4g (0 = half of the heap left once the model is"
                    + " loaded). Requests wait"
                    + " in the queue while their pages are not free. Default: ${DEFAULT-VALUE}.")
    long cacheMemory;
}
