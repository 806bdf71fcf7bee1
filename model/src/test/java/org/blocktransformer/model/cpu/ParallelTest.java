package org.blocktransformer.model.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ParallelTest {

    /** Profiles tell the workers apart by name: each worker has its own. */
    @Test
    void workersHaveTheirOwnNames() {
        Map<Long, String> names = new ConcurrentHashMap<>();
        // Two tasks that wait for each other: they can only finish on two workers at once.
        CyclicBarrier both = new CyclicBarrier(2);
        try (Parallel p = new Parallel(2)) {
            p.forRange(2, 1, 1L << 30, (from, to) -> {
                names.put(Thread.currentThread().threadId(), Thread.currentThread().getName());
                try {
                    both.await(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        assertEquals(2, names.size(), "two workers ran the two tasks");
        assertEquals(2, names.values().stream().distinct().count(), "names " + names.values());
        assertTrue(names.values().stream().allMatch(n -> n.startsWith("bt-cpu-")), "names " + names.values());
    }
}
