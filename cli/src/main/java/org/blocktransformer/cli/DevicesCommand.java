package org.blocktransformer.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.blocktransformer.model.backend.BackendInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code bt devices}: the compute backends this JVM can use, their devices, and why one is unavailable. */
@Command(name = "devices",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "List the compute backends and devices.",
        description = {
                "List the compute backends (pure-Java CPU; TornadoVM when the JVM was started with it), their"
                        + " devices, and the reason a backend is unavailable. Text format adds a line about the"
                        + " Java runtime (version, heap, Vector API).",
                ""})
public final class DevicesCommand implements Callable<Integer> {

    @ParentCommand
    BtCommand parent;

    @Spec
    CommandSpec spec;

    @Mixin
    LoggingMixin logging;

    @Option(names = "--format", paramLabel = "FMT", defaultValue = "text",
            description = "Output: text or json (one object per backend per line). Default: ${DEFAULT-VALUE}.")
    OutputFormat format;

    @Option(names = "--check",
            description = "Open every device of the available backends and run its self-test (a GPU computes a small"
                    + " Linear layer with each kernel family and compares it with plain Java); report which work."
                    + " Exit status 1 when one fails.")
    boolean check;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        boolean failed = false;
        for (BackendInfo b : parent.services().backends()) {
            List<String> problems = new ArrayList<>();
            for (String d : b.devices()) {
                String problem = check && b.available() ? parent.services().checkDevice(b.name(), selector(d)) : null;
                problems.add(problem);
                failed |= problem != null;
            }
            if (format == OutputFormat.json) {
                ObjectNode o = Json.object();
                o.put("name", b.name());
                o.put("available", b.available());
                o.put("reason", b.reason());
                ArrayNode devices = o.putArray("devices");
                b.devices().forEach(devices::add);
                if (check && b.available()) {
                    ArrayNode checks = o.putArray("checks");
                    for (int i = 0; i < problems.size(); i++) {
                        ObjectNode c = checks.addObject();
                        c.put("device", b.devices().get(i));
                        c.put("ok", problems.get(i) == null);
                        c.put("problem", problems.get(i));
                    }
                }
                out.println(Json.line(o));
            } else {
                out.println(b.name() + ": " + (b.available() ? "available" : "unavailable")
                        + (b.reason() == null || b.reason().isEmpty() ? "" : " (" + b.reason() + ")"));
                for (int i = 0; i < b.devices().size(); i++) {
                    String verdict = !check || !b.available() ? ""
                            : problems.get(i) == null ? "  [self-test ok]" : "  [FAILED: " + problems.get(i) + "]";
                    out.println("  " + b.devices().get(i) + verdict);
                }
            }
        }
        if (format == OutputFormat.text) {
            out.println("java: " + Runtime.version() + " (" + System.getProperty("java.vendor") + "), max heap "
                    + ModelInfo.humanBytes(Runtime.getRuntime().maxMemory()) + ", Vector API "
                    + (VersionProvider.vectorApiPresent() ? "enabled"
                    : "not enabled (start Java with --add-modules jdk.incubator.vector)"));
        }
        out.flush();
        return failed ? 1 : 0;
    }

    /** The selector {@code --device} takes for a listed device: its "backend:device" index, else the default. */
    private static String selector(String listed) {
        String first = listed.strip().split("\\s+", 2)[0];
        return first.matches("\\d+:\\d+") ? first : null;
    }
}
