package org.blocktransformer.model.cpu;

/** A per-thread buffer for widened weight panels, grown on demand and reused. */
final class PanelScratch {
    private static final ThreadLocal<float[]> BUFFER = ThreadLocal.withInitial(() -> new float[0]);

    private PanelScratch() {
    }

    static float[] get(int size) {
        float[] b = BUFFER.get();
        if (b.length < size) {
            b = new float[size];
            BUFFER.set(b);
        }
        return b;
    }
}
