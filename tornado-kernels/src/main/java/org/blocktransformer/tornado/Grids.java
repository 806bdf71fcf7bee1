package org.blocktransformer.tornado;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;

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

    WorkerGrid2D twoD(String task, int localX, int localY) {
        WorkerGrid2D g = new WorkerGrid2D(localX, localY);
        g.setLocalWork(localX, localY, 1);
        scheduler.addWorkerGrid(task, g);
        return g;
    }

    /** Global size {@code items} rounded up to whole work-groups. */
    static void size1D(WorkerGrid g, long items) {
        long local = g.getLocalWork()[0];
        g.setGlobalWork(Math.max(local, (items + local - 1) / local * local), 1, 1);
    }

    static void size2D(WorkerGrid g, long x, long y) {
        long lx = g.getLocalWork()[0];
        long ly = g.getLocalWork()[1];
        g.setGlobalWork(Math.max(lx, (x + lx - 1) / lx * lx), Math.max(ly, (y + ly - 1) / ly * ly), 1);
    }
}
