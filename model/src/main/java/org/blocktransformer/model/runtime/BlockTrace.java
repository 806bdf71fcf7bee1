package org.blocktransformer.model.runtime;

/**
 * Teacher-forced pass of a Block Transformer over whole blocks of one or more sequences, with the intermediates
 * the reference exposes. Row-major arrays; {@code B} sequences of {@code NB} blocks, {@code M = B * (NB - 1)}
 * token-decoder rows ordered {@code m = b * (NB - 1) + (n - 1)} for target block n.
 *
 * @param blockEmbeddings   [B, NB, D] embedder output
 * @param contexts          [B, NB, D] block decoder output after the final LayerNorm
 * @param expanded          [M, R, D_tok] expansion of the contexts of blocks 0..NB-2
 * @param tokenInputs       [M, P, D_tok] token decoder inputs (P = R + L_B - 1 for prefix, L_B for summation)
 * @param logits            [B, NB - 1, L_B, V]; {@code logits[b, n-1, j]} predicts token j of block n
 */
public record BlockTrace(float[] blockEmbeddings, float[] contexts, float[] expanded, float[] tokenInputs, float[] logits) {
}
