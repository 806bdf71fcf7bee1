package org.blocktransformer.spark;

import static org.blocktransformer.spark.GoldenEquivalenceTest.byId;
import static org.blocktransformer.spark.GoldenEquivalenceTest.ids;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.blocktransformer.spark.examples.GenerateJob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example job end to end: JSON Lines in, Parquet out, on a preset. */
class GenerateJobTest {

    @TempDir
    Path tmp;

    @Test
    void jsonLinesInParquetOutRowIndexFromTheFileOrder() throws IOException {
        SparkSession spark = TestSpark.session();
        Path input = tmp.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            lines.add("{\"prompt\": [" + (i + 1) + ", 2, 3]}");
        }
        Files.write(input, lines);
        String out = tmp.resolve("out.parquet").toString();

        runJob(spark, "--input", input.toString(), "--output", out, "--model", "vanilla-31m", "--max-new-tokens", "3",
                "--index-rows", "--partitions", "4", "--temperature", "0.8", "--seed", "5", "--batch-size", "8");

        Map<Long, Row> rows = byId(spark.read().parquet(out), "row_id");
        assertEquals(30, rows.size());
        for (long i = 0; i < 30; i++) {
            // row_id is the line's position in the file: bt generate's prompt i.
            assertEquals(List.of(i + 1, 2L, 3L), rows.get(i).getList(rows.get(i).fieldIndex("prompt")));
        }
        // The same rows in one partition: the same tokens, row by row.
        String single = tmp.resolve("single.parquet").toString();
        runJob(spark, "--input", input.toString(), "--output", single, "--model", "vanilla-31m", "--max-new-tokens",
                "3", "--index-rows", "--temperature", "0.8", "--seed", "5", "--batch-size", "3");
        Map<Long, Row> again = byId(spark.read().parquet(single), "row_id");
        for (long i = 0; i < 30; i++) {
            assertArrayEquals(ids(again.get(i)), ids(rows.get(i)), "row " + i);
        }
    }

    @Test
    void badNumbersAndBadRowsComeOutAsOneLine() throws IOException {
        SparkSession spark = TestSpark.session();
        Path input = tmp.resolve("bad.jsonl");
        Files.write(input, List.of("{\"prompt\": [1, 2]}", "{\"prompt\": [1, 99999]}"));
        String out = tmp.resolve("bad.parquet").toString();

        IllegalArgumentException number = assertThrows(IllegalArgumentException.class, () -> runJob(spark, "--input",
                input.toString(), "--output", out, "--model", "vanilla-31m", "--max-new-tokens", "many"));
        assertEquals("--max-new-tokens must be an integer, got 'many'", GenerateJob.badInput(number));

        Exception row = assertThrows(Exception.class, () -> runJob(spark, "--input", input.toString(),
                "--output", out, "--model", "vanilla-31m", "--max-new-tokens", "2", "--index-rows"));
        String message = GenerateJob.badInput(row);
        assertEquals("bad prompt in row row_id=1 (partition 0, row 1 of it; prompt [1, 99999]): prompt token 1 has"
                + " id 99999, outside the vocabulary [0, 50304)", message);
        assertNull(GenerateJob.badInput(new IllegalStateException("not the input's fault")));
    }

    @Test
    void optionsAreChecked() {
        assertEquals("unknown option --max-tokens", assertThrows(IllegalArgumentException.class,
                () -> GenerateJob.parse(new String[] {"--max-tokens", "3"})).getMessage());
        assertEquals("--seed needs a value", assertThrows(IllegalArgumentException.class,
                () -> GenerateJob.parse(new String[] {"--seed"})).getMessage());
    }

    private static void runJob(SparkSession spark, String... args) {
        GenerateJob.run(spark, GenerateJob.parse(args));
    }
}
