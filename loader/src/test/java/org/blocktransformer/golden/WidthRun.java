package org.blocktransformer.golden;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.blocktransformer.loader.Checkpoints;
import org.blocktransformer.loader.safetensors.SafetensorsFile;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.cpu.CpuBackend;
import org.blocktransformer.model.cpu.CpuKernels;
import org.blocktransformer.model.cpu.CpuOps;
import org.blocktransformer.model.cpu.Parallel;
import org.blocktransformer.model.engine.Batching;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.runtime.VanillaRunner;
import org.blocktransformer.model.weights.VanillaWeights;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * What {@link VectorWidthGoldenTest} compares between JVMs: every golden model's greedy tokens (four prompts
 * batched) and the bits of the vanilla model's forward logits, on the given kernels. Run as a program in a forked
 * JVM (argument: the golden directory), it uses the JVM's own choice of kernels and prints the lines.
 */
final class WidthRun {
    static final int NEW_TOKENS = 24;

    private WidthRun() {
    }

    /** First line: the kernels' width; then one line per model and prompt; last, the logits' bits as a hash. */
    static List<String> lines(Path golden, String kernels) {
        List<String> out = new ArrayList<>();
        out.add("kernels " + CpuKernels.named(kernels).vectorBits());
        for (String model : Golden.ALL_MODELS) {
            var weights = Checkpoints.load(golden.resolve(model), WeightFormat.F32);
            try (var data = SafetensorsFile.open(golden.resolve(model).resolve("golden.safetensors"));
                 var engine = InferenceEngine.open(weights, new EngineOptions(4, Batching.STATIC, 16L << 20, 2)
                         .withBackend("cpu", kernels))) {
                List<GenerationRequest> requests = new ArrayList<>();
                for (int i = 0; i < Golden.PROMPTS; i++) {
                    requests.add(GenerationRequest.greedy(Golden.ints(data, "prompt_" + i), NEW_TOKENS));
                }
                List<GenerationResult> results = engine.generateAll(requests);
                for (int i = 0; i < results.size(); i++) {
                    out.add(model + " " + i + " " + Arrays.toString(results.get(i).generatedIds()));
                }
            }
        }
        var vanilla = (VanillaWeights) Checkpoints.load(golden.resolve("vanilla-neox"), WeightFormat.F32);
        try (var data = SafetensorsFile.open(golden.resolve("vanilla-neox").resolve("golden.safetensors"));
             var parallel = new Parallel(2)) {
            var runner = new VanillaRunner(vanilla, new CpuBackend(new CpuOps(CpuKernels.named(kernels), parallel)));
            int[] ids = Golden.ints(data, "fwd_input_ids");
            int rows = 3;
            int t = ids.length / rows;
            PagePool pool = runner.newPool(16, rows * ((t + 15) / 16));
            StackRow[] r = new StackRow[rows];
            for (int i = 0; i < rows; i++) {
                var table = pool.newTable();
                table.reserve(t);
                r[i] = new StackRow(table, t);
            }
            float[] logits = runner.run(ids, r, true);
            int[] bits = new int[logits.length];
            for (int i = 0; i < bits.length; i++) {
                bits[i] = Float.floatToRawIntBits(logits[i]);
            }
            out.add("vanilla fwd_logits bits " + Integer.toHexString(Arrays.hashCode(bits)) + " over " + bits.length);
        }
        return out;
    }

    public static void main(String[] args) {
        for (String line : lines(Path.of(args[0]), "auto")) {
            System.out.println(line);
        }
    }
}
