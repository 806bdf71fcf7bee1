package org.blocktransformer.model.eval;

/** How a block model's evaluation window is laid out in blocks of L_B tokens. */
public enum BlockPadding {
    /**
     * The reference's evaluation convention: L_B - 1 pad ids before the first token, so it ends the first block and
     * every later token of the window is predicted (as for a vanilla model); the last block is right-padded with
     * pad ids, whose predictions are not scored. Source: itsnamgyu/block-transformer
     * {@code lm_eval/models/block_transformer_pad.py} ({@code _model_call}: "first block should be [P P P a]").
     */
    REFERENCE,
    /**
     * No left padding: the window starts a block, so the first block's L_B tokens are context only and tokens L_B..
     * are predicted (the reference forward pass on unpadded blocks, e.g. the golden {@code fwd_} cases); the last
     * block is right-padded as above.
     */
    NONE
}
