package org.blocktransformer.cli;

/**
 * Sets slf4j-simple's level before the first logger is created. The defaults (warnings only, on stderr) live in
 * {@code simplelogger.properties}; system properties given on the command line still win.
 */
final class Logging {
    private static final String PREFIX = "org.slf4j.simpleLogger.";

    private Logging() {
    }

    static void configure(int verbosity) {
        if (verbosity <= 0) {
            return;
        }
        String level = verbosity == 1 ? "info" : "debug";
        System.setProperty(PREFIX + "defaultLogLevel", level);
        System.setProperty(PREFIX + "log.ai.djl", level);
        System.setProperty(PREFIX + "showDateTime", "true");
        System.setProperty(PREFIX + "dateTimeFormat", "HH:mm:ss.SSS");
    }
}
