package org.blocktransformer.model.cpu;

/**
 * The one way sums over a row are formed, shared by the scalar and every vector kernel so that they agree to the
 * bit whatever the vector width: 16 running sums (element i goes to sum i mod 16, in order), combined pairwise in a
 * fixed order, then the elements past the last multiple of 16 added one by one. 16 is the widest vector's lane
 * count, so a 512-bit vector holds the 16 sums in one register, narrower ones in two or four.
 */
final class Reductions {
    /** Running sums per row reduction. */
    static final int LANES = 16;

    private Reductions() {
    }

    /** The 16 sums {@code v[o .. o+15]} combined in a fixed pairwise order. */
    static float combine(float[] v, int o) {
        float a = (v[o] + v[o + 8]) + (v[o + 4] + v[o + 12]);
        float b = (v[o + 2] + v[o + 10]) + (v[o + 6] + v[o + 14]);
        float c = (v[o + 1] + v[o + 9]) + (v[o + 5] + v[o + 13]);
        float d = (v[o + 3] + v[o + 11]) + (v[o + 7] + v[o + 15]);
        return (a + b) + (c + d);
    }

    /** {@code 1 / sqrt(variance + eps)}, in double as a float32 reference allows, rounded once. */
    static float inverseStd(float variance, double eps) {
        return (float) (1.0 / Math.sqrt(variance + eps));
    }
}
