package org.blocktransformer.spark;

import static org.blocktransformer.spark.GoldenEquivalenceTest.byId;
import static org.blocktransformer.spark.GoldenEquivalenceTest.ids;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Bad prompt rows, on a preset (runs without the golden data): the default policy fails the job with a message that
 * names the row and says why; the error-column policy reports each bad row and generates the others exactly as
 * without them.
 */
class BadPromptTest {

    private static final String MODEL = "vanilla-31m"; // vocabulary 50304, 2048 positions
    private static final StructType SCHEMA = new StructType().add("id", DataTypes.LongType)
            .add("seed", DataTypes.LongType).add("prompt", DataTypes.createArrayType(DataTypes.LongType));

    @Test
    void failPolicyNamesTheRowAndSaysWhatIsWrong() {
        List<Row> rows = good(10);
        rows.set(6, row(6, 6L, 1L, 99_999L, 2L));
        BtGenerator gen = new BtGenerator().setModel(MODEL).setMaxNewTokens(2).setRowIdCol("id");

        String message = failure(() -> gen.transform(frame(rows, 3)).collectAsList());

        assertTrue(message.contains("bad prompt in row id=6 (partition "), message);
        assertTrue(message.contains("prompt [1, 99999, 2]"), message);
        assertTrue(message.contains("prompt token 1 has id 99999, outside the vocabulary [0, 50304)"), message);
    }

    @Test
    void failPolicyWithoutRowIdNamesPartitionAndPosition() {
        List<Row> rows = List.of(row(0, 0L, 5L), RowFactory.create(1L, 1L, null));
        BtGenerator gen = new BtGenerator().setModel(MODEL).setMaxNewTokens(2);

        String message = failure(() -> gen.transform(frame(rows, 1)).collectAsList());

        assertTrue(message.contains("bad prompt in row (partition 0, row 1 of it; prompt null): the prompt is null"),
                message);
    }

    @Test
    void errorColumnReportsEachBadRowAndLeavesTheOthersAsWithoutThem() {
        List<Row> rows = good(12);
        long[] tooLong = new long[2047];
        Arrays.fill(tooLong, 7);
        rows.set(1, RowFactory.create(1L, 1L, null));
        rows.set(3, RowFactory.create(3L, 3L, List.of()));
        rows.set(5, row(5, 5L, 4L, -3L));
        rows.set(7, row(7, 7L, tooLong));
        rows.set(9, RowFactory.create(9L, null, List.of(1L, 2L)));
        rows.set(10, row(10, 10L, 50_304L));
        BtGenerator gen = new BtGenerator().setModel(MODEL).setMaxNewTokens(2).setTemperature(0.7).setSeedCol("seed")
                .setRowIdCol("id").setBadPrompts("error-column");

        Map<Long, Row> out = byId(gen.transform(frame(rows, 4)), "id");

        Map<Long, String> want = Map.of(
                1L, "the prompt is null",
                3L, "the prompt is an empty array of token ids",
                5L, "token id -3 (position 2) is negative",
                7L, "2047 tokens of prompt + 2 new exceed the model's limit of 2048 tokens",
                9L, "seed column 'seed' is null",
                10L, "prompt token 0 has id 50304, outside the vocabulary [0, 50304)");
        assertEquals(12, out.size());
        List<Row> goodOnly = new ArrayList<>();
        for (long id = 0; id < 12; id++) {
            Row r = out.get(id);
            if (want.containsKey(id)) {
                assertEquals(want.get(id), r.getAs("error"), "row " + id);
                assertNull(r.getAs("generated_ids"), "row " + id);
                assertNull(r.getAs("finish_reason"), "row " + id);
            } else {
                assertNull(r.getAs("error"), "row " + id);
                assertNotNull(r.getAs("generated_ids"), "row " + id);
                goodOnly.add(rows.get((int) id));
            }
        }
        Map<Long, Row> alone = byId(gen.setBadPrompts("fail").transform(frame(goodOnly, 2)), "id");
        for (Row g : goodOnly) {
            long id = g.getLong(0);
            assertArrayEquals(ids(alone.get(id)), ids(out.get(id)), "row " + id);
        }
    }

    @Test
    void textWithoutTokenizerFailsTheJobWhateverThePolicy() {
        StructType schema = new StructType().add("prompt", DataTypes.StringType);
        Dataset<Row> frame = TestSpark.session().createDataFrame(List.of(RowFactory.create("hello")), schema);
        BtGenerator gen = new BtGenerator().setModel(MODEL).setMaxNewTokens(2).setBadPrompts("error-column");

        String message = failure(() -> gen.transform(frame).collectAsList());

        assertTrue(message.contains("prompt column 'prompt' holds text, but no tokenizer is known for model"
                + " 'vanilla-31m'"), message);
    }

    @Test
    void unknownModelFailsNamingIt() {
        BtGenerator gen = new BtGenerator().setModel("/no/such/model").setMaxNewTokens(2);

        String message = failure(() -> gen.transform(frame(good(1), 1)).collectAsList());

        assertTrue(message.contains("cannot open model '/no/such/model' on this executor: '/no/such/model' is"
                + " neither a preset nor a checkpoint directory"), message);
    }

    // ---- helpers

    private static List<Row> good(int n) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(row(i, 100L + i, 11L + i, 12L + 2 * i, 13L));
        }
        return rows;
    }

    private static Row row(long id, Long seed, long... ids) {
        return RowFactory.create(id, seed, Arrays.stream(ids).boxed().toList());
    }

    private static Dataset<Row> frame(List<Row> rows, int partitions) {
        return TestSpark.session().createDataFrame(rows, SCHEMA).repartition(partitions);
    }

    /** The messages of the exception and its causes, joined: Spark wraps a task's exception in its own. */
    static String failure(Runnable job) {
        Throwable t = assertThrows(Exception.class, job::run);
        StringBuilder sb = new StringBuilder();
        for (; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append(" | ");
        }
        return sb.toString();
    }
}
