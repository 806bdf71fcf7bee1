package org.blocktransformer.model.weights;

/** How weight matrices are held in memory for the CPU backend. */
public enum WeightFormat {
    /** Exact float32: the reference path, used by the golden tests. */
    F32,
    /** bfloat16 storage, float32 arithmetic: half the memory traffic per decode step. */
    BF16
}
