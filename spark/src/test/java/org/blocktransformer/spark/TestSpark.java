package org.blocktransformer.spark;

import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.blocktransformer.loader.Golden;

/** The tests' local Spark session (one per JVM, made again after a test stops it) and the golden data. */
final class TestSpark {

    private TestSpark() {
    }

    /** local[2]: two task threads, so two tasks share the executor's engine at once. */
    static SparkSession session() {
        return SparkSession.builder()
                .master("local[2]")
                .appName("bt-spark tests")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "8")
                .config("spark.plugins", BtSparkPlugin.class.getName())
                .getOrCreate();
    }

    /** A golden model directory: skipped, or failed on CI or with BT_REQUIRE_GOLDEN=1, when the golden data is absent. */
    static Path golden(String name) {
        return Golden.path(name);
    }
}
