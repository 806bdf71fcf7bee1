package org.blocktransformer.spark;

import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * Closes this executor's engines when the executor stops ({@code --conf
 * spark.plugins=org.blocktransformer.spark.BtSparkPlugin}): before the JVM exits, while Spark still runs, so a GPU
 * backend's device memory is released in order. Without it a shutdown hook does the same at JVM exit.
 */
public final class BtSparkPlugin implements SparkPlugin {

    @Override
    public DriverPlugin driverPlugin() {
        // Engines live on the executors (in local mode the driver's executor, which gets the executor plugin too).
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            @Override
            public void shutdown() {
                ExecutorEngines.closeAll();
            }
        };
    }
}
