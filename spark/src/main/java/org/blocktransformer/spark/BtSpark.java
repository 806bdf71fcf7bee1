package org.blocktransformer.spark;

import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Batch generation on Spark for code that does not use Spark ML pipelines ({@link BtGenerator} is the same as a
 * {@code Transformer}).
 *
 * <pre>{@code
 * Dataset<Row> prompts = spark.read().parquet("prompts.parquet");          // a column "prompt": text or ids
 * Dataset<Row> out = BtSpark.generate(prompts,
 *         GenerateSpec.of(EngineSpec.of("/shared/models/my-checkpoint"), 64));
 * out.write().parquet("generated.parquet");
 * }</pre>
 */
public final class BtSpark {

    private BtSpark() {
    }

    /**
     * The input's rows, in their order, each with the generated columns of {@link OutputColumns} appended. Lazy, as
     * every Spark transformation: the work runs when the result is written or collected, one engine per executor.
     * The schema (prompt column type, seed and row-id columns, sampling without a per-row seed) is checked here.
     */
    public static Dataset<Row> generate(Dataset<Row> input, GenerateSpec spec) {
        StructType out = OutputColumns.outputSchema(input.schema(), spec);
        return input.mapPartitions(new PartitionGenerator(spec, input.schema()), Encoders.row(out));
    }

    /**
     * The input with a column {@code col} holding each row's 0-based position in the dataset's order (a bigint),
     * whatever its partitioning: a stable row id for {@link GenerateSpec#rowIdCol()}. Spark keeps a file's order
     * when it reads one file (the rows of a JSON Lines file are its lines), and the order of a sorted dataset; it
     * does not keep an order across shuffles (repartition, joins) or among several input files, so add the index
     * first, or sort by a key. Runs one Spark job to count the rows of each partition (none with one partition).
     */
    public static Dataset<Row> withRowIndex(Dataset<Row> input, String col) {
        if (List.of(input.schema().fieldNames()).contains(col)) {
            throw new IllegalArgumentException("the input already has a column '" + col + "'");
        }
        StructType schema = input.schema().add(DataTypes.createStructField(col, DataTypes.LongType, false));
        int width = input.schema().size();
        JavaRDD<Row> indexed = input.toJavaRDD().zipWithIndex().map(t -> {
            Object[] v = new Object[width + 1];
            for (int i = 0; i < width; i++) {
                v[i] = t._1().get(i);
            }
            v[width] = t._2();
            return RowFactory.create(v);
        });
        return input.sparkSession().createDataFrame(indexed, schema);
    }
}
