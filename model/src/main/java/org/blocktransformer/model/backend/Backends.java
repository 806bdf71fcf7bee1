package org.blocktransformer.model.backend;

import java.util.ArrayList;
import java.util.List;

/** The backends this JVM can see. (Work in progress: the CPU backend lands next, TornadoVM through ServiceLoader.) */
public final class Backends {
    private Backends() {
    }

    public static List<BackendInfo> list() {
        List<BackendInfo> out = new ArrayList<>();
        out.add(new BackendInfo("cpu", true, "pure Java", List.of("CPU: " + Runtime.getRuntime().availableProcessors() + " threads")));
        return out;
    }
}
