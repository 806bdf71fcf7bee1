package org.blocktransformer.model.generate;

/**
 * The model's logits for a token held a NaN or an infinity, so no token (or likelihood) can be taken from them: the
 * request that needed them fails with this, and the others in its batch go on. Weights are checked when they are
 * loaded, so this comes from the computation itself (an overflow, e.g. of float16 activations or KV cache, or a
 * device fault). The message says which token, and is written for the user.
 */
public class NonFiniteLogitsException extends ArithmeticException {
    public NonFiniteLogitsException(String message) {
        super(message);
    }
}
