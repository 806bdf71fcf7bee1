package org.blocktransformer.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
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

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        for (BackendInfo b : parent.services().backends()) {
            if (format == OutputFormat.json) {
                ObjectNode o = Json.object();
                o.put("name", b.name());
                o.put("available", b.available());
                o.put("reason", b.reason());
                ArrayNode devices = o.putArray("devices");
                b.devices().forEach(devices::add);
                out.println(Json.line(o));
            } else {
                out.println(b.name() + ": " + (b.available() ? "available" : "unavailable")
                        + (b.reason() == null || b.reason().isEmpty() ? "" : " (" + b.reason() + ")"));
                for (String d : b.devices()) {
                    out.println("  " + d);
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
        return 0;
    }
}
