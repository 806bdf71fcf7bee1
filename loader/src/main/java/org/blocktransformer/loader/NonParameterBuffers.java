package org.blocktransformer.loader;

import java.util.List;

/**
 * Tensors that Hugging Face GPT-NeoX checkpoints hold beside the parameters and that the computation never reads:
 * the causal-mask buffers of older transformers ({@code attention.bias}, stored as BOOL or U8, and
 * {@code attention.masked_bias}) and the rotary frequencies ({@code rotary_emb.inv_freq}, recomputed from the
 * config). They are skipped by name before anything looks at their dtype, so a Pythia directory as exported loads;
 * any other tensor is still read and checked.
 */
public final class NonParameterBuffers {
    private static final List<String> SUFFIXES = List.of(
            ".attention.bias",
            ".attention.masked_bias",
            ".rotary_emb.inv_freq");

    private NonParameterBuffers() {
    }

    /** Whether {@code name} is one of these buffers (any layer, any stack prefix). */
    public static boolean matches(String name) {
        return SUFFIXES.stream().anyMatch(name::endsWith);
    }
}
