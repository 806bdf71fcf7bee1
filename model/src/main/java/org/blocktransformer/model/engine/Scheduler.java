package org.blocktransformer.model.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;

/**
 * Decides which sequences run together. Static batching admits a new batch only when the previous one has ended;
 * continuous batching admits waiting requests at every unit boundary while batch rows and cache pages allow.
 * Requests are admitted in arrival order (no overtaking) when the stepper can reserve their whole cache need, so a
 * running sequence never waits for memory; the stepper releases it when the sequence ends, fails or is cancelled.
 */
final class Scheduler {
    private final Stepper stepper;
    private final Batching batching;
    private final int maxBatch;
    private final Deque<Sequence> waiting = new ArrayDeque<>();
    private final List<Sequence> active = new ArrayList<>();
    private volatile long waitsForPages;
    private volatile int peakActive;
    /** Sizes of the two lists as of the last change, for other threads (monitoring); the lists are the engine thread's. */
    private volatile int waitingNow;
    private volatile int activeNow;

    Scheduler(Stepper stepper, Batching batching, int maxBatch) {
        this.stepper = stepper;
        this.batching = batching;
        this.maxBatch = maxBatch;
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
            // Before the step, which may take long (a prefill): monitoring sees the batch that runs.
            publishCounts();
        }
        if (active.isEmpty()) {
            return;
        }
        for (Sequence s : active) {
            s.stopIfCancelled();
        }
        try {
            stepper.step(active);
        } catch (RuntimeException | Error e) {
            for (Sequence s : active) {
                stepper.release(s);
                s.fail(e);
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
                reserved = stepper.reserve(s);
            } catch (RuntimeException e) {
                // A request that cannot be admitted fails alone; the queue behind it goes on.
                waiting.removeFirst();
                stepper.release(s);
                s.fail(e);
                continue;
            }
            if (!reserved) {
                waitsForPages++;
                break;
            }
            waiting.removeFirst();
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

    private void retireFinished() {
        List<Sequence> done = new ArrayList<>();
        for (Iterator<Sequence> it = active.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.finished()) {
                it.remove();
                stepper.release(s);
                done.add(s);
            }
        }
        // Counts first, so that whoever a completed future wakes sees the batch without its sequence.
        publishCounts();
        done.forEach(Sequence::complete);
    }

    private void dropCancelledWaiting() {
        List<Sequence> dropped = new ArrayList<>();
        for (Iterator<Sequence> it = waiting.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.stopIfCancelled()) {
                it.remove();
                dropped.add(s);
            }
        }
        if (!dropped.isEmpty()) {
            publishCounts();
            dropped.forEach(Sequence::complete);
        }
    }

    /** Fails everything still queued or running (engine shutdown). */
    void abortAll(Throwable reason) {
        for (Sequence s : active) {
            stepper.release(s);
            s.fail(reason);
        }
        active.clear();
        for (Sequence s : waiting) {
            s.fail(reason);
        }
        waiting.clear();
        publishCounts();
    }
}
