package org.blocktransformer.tornado;

import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;

/**
 * The host's side of a float16 KV cache as the device holds it ({@link NeoXKernels#kvIndex}): rows of
 * {@code heads} heads of {@code hd} values, four float16 values to a 64-bit word, each head padded to whole words.
 * For tests and benchmarks that fill a cache or read one back.
 */
final class PackedHalves {
    private PackedHalves() {
    }

    /** {@code values} ({@code [row][head][hd]}, as float16 after rounding) packed. */
    static LongArray pack(float[] values, int heads, int hd) {
        int words = NeoXKernels.halfWords(hd);
        int rows = values.length / (heads * hd);
        LongArray out = new LongArray(DeviceArrays.checkedSize((long) rows * heads * words));
        int[] b = new int[4];
        for (int r = 0; r < rows * heads; r++) {
            for (int w = 0; w < words; w++) {
                for (int k = 0; k < 4; k++) {
                    int i = 4 * w + k;
                    b[k] = i < hd ? F16Matrix.fromFloat(values[r * hd + i]) : 0;
                }
                out.set(r * words + w, NeoXKernels.packHalves(b[0], b[1], b[2], b[3]));
            }
        }
        return out;
    }

    /** The float values ({@code [row][head][hd]}) of a packed cache. */
    static float[] unpack(LongArray packed, int heads, int hd) {
        int words = NeoXKernels.halfWords(hd);
        int rows = packed.getSize() / (heads * words);
        float[] out = new float[rows * heads * hd];
        for (int r = 0; r < rows * heads; r++) {
            for (int i = 0; i < hd; i++) {
                long word = packed.get(r * words + i / 4);
                out[r * hd + i] = F16Matrix.toFloat((short) (word >>> (16 * (i % 4))));
            }
        }
        return out;
    }
}
