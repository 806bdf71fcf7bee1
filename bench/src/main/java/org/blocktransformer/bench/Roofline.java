package org.blocktransformer.bench;

import java.util.Locale;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;

/**
 * The throughput a run cannot exceed on a machine with {@link MachineLimits}: the run's phases (prefill, each
 * decode step; for block models the block decoder, expansion, token decoder and head steps) each take at least
 * the longer of their bytes over the memory bandwidth and their FLOPs over the arithmetic rate, summed over the
 * run. Bytes per step: every weight read once (shared by the batch) and each row's KV cache (vanilla: its whole
 * context; block: its block decoder's context, one entry per L_B tokens, and a few local positions). FLOPs: two per
 * weight per position, and the attention's four per cached element. This is the physics the paper's claim rests on:
 * vanilla models at long contexts and large batches are bound by KV reads, block models trade those reads for
 * arithmetic, which only pays where arithmetic is plentiful (a GPU's tensor cores) and contexts are long.
 *
 * @param tokensPerSecond the ceiling, generated tokens over the whole run (prefill included)
 * @param bound           which ceiling dominates the decode steps: "memory" or "compute"
 * @param memoryShare     fraction of the decode time the memory term sets
 */
public record Roofline(double tokensPerSecond, String bound, double memoryShare) {

    /** The ceiling of {@code batch} sequences of {@code prompt} + {@code newTokens} with the given storage. */
    public static Roofline of(ModelConfig config, int prompt, int newTokens, int batch, int weightBytes, KvFormat kv,
                              MachineLimits m) {
        Phases p = new Phases(m);
        switch (config) {
            case VanillaConfig v -> {
                NeoXConfig s = v.stack();
                double w = weights(s) + (double) v.vocabSize() * s.hiddenSize();
                p.add(weightBytes * weights(s) + kvBytes(s, kv) * prompt * batch,
                        2.0 * weights(s) * prompt * batch + attention(s, prompt / 2.0) * prompt * batch, false);
                double ctx = prompt + newTokens / 2.0;
                p.add((weightBytes * w + kvBytes(s, kv) * ctx * batch) * newTokens,
                        (2.0 * w + attention(s, ctx)) * batch * newTokens, true);
            }
            case BlockConfig b -> {
                NeoXConfig bd = b.blockDecoder();
                NeoXConfig td = b.tokenDecoder();
                int lb = b.blockLength();
                double blocks = Math.ceil((double) newTokens / lb);
                double promptBlocks = Math.ceil((double) prompt / lb);
                // Prefill: the block decoder over the prompt's blocks.
                p.add(weightBytes * weights(bd) + kvBytes(bd, kv) * promptBlocks * batch,
                        2.0 * weights(bd) * promptBlocks * batch + attention(bd, promptBlocks / 2) * promptBlocks * batch,
                        false);
                // Per block: one block-decoder step over its context, the expansion, then L_B token-decoder steps
                // over R + L_B - 1 local positions in all, each followed by the head.
                double ctx = promptBlocks + blocks / 2;
                double expansion = (double) b.expansionRatio() * td.hiddenSize() * bd.hiddenSize();
                double head = (double) b.vocabSize() * td.hiddenSize();
                int local = b.localCacheLength();
                p.add((weightBytes * (weights(bd) + expansion) + kvBytes(bd, kv) * ctx * batch) * blocks,
                        (2.0 * (weights(bd) + expansion) + attention(bd, ctx)) * batch * blocks, true);
                p.add((weightBytes * (weights(td) + head) * lb + kvBytes(td, kv) * local * batch) * blocks,
                        (2.0 * weights(td) * local + 2.0 * head * lb + attention(td, local / 2.0) * local) * batch
                                * blocks, true);
            }
        }
        return new Roofline((double) batch * newTokens / p.seconds, p.decodeMemory >= p.decodeCompute ? "memory"
                : "compute", p.decodeMemory / (p.decodeMemory + p.decodeCompute));
    }

    /** Matrix weights of a stack's layers. */
    private static double weights(NeoXConfig s) {
        double d = s.hiddenSize();
        return s.numLayers() * (4 * d * d + 2 * d * s.intermediateSize());
    }

    /** KV bytes of one cached position in every layer. */
    private static double kvBytes(NeoXConfig s, KvFormat kv) {
        return 2.0 * s.numLayers() * s.hiddenSize() * kv.bytes();
    }

    /** Attention FLOPs of one position over {@code ctx} cached ones: scores and weighted values, every layer. */
    private static double attention(NeoXConfig s, double ctx) {
        return 4.0 * s.numLayers() * s.hiddenSize() * ctx;
    }

    /** The run's phases: each at least its bytes over bandwidth and its FLOPs over the rate. */
    private static final class Phases {
        private final MachineLimits m;
        double seconds;
        double decodeMemory;
        double decodeCompute;

        Phases(MachineLimits m) {
            this.m = m;
        }

        void add(double bytes, double flops, boolean decode) {
            double memory = bytes / m.bytesPerSecond();
            double compute = flops / m.flopsPerSecond();
            seconds += Math.max(memory, compute);
            if (decode) {
                decodeMemory += memory;
                decodeCompute += compute;
            }
        }
    }

    /** "memory-bound (KV and weight reads 83% of the ceiling)". */
    public String describe() {
        return String.format(Locale.ROOT, "%s-bound (memory %.0f%% of the decode ceiling)", bound, 100 * memoryShare);
    }
}
