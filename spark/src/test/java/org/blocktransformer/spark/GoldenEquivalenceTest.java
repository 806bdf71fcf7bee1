package org.blocktransformer.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.blocktransformer.cli.BtCommand;
import org.blocktransformer.cli.LibraryServices;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * 2,000 prompts over 8 partitions on the golden models: every row equals the single-engine result for its prompt
 * and seed, the reference being the real {@code bt generate} (run in-process on a prompts file) or one
 * {@link InferenceEngine} for seed-column rows.
 */
class GoldenEquivalenceTest {

    private static final int PROMPTS = 2000;
    private static final int PARTITIONS = 8;
    private static final int NEW_TOKENS = 8;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] WORDS = {"the", "cat", "sat", "on", "a", "mat", "Once", "upon", "time", "there",
        "was", "little", "model", "blocks", "of", "tokens", "hello", "world", ",", "."};

    @TempDir
    Path tmp;

    @Test
    void greedyIdPromptsOnVanillaEqualBtGenerate() throws IOException {
        Path model = TestSpark.golden("vanilla-neox");
        List<int[]> prompts = idPrompts(new Random(1));
        List<JsonNode> reference = btGenerate(idLines(prompts), "--model", model.toString(), "--greedy");

        BtGenerator gen = new BtGenerator().setModel(model.toString()).setMaxNewTokens(NEW_TOKENS);
        Map<Long, Row> rows = byId(gen.transform(idFrame(prompts)), "id");

        assertRowsEqual(reference, rows, false);
    }

    @Test
    void sampledTextPromptsOnBlockModelEqualBtGenerateSeeded() throws IOException {
        Path model = TestSpark.golden("bt-prefix-l4");
        Path tokenizer = TestSpark.golden("tokenizer").resolve("tokenizer.json");
        List<String> prompts = textPrompts(new Random(2));
        List<String> lines = prompts.stream().map(GoldenEquivalenceTest::jsonString).toList();
        // bt generate --seed 1234 seeds prompt i with 1234 + i: the row with id i gets the same seed.
        List<JsonNode> reference = btGenerate(lines, "--model", model.toString(), "--tokenizer", tokenizer.toString(),
                "--temperature", "0.9", "--top-k", "40", "--top-p", "0.95", "--seed", "1234");

        BtGenerator gen = new BtGenerator().setModel(model.toString()).setTokenizer(tokenizer.toString())
                .setMaxNewTokens(NEW_TOKENS).setTemperature(0.9).setTopK(40).setTopP(0.95).setSeed(1234)
                .setRowIdCol("id");
        int before = ExecutorEngines.openedTotal();
        Map<Long, Row> rows = byId(gen.transform(textFrame(prompts)), "id");

        assertRowsEqual(reference, rows, true);
        assertEquals(1, ExecutorEngines.openedTotal() - before,
                "the model was loaded more than once on the one executor of local[2]");
    }

    @Test
    void seedColumnRowsEqualOneEngineWithThoseSeeds() {
        Path model = TestSpark.golden("bt-prefix-l2-r1");
        Random random = new Random(3);
        List<int[]> prompts = idPrompts(random);
        long[] seeds = random.longs(PROMPTS).toArray();
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            requests.add(new GenerationRequest(prompts.get(i), NEW_TOKENS, SamplingParams.sample(1.0, 0, 0.9,
                    seeds[i]), true));
        }
        List<GenerationResult> reference;
        try (InferenceEngine engine = InferenceEngine.open(ModelSources.load(model.toString(), WeightFormat.F32, 0),
                EngineOptions.defaults().withMaxBatchSize(7))) {
            reference = engine.generateAll(requests);
        }

        StructType schema = new StructType().add("id", DataTypes.LongType).add("seed", DataTypes.LongType)
                .add("ids", DataTypes.createArrayType(DataTypes.IntegerType));
        List<Row> data = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            data.add(RowFactory.create((long) i, seeds[i], boxed(prompts.get(i))));
        }
        Dataset<Row> frame = spark().createDataFrame(data, schema).repartition(PARTITIONS);
        assertEquals(PARTITIONS, frame.rdd().getNumPartitions());
        GenerateSpec spec = GenerateSpec.of(EngineSpec.of(model.toString()).withBatchSize(16), NEW_TOKENS)
                .withInputCol("ids").withSampling(SamplingSpec.sample(1.0, 0, 0.9, 0), "seed", null);
        Map<Long, Row> rows = byId(BtSpark.generate(frame, spec), "id");

        assertEquals(PROMPTS, rows.size());
        int eos = 0;
        for (int i = 0; i < PROMPTS; i++) {
            Row r = rows.get((long) i);
            GenerationResult want = reference.get(i);
            assertArrayEquals(want.generatedIds(), ids(r), "row " + i);
            assertEquals(want.finishReason().name().toLowerCase(), r.getAs("finish_reason"), "row " + i);
            eos += want.finishReason().name().equals("EOS") ? 1 : 0;
        }
        assertTrue(eos > 0 && eos < PROMPTS, "both finish reasons should occur, got " + eos + " eos");
    }

    // ---- the reference: bt generate --format json on a prompts file, in this JVM

    private List<JsonNode> btGenerate(List<String> lines, String... options) throws IOException {
        Path file = tmp.resolve("prompts.jsonl");
        Files.write(file, lines);
        List<String> args = new ArrayList<>(List.of("generate", "--prompts-file", file.toString(), "--max-new-tokens",
                String.valueOf(NEW_TOKENS), "--batch-size", "32", "--format", "json"));
        args.addAll(List.of(options));
        CommandLine cmd = BtCommand.newCommandLine(new LibraryServices());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args.toArray(String[]::new));
        assertEquals(0, code, "bt generate failed: " + err);
        List<JsonNode> results = new ArrayList<>();
        for (String line : out.toString().split("\n")) {
            results.add(JSON.readTree(line));
        }
        assertEquals(lines.size(), results.size());
        return results;
    }

    private static void assertRowsEqual(List<JsonNode> reference, Map<Long, Row> rows, boolean text) {
        assertEquals(reference.size(), rows.size());
        int eos = 0;
        for (int i = 0; i < reference.size(); i++) {
            JsonNode want = reference.get(i);
            Row r = rows.get((long) i);
            int[] wantIds = JSON.convertValue(want.get("ids"), int[].class);
            assertArrayEquals(wantIds, ids(r), "row " + i);
            assertEquals(want.get("finish_reason").asText(), r.getAs("finish_reason"), "row " + i);
            assertEquals(want.get("prompt_ids").size(), (int) r.getAs("prompt_tokens"), "row " + i);
            assertEquals(wantIds.length, (int) r.getAs("generated_tokens"), "row " + i);
            if (text) {
                assertEquals(want.get("text").asText(), r.getAs("generated_text"), "row " + i);
            }
            eos += want.get("finish_reason").asText().equals("eos") ? 1 : 0;
        }
        // Rows that stop early and rows that run the full length: both paths through the batch are covered.
        assertTrue(eos > 0 && eos < reference.size(), "both finish reasons should occur, got " + eos + " eos");
    }

    // ---- prompts and frames

    private static List<int[]> idPrompts(Random random) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            out.add(random.ints(1 + random.nextInt(12), 1, 512).toArray());
        }
        return out;
    }

    private static List<String> textPrompts(Random random) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            StringBuilder sb = new StringBuilder();
            for (int w = 0, n = 1 + random.nextInt(8); w < n; w++) {
                sb.append(w == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
            }
            out.add(sb.toString());
        }
        return out;
    }

    private static List<String> idLines(List<int[]> prompts) {
        return prompts.stream().map(p -> java.util.Arrays.toString(p)).toList();
    }

    /** Rows with a 0-based id (the prompt's line in bt generate's file), spread over 8 partitions. */
    private Dataset<Row> idFrame(List<int[]> prompts) {
        StructType schema = new StructType().add("id", DataTypes.LongType)
                .add("prompt", DataTypes.createArrayType(DataTypes.IntegerType));
        List<Row> data = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            data.add(RowFactory.create((long) i, boxed(prompts.get(i))));
        }
        Dataset<Row> frame = spark().createDataFrame(data, schema).repartition(PARTITIONS);
        assertEquals(PARTITIONS, frame.rdd().getNumPartitions());
        return frame;
    }

    private Dataset<Row> textFrame(List<String> prompts) {
        StructType schema = new StructType().add("id", DataTypes.LongType).add("prompt", DataTypes.StringType);
        List<Row> data = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            data.add(RowFactory.create((long) i, prompts.get(i)));
        }
        Dataset<Row> frame = spark().createDataFrame(data, schema).repartition(PARTITIONS);
        assertEquals(PARTITIONS, frame.rdd().getNumPartitions());
        return frame;
    }

    private static SparkSession spark() {
        return TestSpark.session();
    }

    static Map<Long, Row> byId(Dataset<Row> out, String idCol) {
        Map<Long, Row> rows = new HashMap<>();
        for (Row r : out.collectAsList()) {
            rows.put(r.<Long>getAs(idCol), r);
        }
        return rows;
    }

    static int[] ids(Row r) {
        return r.<Integer>getList(r.fieldIndex("generated_ids")).stream().mapToInt(Integer::intValue).toArray();
    }

    static List<Integer> boxed(int[] ids) {
        return java.util.Arrays.stream(ids).boxed().toList();
    }

    private static String jsonString(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
