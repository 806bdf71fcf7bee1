package org.blocktransformer.loader;

import java.nio.file.Files;
import java.nio.file.Path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.blocktransformer.loader.assemble.WeightAssembler;
import org.blocktransformer.loader.config.ConfigParser;
import org.blocktransformer.loader.safetensors.TensorSource;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.weights.MatrixLayout;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * Loads a checkpoint directory: {@code config.json} plus {@code model.safetensors} (or a sharded set with
 * {@code model.safetensors.index.json}), tensors under the reference state_dict names (golden README). Strict on
 * purpose: a missing tensor, a wrong shape or a tensor the model has no place for is an error naming it, so a
 * mismatched config and checkpoint never run silently.
 */
public final class Checkpoints {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpoints.class);

    /** The block decoder inherits an embed_in from GPTNeoXModel that its forward pass never reads. */
    private static final String UNUSED_BLOCK_DECODER_EMBED = WeightAssembler.BLOCK_DECODER_STACK + "embed_in.weight";

    private Checkpoints() {
    }

    /** The architecture only, from {@code dir/config.json}. */
    public static ModelConfig config(Path dir) {
        requireDirectory(dir);
        Path configFile = dir.resolve(ConfigParser.CONFIG_FILE);
        if (!Files.isRegularFile(configFile)) {
            throw CheckpointException.inFile(dir, "no " + ConfigParser.CONFIG_FILE + " in this checkpoint directory");
        }
        return ConfigParser.parse(configFile);
    }

    /**
     * The architecture, checked against the weights' safetensors headers exactly as {@link #load} checks them (every
     * tensor present, in its shape and a float dtype, none unexpected), without reading a weight.
     */
    public static ModelConfig check(Path dir) {
        ModelConfig config = config(dir);
        try (TensorSource tensors = TensorSource.openCheckpoint(dir)) {
            CheckpointTensors.check(config, tensors, weightsFile(dir));
        }
        return config;
    }

    /** Config and weights; matrices in {@code format} and row-major, everything else float32. */
    public static ModelWeights load(Path dir, WeightFormat format) {
        return load(dir, format, MatrixLayout.ROWS, LoadProgress.NONE);
    }

    /**
     * Config and weights; matrices in {@code format}, the Linear layers' in {@code layout} (read from the mapped
     * file straight into it), everything else float32. Each phase is logged at info level with its time.
     */
    public static ModelWeights load(Path dir, WeightFormat format, MatrixLayout layout, LoadProgress progress) {
        long start = System.nanoTime();
        ModelConfig config = config(dir);
        try (TensorSource tensors = TensorSource.openCheckpoint(dir)) {
            Path weightsFile = weightsFile(dir);
            // Before reading anything: a checkpoint that does not fit is refused at once, as bt info refuses it.
            CheckpointTensors.check(config, tensors, weightsFile);
            CheckpointParameters parameters = new CheckpointParameters(tensors, format, layout, progress);
            long mapped = System.nanoTime();
            LOG.info("mapped {}: {} tensors, {} MB, headers validated in {} ms", weightsFile, tensors.names().size(),
                    megabytes(parameters.totalBytes()), (mapped - start) / 1_000_000);
            ModelWeights weights = WeightAssembler.assemble(config, parameters);
            // Layers and large matrices are read by parallel streams: the common pool plus the calling thread.
            LOG.info("read {} MB in {} ms ({} threads): matrices {}, Linear layers in {}",
                    megabytes(parameters.readBytes()), (System.nanoTime() - mapped) / 1_000_000,
                    java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() + 1,
                    format.name().toLowerCase(java.util.Locale.ROOT), layout.name().toLowerCase(java.util.Locale.ROOT));
            return weights;
        }
    }

    /** The index of a sharded checkpoint when there is one, else {@code model.safetensors} (for messages). */
    private static Path weightsFile(Path dir) {
        return Files.isRegularFile(dir.resolve(TensorSource.INDEX_FILE)) ? dir.resolve(TensorSource.INDEX_FILE)
                : dir.resolve(TensorSource.SINGLE_FILE);
    }

    private static String megabytes(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f", bytes / 1048576.0);
    }

    static boolean ignorable(String name) {
        return name.equals(UNUSED_BLOCK_DECODER_EMBED) || NonParameterBuffers.matches(name);
    }

    private static void requireDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw CheckpointException.inFile(dir, Files.exists(dir) ? "not a directory"
                    : "checkpoint directory not found");
        }
    }
}
