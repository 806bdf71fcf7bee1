package org.blocktransformer.golden;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.blocktransformer.loader.Checkpoints;
import org.blocktransformer.model.cpu.CpuBackend;
import org.blocktransformer.model.cpu.CpuKernels;
import org.blocktransformer.model.cpu.CpuOps;
import org.blocktransformer.model.cpu.Parallel;
import org.blocktransformer.model.runtime.BlockRunner;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The stated tolerances of the 16-bit weight formats against the float32 reference: the golden block models'
 * teacher-forced logits (values up to about 9) with the weight matrices rounded to bfloat16 or float16.
 * Measured: bfloat16 0.037 to 0.046, float16 (three more mantissa bits) about 8x closer.
 */
class HalfWeightsGoldenTest {
    static final double BF16_TOLERANCE = 0.06;
    static final double F16_TOLERANCE = 0.01;

    static Stream<Arguments> cases() {
        return Golden.BLOCK_MODELS.stream().flatMap(m -> Stream.of(
                Arguments.of(m, WeightFormat.BF16, BF16_TOLERANCE), Arguments.of(m, WeightFormat.F16, F16_TOLERANCE)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void logitsStayWithinTheFormatsTolerance(String model, WeightFormat format, double tolerance) {
        BlockWeights weights = (BlockWeights) Checkpoints.load(Golden.model(model), format);
        try (var data = Golden.data(model); var parallel = new Parallel(2)) {
            var runner = new BlockRunner(weights, new CpuBackend(new CpuOps(CpuKernels.best(), parallel)));
            int[] ids = Golden.ints(data, "fwd_input_ids");
            int b = 3;
            int perRow = ids.length / b;
            int[][] rows = new int[b][];
            for (int i = 0; i < b; i++) {
                rows[i] = java.util.Arrays.copyOfRange(ids, i * perRow, (i + 1) * perRow);
            }
            float[] want = data.floats("fwd_logits");
            float[] got = runner.teacherForced(rows).logits();
            double worst = 0;
            for (int i = 0; i < want.length; i++) {
                worst = Math.max(worst, Math.abs(want[i] - got[i]));
            }
            System.out.printf("%s %s: max |logit - reference| = %.4f%n", model, format, worst);
            assertTrue(worst > 0, model + " " + format + ": logits equal the float32 reference exactly: not rounded?");
            assertTrue(worst <= tolerance, model + " " + format + ": max |logit diff| " + worst + " above " + tolerance);
        }
    }
}
