package org.blocktransformer.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engines of this executor JVM: one per {@link EngineSpec}, opened by the first task that needs it (the model
 * is loaded once) and shared by every task the executor runs, so their prompts fill one continuous batch.
 *
 * <p>Closed when the executor stops: by {@link BtSparkPlugin}'s executor plugin when the job sets
 * {@code spark.plugins=org.blocktransformer.spark.BtSparkPlugin}, else by a JVM shutdown hook, registered when the
 * first engine opens (never at class load).
 */
public final class ExecutorEngines {

    private static final Logger LOG = LoggerFactory.getLogger(ExecutorEngines.class);
    /** Guarded by the class: a second task asking for the same engine waits for the first one's load. */
    private static final Map<EngineSpec, SharedEngine> ENGINES = new LinkedHashMap<>();
    private static boolean hookRegistered;
    private static int opened;

    private ExecutorEngines() {
    }

    /** This executor's engine for {@code spec}, opened on first use. */
    static synchronized SharedEngine get(EngineSpec spec) {
        SharedEngine e = ENGINES.get(spec);
        if (e != null) {
            return e;
        }
        if (!hookRegistered) {
            Runtime.getRuntime().addShutdownHook(new Thread(ExecutorEngines::closeAll, "bt-engines-shutdown"));
            hookRegistered = true;
        }
        long t0 = System.nanoTime();
        try {
            e = SharedEngine.open(spec);
        } catch (RuntimeException ex) {
            throw new IllegalStateException("cannot open model '" + spec.model() + "' on this executor: "
                    + (ex.getMessage() != null ? ex.getMessage() : ex.toString()), ex);
        }
        LOG.info("opened {} on {} in {} ms", spec.model(), e.engine().describeBackend(),
                (System.nanoTime() - t0) / 1_000_000);
        ENGINES.put(spec, e);
        opened++;
        return e;
    }

    /** Closes every engine of this JVM (the next task that needs one opens it again). */
    public static void closeAll() {
        List<SharedEngine> all;
        synchronized (ExecutorEngines.class) {
            all = new ArrayList<>(ENGINES.values());
            ENGINES.clear();
        }
        for (SharedEngine e : all) {
            try {
                e.close();
            } catch (RuntimeException ex) {
                LOG.warn("closing the engine of {} failed", e.spec().model(), ex);
            }
        }
    }

    /** Engines open now. */
    public static synchronized int openCount() {
        return ENGINES.size();
    }

    /** Engines opened since this JVM started (a reopened one counts again): how often a model was loaded. */
    public static synchronized int openedTotal() {
        return opened;
    }
}
