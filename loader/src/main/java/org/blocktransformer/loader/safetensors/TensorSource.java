package org.blocktransformer.loader.safetensors;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedSet;

import org.blocktransformer.loader.CheckpointException;
import org.blocktransformer.loader.NonParameterBuffers;
import org.blocktransformer.model.weights.PanelMatrix;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * Named tensors read from one safetensors file or a sharded set. Reads copy into Java arrays (widening 16-bit floats
 * to float32), so the arrays outlive {@link #close()}. Every failure is a {@link CheckpointException} naming the file
 * and the tensor. Float reads refuse a tensor holding a NaN or an infinity (weights must be finite), checking the
 * values as they are copied.
 */
public interface TensorSource extends AutoCloseable {

    /** Conventional name of a single-file checkpoint. */
    String SINGLE_FILE = "model.safetensors";
    /** Conventional name of the index of a sharded checkpoint. */
    String INDEX_FILE = "model.safetensors.index.json";
    /** PyTorch's pickle format, which this loader does not read (it can run code). */
    String PYTORCH_FILE = "pytorch_model.bin";
    String PYTORCH_INDEX_FILE = "pytorch_model.bin.index.json";

    /** All tensor names, sorted. */
    SortedSet<String> names();

    boolean has(String name);

    /** Header entry of a tensor; fails naming the tensor when absent. */
    TensorInfo info(String name);

    /** The file a tensor is stored in (for messages). */
    Path fileOf(String name);

    /** A float tensor of any shape, converted from F32, F16 or BF16. */
    float[] floats(String name);

    /** A float tensor that must have exactly {@code expectedShape}. */
    float[] floats(String name, int... expectedShape);

    /** A float tensor of exactly {@code expectedShape} as bfloat16 bits: copied as is from BF16, rounded otherwise. */
    short[] bf16(String name, int... expectedShape);

    /**
     * A float tensor of exactly {@code expectedShape} as float16 bits: copied as is from F16, rounded otherwise; a
     * value beyond float16's range is an error naming the tensor.
     */
    short[] f16(String name, int... expectedShape);

    /**
     * A float matrix of exactly {@code rows x cols}, read row by row from the mapped file straight into the CPU
     * kernels' panels in {@code format} (converted as {@link #floats}, {@link #bf16} and {@link #f16} convert), with
     * no row-major copy in between; panels are filled in parallel.
     */
    PanelMatrix panels(String name, int rows, int cols, WeightFormat format);

    /** An I64 tensor that must have exactly {@code expectedShape}. */
    long[] longs(String name, int... expectedShape);

    /** Releases the mapping; arrays already returned stay valid. */
    @Override
    void close();

    /**
     * Opens the weights of a checkpoint directory: {@code model.safetensors.index.json} with its shards when present,
     * else {@code model.safetensors}. Non-parameter buffers ({@link NonParameterBuffers}) are left out unread.
     */
    static TensorSource openCheckpoint(Path dir) {
        Path index = dir.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return ShardedSafetensors.open(index, NonParameterBuffers::matches);
        }
        Path single = dir.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) {
            return SafetensorsFile.open(single, NonParameterBuffers::matches);
        }
        if (Files.isRegularFile(dir.resolve(PYTORCH_FILE)) || Files.isRegularFile(dir.resolve(PYTORCH_INDEX_FILE))) {
            String d = dir.toString().replace("'", "\\'");
            throw CheckpointException.inFile(dir, "holds only PyTorch pickle weights (" + PYTORCH_FILE + "), which"
                    + " are not read here: convert them to " + SINGLE_FILE + " with transformers: python -c \"from"
                    + " transformers import AutoModelForCausalLM as M; M.from_pretrained('" + d + "')"
                    + ".save_pretrained('" + d + "', safe_serialization=True)\"");
        }
        throw CheckpointException.inFile(dir, "no weights: expected " + SINGLE_FILE + " or " + INDEX_FILE);
    }
}
