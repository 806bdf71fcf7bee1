package org.blocktransformer.model.cpu;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.LayerNormWeights;

/**
 * Runs kernels on small data in a background thread, so the JIT compiles them (C2, with the Vector API intrinsics)
 * while the model is still loading. Without it the first steps run the API's non-intrinsic fallback, one to two
 * orders of magnitude slower. Started explicitly ({@link CpuKernels#warmUp()}), once per kernels.
 */
final class KernelWarmup {
    private static final Set<CpuKernels> STARTED = ConcurrentHashMap.newKeySet();

    private KernelWarmup() {
    }

    static void start(CpuKernels kernels) {
        if (!STARTED.add(kernels)) {
            return;
        }
        Thread t = new Thread(() -> run(kernels), "bt-kernel-warmup");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    private static void run(CpuKernels kernels) {
        int k = 48;
        int n = 100;
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 7) * 0.01f;
        }
        PackedMatrix f32 = PackedMatrix.of(new F32Matrix(n, k, w));
        PackedMatrix bf16 = PackedMatrix.of(Bf16Matrix.of(new F32Matrix(n, k, w)));
        PackedMatrix f16 = PackedMatrix.of(F16Matrix.of(new F32Matrix(n, k, w)));
        float[] bias = PackedLinear.padBias(null, f32);
        float[] x = new float[5 * k];
        float[] y = new float[5 * n];
        float[] q = new float[64];
        float[] keys = new float[64 * 16];
        float[] scores = new float[16];
        float[] g = new float[40];
        LayerNormWeights norm = new LayerNormWeights(new float[k], new float[k]);
        for (int it = 0; it < 12_000; it++) {
            kernels.matmulPanels(x, 5, f32, bias, y, 0, f32.panels());
            if (it % 4 == 0) {
                kernels.matmulPanels(x, 1, bf16, bias, y, 0, bf16.panels());
                kernels.matmulPanels(x, 1, f16, bias, y, 0, f16.panels());
            }
            kernels.keyScores(q, 0, keys, 0, 64, 16, scores, 0);
            kernels.axpy(0.5f, q, 0, keys, 0, 64);
            kernels.gelu(g, 0, g.length);
            kernels.layerNorm(x, 0, 5, norm, 1e-5, x);
        }
    }
}
