package org.blocktransformer.golden;

import static org.blocktransformer.golden.Golden.assertClose;

import java.util.stream.Stream;
import org.blocktransformer.model.cpu.CpuKernels;
import org.blocktransformer.model.cpu.CpuOps;
import org.blocktransformer.model.cpu.CpuBackend;
import org.blocktransformer.model.cpu.Parallel;
import org.blocktransformer.model.runtime.BlockRunner;
import org.blocktransformer.model.runtime.BlockTrace;
import org.blocktransformer.model.weights.BlockWeights;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Teacher-forced forward pass of every block model against the reference's intermediates and logits. */
class BlockForwardGoldenTest {

    static Stream<Arguments> cases() {
        return Golden.BLOCK_MODELS.stream().flatMap(m -> Stream.of(Arguments.of(m, "fwd_"), Arguments.of(m, "fwdpad_")));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void forwardMatchesReference(String model, String prefix) {
        BlockWeights weights = (BlockWeights) Golden.weights(model);
        try (var data = Golden.data(model); var parallel = new Parallel(2)) {
            var runner = new BlockRunner(weights, new CpuBackend(new CpuOps(CpuKernels.best(), parallel)));
            int[] ids = Golden.ints(data, prefix + "input_ids");
            int b = 3;
            int perRow = ids.length / b;
            int[][] rows = new int[b][];
            for (int i = 0; i < b; i++) {
                rows[i] = java.util.Arrays.copyOfRange(ids, i * perRow, (i + 1) * perRow);
            }
            // All three sequences and all 15 target blocks batched in one pass.
            BlockTrace trace = runner.teacherForced(rows);
            assertClose(model + " " + prefix + "block_embeddings", data.floats(prefix + "block_embeddings"), trace.blockEmbeddings());
            assertClose(model + " " + prefix + "context", data.floats(prefix + "context"), trace.contexts());
            assertClose(model + " " + prefix + "expanded_context", data.floats(prefix + "expanded_context"), trace.expanded());
            assertClose(model + " " + prefix + "token_decoder_inputs_embeds",
                    data.floats(prefix + "token_decoder_inputs_embeds"), trace.tokenInputs());
            assertClose(model + " " + prefix + "logits", data.floats(prefix + "logits"), trace.logits());

            // Each sequence alone gives the same logits bit for bit.
            int perSeq = trace.logits().length / b;
            for (int i = 0; i < b; i++) {
                BlockTrace single = runner.teacherForced(new int[][] {rows[i]});
                org.junit.jupiter.api.Assertions.assertArrayEquals(
                        java.util.Arrays.copyOfRange(trace.logits(), i * perSeq, (i + 1) * perSeq), single.logits(),
                        model + " row " + i + ": single-sequence logits differ from batched");
            }
        }
    }
}
