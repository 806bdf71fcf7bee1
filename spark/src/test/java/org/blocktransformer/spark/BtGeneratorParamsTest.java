package org.blocktransformer.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Transformer's parameters, the schema it checks before any work, and its save/load. */
class BtGeneratorParamsTest {

    private static final StructType IDS = new StructType().add("id", DataTypes.LongType)
            .add("prompt", DataTypes.createArrayType(DataTypes.IntegerType));

    @TempDir
    Path tmp;

    @Test
    void parametersBecomeTheSpec() {
        BtGenerator gen = new BtGenerator().setModel("m").setMaxNewTokens(9).setWeights("BF16").setKvCache("f16")
                .setBatchSize(4).setCacheMemory(1 << 20).setThreads(2).setBackend("CPU").setDevice("256")
                .setTokenizer("t.json").setInitSeed(3).setInputCol("p").setOutputPrefix("out_").setIgnoreEos(true)
                .setTemperature(0.5).setTopK(7).setTopP(0.9).setSeed(11).setRowIdCol("id")
                .setBadPrompts("error_column");

        GenerateSpec s = gen.spec();

        assertEquals(new EngineSpec("m", 3, WeightFormat.BF16, "t.json", 4, 1 << 20, 2, "cpu", "256", KvFormat.F16),
                s.engine());
        assertEquals(new GenerateSpec(s.engine(), "p", "out_", 9, true, SamplingSpec.sample(0.5, 7, 0.9, 11), null,
                "id", BadPromptPolicy.ERROR_COLUMN), s);
    }

    @Test
    void sparkSeesEveryParameter() {
        List<String> names = Arrays.stream(new BtGenerator().params()).map(Param::name).sorted().toList();
        assertEquals(List.of("backend", "badPrompts", "batchSize", "cacheMemory", "device", "ignoreEos", "initSeed",
                "inputCol", "kvCache", "maxNewTokens", "model", "outputPrefix", "rowIdCol", "seed", "seedCol",
                "temperature", "threads", "tokenizer", "topK", "topP", "weights"), names);
    }

    @Test
    void schemaGetsTheOutputColumns() {
        StructType out = new BtGenerator().setModel("m").setMaxNewTokens(1).transformSchema(IDS);
        assertEquals(List.of("id", "prompt", "generated_ids", "generated_text", "finish_reason", "prompt_tokens",
                "generated_tokens", "queued_ms", "first_token_ms", "total_ms"), List.of(out.fieldNames()));
        StructType withErrors = new BtGenerator().setModel("m").setMaxNewTokens(1).setBadPrompts("error-column")
                .setOutputPrefix("bt_").transformSchema(IDS);
        assertEquals("bt_error", withErrors.fieldNames()[withErrors.size() - 1]);
    }

    @Test
    void badSettingsAreRefusedWithTheReason() {
        assertEquals("BtGenerator: set the model (setModel: a checkpoint directory or a preset name)",
                refused(new BtGenerator().setMaxNewTokens(1), IDS));
        assertEquals("BtGenerator: set maxNewTokens (tokens to generate per row)",
                refused(new BtGenerator().setModel("m"), IDS));
        BtGenerator ok = new BtGenerator().setModel("m").setMaxNewTokens(1);
        assertEquals("sampling needs a seed per row that does not depend on partitioning: set seedCol (a column of"
                + " seeds) or rowIdCol (seed + a stable row id; BtSpark.withRowIndex adds one)",
                refused(ok.copy(new ParamMap()).setTemperature(0.8), IDS));
        assertEquals("topK and topP need a temperature > 0 (temperature 0 is greedy decoding): set temperature to"
                + " sample", refused(ok.copy(new ParamMap()).setTopK(5), IDS));
        assertEquals("prompt column 'text' is not in the input; its columns: id, prompt",
                refused(ok.copy(new ParamMap()).setInputCol("text"), IDS));
        assertEquals("prompt column 'id' has type bigint; expected string (text) or an array of integer token ids"
                + " (array<int> or array<bigint>)", refused(ok.copy(new ParamMap()).setInputCol("id"), IDS));
        assertEquals("seed column 'prompt' has type array<int>; expected an integer type (int or bigint)",
                refused(ok.copy(new ParamMap()).setSeedCol("prompt"), IDS));
        assertEquals("the input already has a column 'finish_reason', which generation adds: drop or rename it, or"
                + " set an output prefix", refused(ok, IDS.add("finish_reason", DataTypes.StringType)));
        assertEquals("bad-prompt policy must be fail or error-column, got 'skip'",
                refused(ok.copy(new ParamMap()).setBadPrompts("skip"), IDS));
        assertEquals("weights format 'f8' is not f32, bf16 or f16",
                refused(ok.copy(new ParamMap()).setWeights("f8"), IDS));
        assertEquals("backend must be auto, cpu or tornado, got 'gpu'",
                refused(ok.copy(new ParamMap()).setBackend("gpu"), IDS));
        assertEquals("maxNewTokens must be at least 1, got 0",
                refused(ok.copy(new ParamMap()).setMaxNewTokens(0), IDS));
    }

    @Test
    void copyKeepsTheParametersAndSaveLoadRoundTrips() throws IOException {
        TestSpark.session();
        BtGenerator gen = new BtGenerator().setModel("vanilla-31m").setMaxNewTokens(5).setTemperature(0.3)
                .setSeedCol("s").setBatchSize(3);
        BtGenerator copy = gen.copy(new ParamMap());
        assertEquals(gen.uid(), copy.uid());
        assertEquals(gen.spec(), copy.spec());

        String path = tmp.resolve("gen").toString();
        gen.save(path);
        BtGenerator loaded = BtGenerator.load(path);

        assertEquals(gen.uid(), loaded.uid());
        assertEquals(gen.spec(), loaded.spec());
    }

    private static String refused(BtGenerator gen, StructType schema) {
        return assertThrows(IllegalArgumentException.class, () -> gen.transformSchema(schema)).getMessage();
    }
}
