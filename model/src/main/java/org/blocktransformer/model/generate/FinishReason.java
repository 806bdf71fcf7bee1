package org.blocktransformer.model.generate;

/** Why a sequence stopped. */
public enum FinishReason {
    /** It produced its maximum number of new tokens. */
    LENGTH,
    /** It produced the EOS token. */
    EOS,
    /** The caller cancelled it. */
    CANCELLED
}
