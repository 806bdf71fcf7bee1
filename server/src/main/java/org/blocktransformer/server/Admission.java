package org.blocktransformer.server;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounded queue: at most {@code limit} sequences (the running batch plus the queue) in the engine at once. A
 * request takes a slot per choice, all or none, so a request is either admitted whole or answered 429.
 */
final class Admission {
    private final int limit;
    private final AtomicInteger inUse = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();

    Admission(int limit) {
        this.limit = limit;
    }

    boolean tryAcquire(int sequences) {
        while (true) {
            int now = inUse.get();
            if (now + sequences > limit) {
                return false;
            }
            if (inUse.compareAndSet(now, now + sequences)) {
                requests.incrementAndGet();
                return true;
            }
        }
    }

    void release(int sequences) {
        inUse.addAndGet(-sequences);
        requests.decrementAndGet();
    }

    int limit() {
        return limit;
    }

    /** Admitted requests not yet released. */
    int requestsInFlight() {
        return requests.get();
    }
}
