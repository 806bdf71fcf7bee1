package org.blocktransformer.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.List;
import org.blocktransformer.loader.Checkpoints;
import org.blocktransformer.loader.safetensors.SafetensorsFile;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * Access to the reference outputs in {@code ../shared/golden}, located (or skipped, or failed) by
 * {@link org.blocktransformer.loader.Golden}.
 */
final class Golden {
    static final List<String> BLOCK_MODELS = List.of("bt-prefix-l4", "bt-prefix-l2-r1", "bt-summation-l4", "bt-projection-l4");
    static final List<String> ALL_MODELS = List.of("bt-prefix-l4", "bt-prefix-l2-r1", "bt-summation-l4", "bt-projection-l4",
            "vanilla-neox");
    static final int PROMPTS = 4;
    /** About 20x the float32 error the reference data's float64 cross-check observed. */
    static final double TOLERANCE = 1e-4;

    private Golden() {
    }

    static Path root() {
        return org.blocktransformer.loader.Golden.dir();
    }

    static Path model(String name) {
        return org.blocktransformer.loader.Golden.path(name);
    }

    static ModelWeights weights(String name) {
        return Checkpoints.load(model(name), WeightFormat.F32);
    }

    static SafetensorsFile data(String name) {
        return SafetensorsFile.open(model(name).resolve("golden.safetensors"));
    }

    static int[] ints(long[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Math.toIntExact(values[i]);
        }
        return out;
    }

    static int[] ints(SafetensorsFile f, String name) {
        return ints(f.longs(name, shape(f, name)));
    }

    static int[] shape(SafetensorsFile f, String name) {
        long[] s = f.info(name).shape();
        int[] out = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = Math.toIntExact(s[i]);
        }
        return out;
    }

    /** Asserts every element within {@link #TOLERANCE} and reports the worst one. */
    static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": element count");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(expected[i] - actual[i]);
            if (!(diff <= worst)) {
                worst = diff;
                at = i;
            }
        }
        if (!(worst <= TOLERANCE)) {
            fail(what + ": max abs diff " + worst + " at " + at + " (expected " + expected[at] + ", got " + actual[at]
                    + "), tolerance " + TOLERANCE);
        }
    }
}
