package org.blocktransformer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.junit.jupiter.api.Test;

/**
 * The roofline behind bt bench's expected ratios, on the paper's shapes and the H200's measured limits: it must
 * reproduce the physics in docs/benchmarks.md (vanilla decode bound by KV reads, its ceiling independent of the
 * batch once the weights are amortised, about 40k tok/s in 16-bit; the block model bound by arithmetic and about
 * 8x vanilla with tensor cores), and its bookkeeping must follow the inputs.
 */
class RooflineTest {
    private static final MachineLimits H200 = MachineLimits.parse("4300:790");

    private static ModelConfig preset(String name) {
        return org.blocktransformer.loader.Presets.config(name);
    }

    @Test
    void vanillaDecodeIsBoundByTheKvCache() {
        ModelConfig v = preset("vanilla-410m");
        Roofline r = Roofline.of(v, 128, 1920, 600, 2, KvFormat.F16, H200);
        assertEquals("memory", r.bound());
        // ~108 MB of 16-bit KV per token at an average context of ~1,100: about 40k tok/s.
        assertTrue(r.tokensPerSecond() > 30_000 && r.tokensPerSecond() < 45_000, String.valueOf(r.tokensPerSecond()));
        Roofline f32 = Roofline.of(v, 128, 1920, 600, 2, KvFormat.F32, H200);
        assertEquals(2.0, r.tokensPerSecond() / f32.tokensPerSecond(), 0.1, "a float16 cache halves the reads");
    }

    @Test
    void theBlockModelTradesKvReadsForArithmetic() {
        ModelConfig v = preset("vanilla-410m");
        ModelConfig b = preset("block-b4-1.2b");
        Roofline rv = Roofline.of(v, 128, 1920, 600, 2, KvFormat.F16, H200);
        Roofline rb = Roofline.of(b, 128, 1920, 600, 2, KvFormat.F16, H200);
        assertEquals("compute", rb.bound());
        double ratio = rb.tokensPerSecond() / rv.tokensPerSecond();
        assertTrue(ratio > 5 && ratio < 12, "block / vanilla ceiling " + ratio);
        // Short contexts take the vanilla model's handicap away.
        double shortRatio = Roofline.of(b, 16, 64, 600, 2, KvFormat.F16, H200).tokensPerSecond()
                / Roofline.of(v, 16, 64, 600, 2, KvFormat.F16, H200).tokensPerSecond();
        assertTrue(shortRatio < ratio, shortRatio + " vs " + ratio);
        assertTrue(preset("block-b4-1.2b") instanceof BlockConfig && v instanceof VanillaConfig);
    }

    @Test
    void batchOneIsBoundByTheWeights() {
        ModelConfig v = preset("vanilla-410m");
        Roofline one = Roofline.of(v, 128, 128, 1, 2, KvFormat.F16, H200);
        assertEquals("memory", one.bound());
        // 0.4 B parameters in 16-bit per token at 4.3 TB/s: about 5,000 tok/s at most.
        assertTrue(one.tokensPerSecond() > 3_000 && one.tokensPerSecond() < 7_000, String.valueOf(one.tokensPerSecond()));
    }

    @Test
    void limitsParseOrSayHow() {
        MachineLimits m = MachineLimits.parse("21.5:0.15");
        assertEquals(21.5e9, m.bytesPerSecond(), 1);
        assertEquals(0.15e12, m.flopsPerSecond(), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MachineLimits.parse("fast"));
        assertTrue(e.getMessage().contains("GB/s:TFLOP/s"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MachineLimits.parse("0:1"));
    }
}
