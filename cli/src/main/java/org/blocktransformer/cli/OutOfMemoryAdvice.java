package org.blocktransformer.cli;

import java.util.Locale;

/**
 * An {@link OutOfMemoryError} as one line: which memory ran out (the JVM says so in its message, or gives none for
 * the heap) and what gives more of it or asks for less. The JVM's own wording ("Java heap space") names neither the
 * option nor the limit in force.
 */
final class OutOfMemoryAdvice {

    private static final String SCRIPT_OPTS = "BT_JAVA_OPTS";

    private OutOfMemoryAdvice() {
    }

    static String describe(OutOfMemoryError e) {
        String msg = e.getMessage() == null ? "" : e.getMessage().strip();
        String m = msg.toLowerCase(Locale.ROOT);
        if (m.contains("direct buffer memory")) {
            return "out of memory: direct (off-heap) buffer memory is used up (" + msg + "): raise its limit with"
                    + " -XX:MaxDirectMemorySize (e.g. " + SCRIPT_OPTS + "=-XX:MaxDirectMemorySize=8g with scripts/bt)";
        }
        if (m.contains("metaspace")) {
            return "out of memory: the JVM's class metadata space is used up: raise it with -XX:MaxMetaspaceSize (e.g. "
                    + SCRIPT_OPTS + "=-XX:MaxMetaspaceSize=1g with scripts/bt)";
        }
        if (m.contains("native thread")) {
            return "out of memory: the system refused another thread (" + msg + "): use fewer --threads, or raise the"
                    + " process limit (ulimit -u)";
        }
        if (m.contains("array size exceeds vm limit")) {
            return "out of memory: an array larger than Java allows was asked for: use a smaller --cache-memory or"
                    + " --batch-size";
        }
        if (m.startsWith("unable to allocate") || m.contains("native memory")) {
            return "out of memory: the machine has no more native memory for this process (" + msg + "): use"
                    + " --weights bf16, a smaller --cache-memory or --batch-size, or close other programs";
        }
        return "out of memory: the Java heap (" + ModelInfo.humanBytes(Runtime.getRuntime().maxMemory())
                + " here) is full: raise it with -Xmx (e.g. " + SCRIPT_OPTS + "=-Xmx16g with scripts/bt, or java"
                + " -Xmx16g -jar bt.jar), or ask for less: a smaller --cache-memory (KV cache) or --batch-size, or"
                + " --weights bf16";
    }
}
