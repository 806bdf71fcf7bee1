package org.blocktransformer.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** One engine per executor: opened by the first task, reused by the next jobs, closed when the executor stops. */
class EngineLifecycleTest {

    @Test
    void oneEnginePerExecutorClosedWhenTheExecutorStops() {
        SparkSession spark = TestSpark.session();
        StructType schema = new StructType().add("prompt", DataTypes.createArrayType(DataTypes.IntegerType));
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            rows.add(RowFactory.create(List.of(1 + i, 2, 3)));
        }
        Dataset<Row> frame = spark.createDataFrame(rows, schema).repartition(8);
        // A spec of its own (batch size 5), so engines that other test classes opened do not count.
        BtGenerator gen = new BtGenerator().setModel("vanilla-31m").setMaxNewTokens(2).setBatchSize(5);
        int before = ExecutorEngines.openedTotal();
        int open = ExecutorEngines.openCount();

        assertEquals(40, gen.transform(frame).count());
        assertEquals(40, gen.transform(frame).filter("generated_tokens = 2").count());

        assertEquals(1, ExecutorEngines.openedTotal() - before, "8 partitions in 2 jobs load the model once");
        assertEquals(open + 1, ExecutorEngines.openCount());
        spark.stop();
        // BtSparkPlugin's executor plugin closed them as the (local) executor stopped.
        assertEquals(0, ExecutorEngines.openCount());
    }
}
