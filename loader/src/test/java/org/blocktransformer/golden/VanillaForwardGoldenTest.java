package org.blocktransformer.golden;

import static org.blocktransformer.golden.Golden.assertClose;

import java.util.Arrays;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.cpu.CpuKernels;
import org.blocktransformer.model.cpu.CpuOps;
import org.blocktransformer.model.cpu.CpuBackend;
import org.blocktransformer.model.cpu.Parallel;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.runtime.VanillaRunner;
import org.blocktransformer.model.weights.VanillaWeights;
import org.junit.jupiter.api.Test;

/** GPT-NeoX forward logits against Hugging Face transformers. */
class VanillaForwardGoldenTest {
    private static final int V = 512;

    @Test
    void forwardLogitsMatchReference() {
        var weights = (VanillaWeights) Golden.weights("vanilla-neox");
        try (var data = Golden.data("vanilla-neox"); var parallel = new Parallel(2)) {
            var runner = new VanillaRunner(weights, new CpuBackend(new CpuOps(CpuKernels.best(), parallel)));
            int[] ids = Golden.ints(data, "fwd_input_ids");
            float[] logits = runBatched(runner, ids, 3, new int[][] {{}, {}, {}});
            assertClose("vanilla fwd_logits", data.floats("fwd_logits"), logits);
        }
    }

    /** Left padding: pads are masked and positions count real tokens only, which is the sequence without its pads. */
    @Test
    void leftPaddedRowMatchesReference() {
        var weights = (VanillaWeights) Golden.weights("vanilla-neox");
        try (var data = Golden.data("vanilla-neox"); var parallel = new Parallel(2)) {
            var runner = new VanillaRunner(weights, new CpuBackend(new CpuOps(CpuKernels.best(), parallel)));
            int[] ids = Golden.ints(data, "fwdpad_input_ids");
            int[] mask = Golden.ints(data, "fwdpad_attention_mask");
            float[] expected = data.floats("fwdpad_logits");
            int t = 24;
            for (int row = 0; row < 3; row++) {
                int pads = 0;
                while (mask[row * t + pads] == 0) {
                    pads++;
                }
                int[] real = Arrays.copyOfRange(ids, row * t + pads, (row + 1) * t);
                float[] got = runBatched(runner, real, 1, new int[][] {{}});
                float[] want = Arrays.copyOfRange(expected, (row * t + pads) * V, (row + 1) * t * V);
                assertClose("vanilla fwdpad row " + row, want, got);
            }
        }
    }

    private static float[] runBatched(VanillaRunner runner, int[] ids, int rows, int[][] unused) {
        int t = ids.length / rows;
        PagePool pool = runner.newPool(16, rows * ((t + 15) / 16));
        StackRow[] r = new StackRow[rows];
        for (int i = 0; i < rows; i++) {
            var table = pool.newTable();
            table.reserve(t);
            r[i] = new StackRow(table, t);
        }
        return runner.run(ids, r, true);
    }
}
