package org.blocktransformer.loader.assemble;

import org.blocktransformer.model.weights.Matrix;

/**
 * Where {@link WeightAssembler} gets each parameter, by its reference state_dict name: a checkpoint (which checks the
 * stored shape) or a seeded random initialiser (which uses the role to pick a distribution).
 */
public interface ParameterSource {

    /** What a parameter is for; random initialisation draws each kind from its own distribution. */
    enum Role {
        /** A token lookup table (embed_in, the block embedder's table). */
        TOKEN_EMBEDDING,
        /** The untied output projection embed_out. */
        OUTPUT_EMBEDDING,
        /** Any other Linear or Conv1d weight. */
        LINEAR,
        /** A LayerNorm scale. */
        NORM_WEIGHT,
        /** A LayerNorm shift or a Linear / Conv1d bias. */
        BIAS
    }

    /** A matrix stored as {@code [rows, cols]} (Linear weight or embedding table). */
    Matrix matrix(String name, int rows, int cols, Role role);

    /**
     * A Conv1d weight stored as {@code [out, in, kernel]}, returned as the equivalent Linear over the concatenated
     * kernel positions: {@code [out, kernel*in]} with column {@code k*in + c} = {@code W[o, c, k]}.
     */
    Matrix conv1dAsLinear(String name, int out, int in, int kernel);

    /** A vector stored as {@code [length]}. */
    float[] vector(String name, int length, Role role);
}
