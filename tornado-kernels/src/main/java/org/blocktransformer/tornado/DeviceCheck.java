package org.blocktransformer.tornado;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.blocktransformer.model.backend.Candidates;
import org.blocktransformer.model.backend.DeviceException;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.Linear;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/**
 * A short self-test run when a device is opened: a small Linear layer through both kernel families, the argmax and
 * the top-k selection, against the same arithmetic in plain Java; on a PTX device also a float16 layer through the
 * tensor-core family (against the float16-rounded activations). A device or TornadoVM backend that builds kernels
 * but computes wrong results (seen with TornadoVM's PTX backend) is refused with a clear message instead of
 * generating wrong tokens.
 */
final class DeviceCheck {
    private static final int IN = 40;
    private static final int OUT = 70;
    private static final double TOLERANCE = 1e-3;

    private DeviceCheck() {
    }

    /** @throws DeviceException naming the device and what went wrong */
    static void verify(TornadoDevice device, String description) {
        SplittableRandom r = new SplittableRandom(20261127);
        float[] w = random(r, OUT * IN);
        float[] b = random(r, OUT);
        check(device, description, new Linear(new F32Matrix(OUT, IN, w), b), w, b, false, r);
        if (TornadoDevices.isPtx(device)) {
            F16Matrix half = F16Matrix.of(new F32Matrix(OUT, IN, w));
            float[] widened = new float[w.length];
            for (int i = 0; i < w.length; i++) {
                widened[i] = F16Matrix.toFloat(half.data()[i]);
            }
            check(device, description, new Linear(half, b), widened, b, true, r);
        }
    }

    private static void check(TornadoDevice device, String description, Linear layer, float[] w, float[] b,
                              boolean tensorCores, SplittableRandom r) {
        TornadoLinearExecutor exec;
        try {
            exec = new TornadoLinearExecutor(layer, device, 32, false, tensorCores);
        } catch (RuntimeException e) {
            throw refused(description, "could not set up a Linear layer: " + e.getMessage(), e);
        }
        String problem;
        RuntimeException cause = null;
        try {
            problem = mismatch(exec, r, w, b);
        } catch (RuntimeException e) {
            problem = e.getMessage() != null ? e.getMessage() : e.toString();
            cause = e;
        } finally {
            exec.close();
        }
        if (problem != null) {
            throw refused(description, (tensorCores ? "(tensor cores) " : "") + problem, cause);
        }
    }

    /**
     * What the device got wrong, or null. 3 rows run the few-token kernel, 20 the many-token one, which on the
     * tensor cores sees the activations rounded to float16 (so does the reference then).
     */
    private static String mismatch(TornadoLinearExecutor exec, SplittableRandom r, float[] w, float[] b) {
        for (int rows : new int[] {3, LayerTasks.FEW_TOKENS + 4}) {
            boolean rounded = rows > LayerTasks.FEW_TOKENS && exec.manyRowFamily() == LayerTasks.Family.TENSOR;
            float[] x = random(r, rows * IN);
            float[] got = exec.apply(x, rows);
            int[] ids = exec.argmax(x, rows);
            int[] k = new int[rows];
            Arrays.fill(k, 3);
            Candidates[] top = exec.topK(x, rows, k);
            for (int t = 0; t < rows; t++) {
                Candidates want = Candidates.of(got, t * OUT, OUT, 3);
                if (want == null) {
                    return "a " + rows + "-row Linear layer gave outputs that are not finite (row " + t + ")";
                }
                if (top[t] == null || !Arrays.equals(want.ids(), top[t].ids())) {
                    return "top-3 selection gave " + (top[t] == null ? "nothing" : Arrays.toString(top[t].ids()))
                            + " where " + Arrays.toString(want.ids()) + " was expected (row " + t + ")";
                }
            }
            for (int t = 0; t < rows; t++) {
                int best = 0;
                double bestValue = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < OUT; j++) {
                    double want = b[j];
                    for (int c = 0; c < IN; c++) {
                        float xv = rounded ? Float.float16ToFloat(Float.floatToFloat16(x[t * IN + c])) : x[t * IN + c];
                        want += (double) xv * w[j * IN + c];
                    }
                    double have = got[t * OUT + j];
                    if (!(Math.abs(have - want) <= TOLERANCE * (1 + Math.abs(want)))) {
                        return "a " + rows + "-row Linear layer gave " + have + " where " + want + " was expected"
                                + " (row " + t + ", output " + j + ")";
                    }
                    if (want > bestValue) {
                        bestValue = want;
                        best = j;
                    }
                }
                if (ids[t] != best && Math.abs(got[t * OUT + ids[t]] - bestValue) > TOLERANCE) {
                    return "argmax gave " + ids[t] + " where " + best + " was expected (row " + t + ")";
                }
            }
        }
        return null;
    }

    private static DeviceException refused(String description, String what, Throwable cause) {
        return new DeviceException("device " + description + " failed its self-test: " + what
                + ". Pick another device (--device, see `bt devices`) or use --backend cpu", cause);
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
