package org.blocktransformer.spark;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

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

    /** A golden model directory, or the test is skipped with a message when the golden data is absent. */
    static Path golden(String name) {
        String dir = System.getProperty("bt.golden.dir");
        Path p = dir == null ? null : Path.of(dir, name);
        assumeTrue(p != null && Files.isDirectory(p), "golden data not found (bt.golden.dir=" + dir + "): skipped");
        return p;
    }
}
