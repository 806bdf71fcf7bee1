package org.blocktransformer.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.LayerNormWeights;
import org.blocktransformer.model.weights.LayerWeights;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.StackWeights;

/** Shared helpers: the device under test, random weights of awkward sizes, tolerant comparison. */
final class TornadoTestSupport {
    /** fp32 on the device vs fp32 on the CPU: different summation orders, same precision. */
    static final double FP32_TOLERANCE = 1e-4;

    private TornadoTestSupport() {
    }

    static TornadoBackend backend() {
        String reason = TornadoDevices.unavailableReason();
        assumeTrue(reason == null, "SKIPPED: " + reason);
        return TornadoDevices.open(System.getProperty("bt.tornado.device", ""));
    }

    /**
     * The device under test with float32 arithmetic everywhere: no tensor cores on PTX, whose many-token calls round
     * the activations to float16 ({@code TensorCoreTest} covers that path at its own tolerance).
     */
    static TornadoBackend backendWithoutTensorCores() {
        String reason = TornadoDevices.unavailableReason();
        assumeTrue(reason == null, "SKIPPED: " + reason);
        return TornadoDevices.open(System.getProperty("bt.tornado.device", ""), false);
    }

    /** The device under test with recorded launches (CUDA graphs on PTX; elsewhere the grids sized once). */
    static TornadoBackend recordedBackend() {
        String reason = TornadoDevices.unavailableReason();
        assumeTrue(reason == null, "SKIPPED: " + reason);
        return TornadoDevices.open(TornadoDevices.choose(System.getProperty("bt.tornado.device", "")), true);
    }

    static float[] random(SplittableRandom r, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (std * r.nextGaussian());
        }
        return a;
    }

    static Linear linear(SplittableRandom r, int out, int in, boolean bias) {
        return new Linear(new F32Matrix(out, in, random(r, out * in, 1 / Math.sqrt(in))), bias ? random(r, out, 0.1) : null);
    }

    static StackWeights stack(SplittableRandom r, NeoXConfig c) {
        int d = c.hiddenSize();
        int i = c.intermediateSize();
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            layers.add(new LayerWeights(norm(r, d), norm(r, d), linear(r, 3 * d, d, true), linear(r, d, d, true),
                    linear(r, i, d, true), linear(r, d, i, true)));
        }
        return new StackWeights(layers, norm(r, d));
    }

    static LayerNormWeights norm(SplittableRandom r, int d) {
        float[] w = random(r, d, 0.1);
        for (int k = 0; k < d; k++) {
            w[k] += 1;
        }
        return new LayerNormWeights(w, random(r, d, 0.1));
    }

    static void assertClose(String what, float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, what + ": length");
        double worst = 0;
        int at = 0;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(expected[i] - actual[i]);
            if (!(diff <= worst)) {
                worst = diff;
                at = i;
            }
        }
        if (!(worst <= tolerance)) {
            fail(what + ": max abs diff " + worst + " at " + at + " (CPU " + expected[at] + ", device " + actual[at]
                    + "), tolerance " + tolerance);
        }
    }
}
