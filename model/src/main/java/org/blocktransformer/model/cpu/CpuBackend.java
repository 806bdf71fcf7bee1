package org.blocktransformer.model.cpu;

import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.backend.LinearExecutor;
import org.blocktransformer.model.backend.Logits;
import org.blocktransformer.model.backend.StackExecutor;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.StackWeights;

/** The pure-Java backend: Vector API kernels (scalar without the module) on a pool of threads. */
public final class CpuBackend implements ComputeBackend {
    private final CpuOps ops;
    private final boolean ownsThreads;

    /** A backend with its own {@code threads} worker threads (0 = one per processor), on the best kernels. */
    public CpuBackend(int threads) {
        this(CpuKernels.best(), threads);
    }

    /** A backend on {@code kernels} with its own {@code threads} worker threads (0 = one per processor). */
    public CpuBackend(CpuKernels kernels, int threads) {
        kernels.warmUp();
        this.ops = new CpuOps(kernels, new Parallel(threads));
        this.ownsThreads = true;
    }

    public CpuBackend(CpuOps ops) {
        this.ops = ops;
        this.ownsThreads = false;
    }

    public CpuOps ops() {
        return ops;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String device() {
        return "CPU (" + ops.kernels().describe() + ", " + ops.parallel().threads() + " threads)";
    }

    @Override
    public StackExecutor stack(NeoXConfig config, StackWeights weights) {
        return new CpuStack(config, weights, ops);
    }

    @Override
    public LinearExecutor linear(Linear layer) {
        PackedLinear packed = PackedLinear.of(layer);
        return new LinearExecutor() {
            @Override
            public int inFeatures() {
                return layer.inFeatures();
            }

            @Override
            public int outFeatures() {
                return layer.outFeatures();
            }

            @Override
            public float[] apply(float[] x, int rows) {
                float[] y = new float[rows * layer.outFeatures()];
                ops.linear(x, rows, packed, y);
                return y;
            }

            /** Rows over the threads: a batch's output head (50k logits a row) is otherwise scanned on one. */
            @Override
            public int[] argmax(float[] x, int rows) {
                float[] y = apply(x, rows);
                int n = layer.outFeatures();
                int[] ids = new int[rows];
                ops.parallel().forRange(rows, 1, (long) rows * n, (r0, r1) -> {
                    for (int r = r0; r < r1; r++) {
                        ids[r] = Logits.argmax(y, r * n, n);
                    }
                });
                return ids;
            }
        };
    }

    /** Keys and values are float arrays whatever their format (float16 values are rounded, not packed). */
    @Override
    public long kvStorageBytes(long cacheBytes, KvFormat kv) {
        return cacheBytes / kv.bytes() * Float.BYTES;
    }

    @Override
    public void close() {
        if (ownsThreads) {
            ops.parallel().close();
        }
    }
}
