package org.blocktransformer.bench;

import java.util.List;

/**
 * A vanilla model and a block model compared side by side (throughput ratio block / vanilla).
 *
 * <p>The paper compares models of about equal perplexity (Ho et al. 2024, "Block Transformer", Section 3 and its
 * main results table and Figure 1: block models reach a vanilla model's perplexity with several times its
 * parameters, e.g. the 1.2B block model against the 410M vanilla model). {@link #PAPER} pairs each vanilla preset
 * with the block preset of about 2.5-3.5 times its total parameters along that pattern: 31M with block 19M (77M
 * total), 70M with block 85M (173M), 160M with block 300M (420M), 410M with block 1.2B (1.45B). With random weights
 * the perplexities themselves mean nothing; the pairs fix which shapes are compared.
 */
public record ModelPair(String vanilla, String block) {

    /** Equal-perplexity pairs along the paper's pairing, smallest first. */
    public static final List<ModelPair> PAPER = List.of(
            new ModelPair("vanilla-31m", "block-b4-19m"),
            new ModelPair("vanilla-70m", "block-b4-85m"),
            new ModelPair("vanilla-160m", "block-b4-300m"),
            new ModelPair("vanilla-410m", "block-b4-1.2b"));

    /** The default of {@code bt bench}: the smallest pair, so a run on a few CPU cores takes about a minute. */
    public static final ModelPair CPU_DEFAULT = PAPER.get(0);

    public ModelPair {
        if (vanilla == null || vanilla.isBlank() || block == null || block.isBlank()) {
            throw new IllegalArgumentException("a pair needs two models, VANILLA:BLOCK");
        }
    }

    /** Parses {@code VANILLA:BLOCK}, e.g. {@code vanilla-410m:block-b4-1.2b}. */
    public static ModelPair parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("invalid pair '" + text + "'; expected VANILLA:BLOCK, e.g."
                    + " vanilla-410m:block-b4-1.2b");
        }
        return new ModelPair(text.substring(0, colon).trim(), text.substring(colon + 1).trim());
    }

    @Override
    public String toString() {
        return vanilla + ":" + block;
    }
}
