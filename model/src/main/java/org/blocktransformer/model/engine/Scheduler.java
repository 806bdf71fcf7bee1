package org.blocktransformer.model.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import org.blocktransformer.model.generate.FinishReason;

/**
 * Decides which sequences run together. Static batching admits a new batch only when the previous one has ended;
 * continuous batching admits waiting requests at every unit boundary while batch rows and cache pages allow.
 * Requests are admitted in arrival order (no overtaking), each with its whole global-cache need reserved, so a
 * running sequence never waits for memory.
 */
final class Scheduler {
    private final Stepper stepper;
    private final Batching batching;
    private final int maxBatch;
    private final int prefillBudget;
    private final Deque<Sequence> waiting = new ArrayDeque<>();
    private final List<Sequence> active = new ArrayList<>();
    private volatile long waitsForPages;
    private volatile int peakActive;
    /** Sizes of the two lists as of the last change, for other threads (monitoring); the lists are the engine thread's. */
    private volatile int waitingNow;
    private volatile int activeNow;

    Scheduler(Stepper stepper, Batching batching, int maxBatch, int prefillBudget) {
        this.stepper = stepper;
        this.batching = batching;
        this.maxBatch = maxBatch;
        this.prefillBudget = prefillBudget;
    }

    void enqueue(Sequence s) {
        waiting.addLast(s);
        publishCounts();
    }

    private void publishCounts() {
        waitingNow = waiting.size();
        activeNow = active.size();
    }

    /** Requests waiting for admission, as last seen by the engine thread (any thread may ask). */
    int waitingNow() {
        return waitingNow;
    }

    /** Requests running (the batch), as last seen by the engine thread (any thread may ask). */
    int activeNow() {
        return activeNow;
    }

    boolean idle() {
        return waiting.isEmpty() && active.isEmpty();
    }


    /** Admits, runs one unit, retires finished sequences. */
    void runOnce() {
        try {
            runUnit();
        } finally {
            publishCounts();
        }
    }

    private void runUnit() {
        dropCancelledWaiting();
        if (batching == Batching.CONTINUOUS || active.isEmpty()) {
            admit();
        }
        if (active.isEmpty()) {
            return;
        }
        for (Sequence s : active) {
            if (s.cancelled && !s.finished()) {
                s.finish = FinishReason.CANCELLED;
            }
        }
        try {
            stepper.step(active, prefillBudget);
        } catch (RuntimeException | Error e) {
            for (Sequence s : active) {
                release(s);
                s.future.completeExceptionally(e);
            }
            active.clear();
            return;
        }
        retireFinished();
    }

    private void admit() {
        while (active.size() < maxBatch && !waiting.isEmpty()) {
            Sequence s = waiting.peekFirst();
            boolean reserved;
            try {
                reserved = reserve(s);
            } catch (RuntimeException e) {
                // A request that cannot be admitted fails alone; the queue behind it goes on.
                waiting.removeFirst();
                release(s);
                s.future.completeExceptionally(e);
                continue;
            }
            if (!reserved) {
                waitsForPages++;
                break;
            }
            waiting.removeFirst();
            s.startedNanos = System.nanoTime();
            active.add(s);
            peakActive = Math.max(peakActive, active.size());
        }
    }

    /** Times the head of the queue could not be admitted for lack of free pages. */
    long waitsForPages() {
        return waitsForPages;
    }

    int peakActive() {
        return peakActive;
    }

    private boolean reserve(Sequence s) {
        s.global = stepper.globalPool().newTable();
        if (!s.global.reserve(stepper.globalPositions(s.prompt.length, s.request.maxNewTokens()))) {
            s.global = null;
            return false;
        }
        if (stepper.usesLocalCache()) {
            s.local = stepper.localPool().newTable();
            if (!s.local.reserve(stepper.localPool().pageSize())) {
                s.global.release();
                s.global = null;
                s.local = null;
                return false;
            }
        }
        return true;
    }

    private void retireFinished() {
        List<Sequence> done = new ArrayList<>();
        for (Iterator<Sequence> it = active.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.finished()) {
                it.remove();
                release(s);
                done.add(s);
            }
        }
        // Counts first, so that whoever a completed future wakes sees the batch without its sequence.
        publishCounts();
        for (Sequence s : done) {
            if (s.failure != null) {
                s.future.completeExceptionally(s.failure);
            } else {
                s.future.complete(s.result());
            }
        }
    }

    private void dropCancelledWaiting() {
        List<Sequence> dropped = new ArrayList<>();
        for (Iterator<Sequence> it = waiting.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.cancelled) {
                it.remove();
                s.finish = FinishReason.CANCELLED;
                dropped.add(s);
            }
        }
        if (!dropped.isEmpty()) {
            publishCounts();
            dropped.forEach(s -> s.future.complete(s.result()));
        }
    }

    private static void release(Sequence s) {
        if (s.global != null) {
            s.global.release();
            s.global = null;
        }
        if (s.local != null) {
            s.local.release();
            s.local = null;
        }
    }

    /** Fails everything still queued or running (engine shutdown). */
    void abortAll(Throwable reason) {
        for (Sequence s : active) {
            release(s);
            s.future.completeExceptionally(reason);
        }
        active.clear();
        for (Sequence s : waiting) {
            s.future.completeExceptionally(reason);
        }
        waiting.clear();
        publishCounts();
    }
}
