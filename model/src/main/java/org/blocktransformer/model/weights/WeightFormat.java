package org.blocktransformer.model.weights;

/** How weight matrices are held in memory. */
public enum WeightFormat {
    /** Exact float32: the reference path, used by the golden tests. */
    F32(4),
    /** bfloat16 storage, float32 arithmetic: half the memory traffic per decode step, float32's range. */
    BF16(2),
    /**
     * IEEE float16 storage, float32 arithmetic: half the memory traffic with three more mantissa bits than bfloat16
     * (Pythia checkpoints are float16: loaded as they are, without rounding), range limited to +-65,504.
     */
    F16(2);

    private final int bytes;

    WeightFormat(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes one weight takes in this format. */
    public int bytesPerWeight() {
        return bytes;
    }
}
