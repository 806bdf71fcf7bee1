package org.blocktransformer.model.neox;

import org.blocktransformer.model.config.NeoXConfig;

/**
 * GPT-NeoX rotary embedding on the first {@code rot} dims of each head, rotate-half form. Angles are formed in
 * float32 as the reference does ({@code inv_freq} and {@code position * inv_freq} both rounded to float), so long
 * positions match it too.
 */
public final class Rotary {
    private final int rot;
    private final int half;
    private final float[] cos;
    private final float[] sin;
    private final int positions;

    public Rotary(NeoXConfig config) {
        this.rot = config.rotaryDims();
        this.half = rot / 2;
        this.positions = config.maxPositions();
        this.cos = new float[positions * half];
        this.sin = new float[positions * half];
        float[] invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / rot;
            invFreq[i] = 1.0f / (float) Math.pow(config.rotaryBase(), exponent);
        }
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * invFreq[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /** cos of every (position, frequency), laid out {@code [position * rot/2 + i]}: for backends that upload it. */
    public float[] cosTable() {
        return cos.clone();
    }

    /** sin, laid out as {@link #cosTable()}. */
    public float[] sinTable() {
        return sin.clone();
    }

    public int maxPositions() {
        return positions;
    }

    /** Rotates the head vector at {@code v[o .. o+rot)} for position {@code p}. */
    public void apply(float[] v, int o, int p) {
        int c = p * half;
        for (int i = 0; i < half; i++) {
            float a = v[o + i];
            float b = v[o + half + i];
            float co = cos[c + i];
            float si = sin[c + i];
            v[o + i] = a * co - b * si;
            v[o + half + i] = b * co + a * si;
        }
    }
}
