package org.blocktransformer.model.weights;

/**
 * How a loader lays out the Linear layers' matrices. Embedding tables (token lookups) are always rows.
 *
 * <p>Why a choice at load time: the CPU kernels read panels, other backends (the GPU's upload) rows. Loading
 * straight into the layout the backend reads means the model is held once; in the other layout the CPU backend
 * makes its own panel copy when it opens, and both stay in memory.
 */
public enum MatrixLayout {
    /** Row-major ({@link F32Matrix}, {@link HalfMatrix}): what every backend reads. */
    ROWS,
    /** Panels of 64 outputs ({@link PanelMatrix}): the CPU kernels' layout, used by them without a copy. */
    PANELS
}
