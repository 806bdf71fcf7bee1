package org.blocktransformer.tornado;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;

/**
 * The launch geometry of every task of a plan, keyed by "graph.task", resized before each execution to the live
 * token count (a call of 3 tokens must not pay for the 1,024-token maximum).
 */
final class Grids {
    private final GridScheduler scheduler = new GridScheduler();

    GridScheduler scheduler() {
        return scheduler;
    }

    WorkerGrid1D oneD(String task, int local) {
        WorkerGrid1D g = new WorkerGrid1D(local);
        g.setLocalWork(local, 1, 1);
        scheduler.addWorkerGrid(task, g);
        return g;
    }

    /** Global size {@code items} rounded up to whole work-groups. */
    static void size1D(WorkerGrid g, long items) {
        long local = g.getLocalWork()[0];
        g.setGlobalWork(Math.max(local, (items + local - 1) / local * local), 1, 1);
    }
}
