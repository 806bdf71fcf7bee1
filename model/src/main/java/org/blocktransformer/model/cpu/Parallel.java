package org.blocktransformer.model.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * Splits index ranges over a fixed set of worker threads. Work smaller than a threshold runs on the calling thread:
 * the small golden models and single-row steps of small layers lose more to hand-off than they gain.
 */
public final class Parallel implements AutoCloseable {

    /** A body over a half-open range of indices. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private final int threads;
    private final ForkJoinPool pool;

    public Parallel(int threads) {
        this.threads = threads <= 0 ? Runtime.getRuntime().availableProcessors() : threads;
        // Named by a counter: a worker's pool index is not assigned yet when the factory names it (all were
        // "bt-cpu-0", which made profiles look single-threaded).
        var made = new java.util.concurrent.atomic.AtomicInteger();
        this.pool = this.threads == 1 ? null : new ForkJoinPool(this.threads, p -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setDaemon(true);
            t.setName("bt-cpu-" + made.getAndIncrement());
            return t;
        }, null, false);
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} in contiguous chunks whose boundaries are multiples of {@code grain}.
     *
     * @param cost an estimate of the total work in multiply-adds, used to decide whether to split at all
     */
    public void forRange(int n, int grain, long cost, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int units = (n + grain - 1) / grain;
        int parts = (int) Math.min(Math.min(units, threads * 4L), Math.max(1, cost / MIN_WORK_PER_TASK));
        if (pool == null || parts <= 1) {
            body.run(0, n);
            return;
        }
        int unitsPerPart = (units + parts - 1) / parts;
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[parts];
        int count = 0;
        for (int u = 0; u < units; u += unitsPerPart) {
            int from = u * grain;
            int to = Math.min(n, (u + unitsPerPart) * grain);
            tasks[count++] = new RecursiveAction() {
                @Override
                protected void compute() {
                    body.run(from, to);
                }
            };
        }
        if (count == 1) {
            body.run(0, n);
            return;
        }
        ForkJoinTask<?>[] submitted = java.util.Arrays.copyOf(tasks, count);
        pool.invoke(new RecursiveAction() {
            @Override
            protected void compute() {
                invokeAll(submitted);
            }
        });
    }

    /** Below this many multiply-adds per task, splitting costs more than it saves. */
    private static final long MIN_WORK_PER_TASK = 1 << 15;

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
