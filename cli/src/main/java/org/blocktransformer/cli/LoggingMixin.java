package org.blocktransformer.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code -v/--verbose} on every command; the count is kept on the root command. */
public final class LoggingMixin {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = {"-v", "--verbose"},
            description = "Show log messages and, on errors, stack traces. Repeat (-vv) for debug logging.")
    void setVerbose(boolean[] flags) {
        if (mixee.root().userObject() instanceof BtCommand root) {
            root.verbosity = flags.length;
        }
    }
}
