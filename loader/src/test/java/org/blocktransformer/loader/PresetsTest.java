package org.blocktransformer.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import org.blocktransformer.model.config.ParameterCount;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.HalfMatrix;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.VanillaWeights;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PresetsTest {

    @Test
    void presetNames() {
        assertEquals(List.of("vanilla-31m", "vanilla-70m", "vanilla-160m", "vanilla-410m", "block-b4-5m",
                "block-b4-19m", "block-b4-85m", "block-b4-300m", "block-b4-800m", "block-b4-1.2b"), Presets.names());
        assertThrows(IllegalArgumentException.class, () -> Presets.config("vanilla-7b"));
    }

    @Test
    void pythiaShapes() {
        VanillaConfig p70 = (VanillaConfig) Presets.config("vanilla-70m");
        assertEquals(512, p70.stack().hiddenSize());
        assertEquals(6, p70.stack().numLayers());
        assertEquals(8, p70.stack().numHeads());
        assertEquals(2048, p70.stack().intermediateSize());
        assertEquals(16, p70.stack().rotaryDims());
        VanillaConfig p410 = (VanillaConfig) Presets.config("vanilla-410m");
        assertEquals(24, p410.stack().numLayers());
        assertEquals(16, p410.stack().numHeads());
        assertEquals(50304, p410.vocabSize());
    }

    @Test
    void blockShapesFollowTheReferenceRules() {
        for (String name : Presets.names()) {
            if (Presets.config(name) instanceof BlockConfig b) {
                int d = b.blockDecoder().hiddenSize();
                assertEquals(4, b.blockLength(), name);
                assertEquals(2, b.expansionRatio(), name);
                assertEquals(DecodingStrategy.PREFIX, b.decoding(), name);
                assertEquals(d / 4, b.embedder().embedDim(), name);
                assertEquals(d <= 256 ? 32 : d <= 1536 ? 64 : 128, b.blockDecoder().headSize(), name);
                assertEquals(4 * d, b.tokenDecoder().intermediateSize(), name);
                assertEquals(b.blockDecoder(), b.tokenDecoder(), name);
            }
        }
    }

    /** Vanilla names count all parameters (as Pythia); block names count non-embedding ones (as the paper). */
    @Test
    void parameterCountsMatchTheNames() {
        System.out.printf(Locale.ROOT, "%-14s %14s %14s %14s%n", "preset", "non-embedding", "embedding", "total");
        for (String name : Presets.names()) {
            ParameterCount count = ParameterCount.of(Presets.config(name));
            System.out.printf(Locale.ROOT, "%-14s %,14d %,14d %,14d%n", name, count.nonEmbedding(), count.embedding(),
                    count.total());
            double named = parseSize(name.substring(name.lastIndexOf('-') + 1));
            double counted = name.startsWith("vanilla") ? count.total() : count.nonEmbedding();
            assertEquals(1.0, counted / named, 0.06, name + ": " + counted + " parameters");
        }
        ParameterCount p70 = ParameterCount.of(Presets.config("vanilla-70m"));
        assertEquals(18_915_328, p70.nonEmbedding(), "Pythia-70M non-embedding parameters");
        assertEquals(70_426_624, p70.total(), "Pythia-70M parameters");
    }

    @Test
    void sameSeedSameWeightsOtherSeedOtherWeights() {
        List<float[]> a = WeightLists.of(Presets.randomInit("block-b4-5m", 7, WeightFormat.F32));
        List<float[]> b = WeightLists.of(Presets.randomInit("block-b4-5m", 7, WeightFormat.F32));
        List<float[]> c = WeightLists.of(Presets.randomInit("block-b4-5m", 8, WeightFormat.F32));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i), "parameter " + i);
            assertFalse(java.util.Arrays.equals(a.get(i), c.get(i)), "parameter " + i + " same for another seed");
        }
        assertEquals(ParameterCount.of(Presets.config("block-b4-5m")).total(),
                a.stream().mapToLong(x -> x.length).sum());
    }

    @ParameterizedTest
    @EnumSource(value = WeightFormat.class, names = {"BF16", "F16"})
    void halfFormatsAreTheF32InitRounded(WeightFormat format) {
        ModelWeights f32 = Presets.randomInit("vanilla-31m", 3, WeightFormat.F32);
        ModelWeights half = Presets.randomInit("vanilla-31m", 3, format);
        HalfMatrix out = assertInstanceOf(HalfMatrix.class, ((VanillaWeights) half).embedOut().weight());
        assertEquals(format, out.format());
        List<float[]> exact = WeightLists.of(f32), rounded = WeightLists.of(half);
        for (int i = 0; i < exact.size(); i++) {
            float[] e = exact.get(i).clone();
            boolean vector = e.length == 256 || e.length == 768 || e.length == 1024;
            if (!vector) {
                for (int j = 0; j < e.length; j++) {
                    e[j] = format == WeightFormat.BF16 ? Bf16Matrix.toFloat(Bf16Matrix.fromFloat(e[j]))
                            : Float.float16ToFloat(Float.floatToFloat16(e[j]));
                }
            }
            assertArrayEquals(e, rounded.get(i), "parameter " + i);
        }
        assertEquals(ParameterCount.of(f32.config()).total(), WeightLists.count(f32));
    }

    /** The scheme's scales: LayerNorm weights about 1, embed_out std 2/sqrt(D), other Linear std 1/sqrt(fan_in). */
    /** Panels place the same numbers elsewhere: every value, progress reported up to the total. */
    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void panelLayoutHoldsTheSameWeights(WeightFormat format) {
        var config = Presets.config("block-b4-5m");
        List<float[]> rows = WeightLists.of(Presets.randomInit("block-b4-5m", config, 3, format,
                org.blocktransformer.model.weights.MatrixLayout.ROWS, LoadProgress.NONE));
        long[] last = new long[2];
        ModelWeights panels = Presets.randomInit("block-b4-5m", config, 3, format,
                org.blocktransformer.model.weights.MatrixLayout.PANELS, (done, total) -> {
                    synchronized (last) {
                        last[0] = Math.max(last[0], done);
                        last[1] = total;
                    }
                });
        assertInstanceOf(org.blocktransformer.model.weights.PanelMatrix.class,
                ((BlockWeights) panels).tokenEmbedOut().weight());
        assertFalse(((BlockWeights) panels).tokenEmbedIn() instanceof org.blocktransformer.model.weights.PanelMatrix,
                "lookup tables stay rows");
        List<float[]> p = WeightLists.of(panels);
        for (int i = 0; i < rows.size(); i++) {
            assertArrayEquals(rows.get(i), p.get(i), format + " parameter " + i);
        }
        assertEquals(last[1], last[0], "progress reaches the total");
        assertEquals(2 * WeightLists.count(panels), last[1], "each value counted allocated and drawn");
    }

    @Test
    void initialisationScales() {
        BlockWeights w = (BlockWeights) Presets.randomInit("block-b4-5m", 1, WeightFormat.F32);
        assertEquals(1.0, mean(w.blockDecoder().layers().get(2).inputNorm().weight()), 0.02);
        assertEquals(0.1, std(w.blockDecoder().layers().get(2).inputNorm().weight()), 0.02);
        assertEquals(1.0, std(WeightLists.floats(w.embedTable())), 0.01);
        assertEquals(2 / Math.sqrt(256), std(WeightLists.floats(w.tokenEmbedOut().weight())), 0.002);
        assertEquals(1 / Math.sqrt(1024), std(WeightLists.floats(w.tokenDecoder().layers().get(0).mlpDown().weight())),
                0.001);
        assertEquals(0.0, mean(WeightLists.floats(w.expansion().weight())), 0.01);
    }

    /** Run with -Dbt.slow=true: the largest preset must initialise well within a minute. */
    @Test
    @EnabledIfSystemProperty(named = "bt.slow", matches = "true")
    void largestPresetInitialisesQuickly() {
        long start = System.nanoTime();
        ModelWeights w = Presets.randomInit("block-b4-1.2b", 1, WeightFormat.BF16);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT, "block-b4-1.2b bf16 init: %.1f s on %d cores%n", seconds,
                Runtime.getRuntime().availableProcessors());
        assertTrue(seconds < 60, "took " + seconds + " s");
        assertInstanceOf(BlockWeights.class, w);
    }

    private static double parseSize(String s) {
        double unit = s.endsWith("b") ? 1e9 : 1e6;
        return Double.parseDouble(s.substring(0, s.length() - 1)) * unit;
    }

    private static double mean(float[] v) {
        double sum = 0;
        for (float x : v) {
            sum += x;
        }
        return sum / v.length;
    }

    private static double std(float[] v) {
        double m = mean(v), sum = 0;
        for (float x : v) {
            sum += (x - m) * (x - m);
        }
        return Math.sqrt(sum / v.length);
    }
}
