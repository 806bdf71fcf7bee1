package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

/** The one line a user sees for an exception. */
class ErrorsTest {

    @Test
    void heapExhaustionNamesTheHeapItsLimitAndTheOptions() {
        for (OutOfMemoryError e : new OutOfMemoryError[] {new OutOfMemoryError("Java heap space"),
                new OutOfMemoryError(), new OutOfMemoryError("GC overhead limit exceeded")}) {
            String line = Errors.describe(e);
            assertTrue(line.startsWith("out of memory: the Java heap ("
                    + ModelInfo.humanBytes(Runtime.getRuntime().maxMemory()) + " here) is full: raise it with -Xmx"),
                    line);
            assertTrue(line.contains("BT_JAVA_OPTS=-Xmx16g") && line.contains("--cache-memory"), line);
            assertFalse(line.contains("()"), line);
            assertFalse(Errors.isInternal(e));
        }
    }

    @Test
    void directMemoryExhaustionNamesItsOwnLimit() {
        String line = Errors.describe(new OutOfMemoryError("Cannot reserve 1048576 bytes of direct buffer memory"
                + " (allocated: 2147000000, limit: 2147483648)"));
        assertTrue(line.startsWith("out of memory: direct (off-heap) buffer memory is used up (Cannot reserve"), line);
        assertTrue(line.contains("-XX:MaxDirectMemorySize"), line);
    }

    @Test
    void otherMemoriesAreNamed() {
        assertTrue(Errors.describe(new OutOfMemoryError("Metaspace")).contains("-XX:MaxMetaspaceSize"));
        assertTrue(Errors.describe(new OutOfMemoryError("unable to create native thread: possibly out of memory"))
                .contains("--threads"));
        assertTrue(Errors.describe(new OutOfMemoryError("Requested array size exceeds VM limit"))
                .startsWith("out of memory: an array larger than Java allows"));
        assertTrue(Errors.describe(new OutOfMemoryError("Unable to allocate 4096 bytes"))
                .startsWith("out of memory: the machine has no more native memory"));
    }

    @Test
    void wrappedOutOfMemoryIsDescribedTheSame() {
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
        assertEquals(Errors.describe(oom),
                Errors.describe(new java.util.concurrent.CompletionException(oom)));
    }

    @Test
    void everyMessageIsOneLine() {
        assertEquals("I/O error: bad\\nthing", Errors.describe(new UncheckedIOException(new java.io.IOException(
                "bad\nthing"))));
        assertEquals("a\\r\\nb", Errors.describe(new IllegalArgumentException("a\r\nb")));
    }
}
