package org.blocktransformer.loader.tokenizer;

/**
 * Keeps DJL quiet and offline-friendly before its first class loads. Settings the user made are never overridden.
 * <ul>
 *   <li>{@code OPT_OUT_TRACKING=true}: DJL otherwise "calls home" (an HTTP telemetry request, after probing the EC2
 *       metadata address) when a tokenizer is created; a command-line tool has no business doing that.</li>
 *   <li>{@code org.slf4j.simpleLogger.log.ai.djl=error}: with slf4j-simple as the backend (the CLI's), this hides
 *       DJL's CUDA probe warning ("Failed to detect GPU count" on machines with a CUDA runtime but no driver) and its
 *       platform notices. With another slf4j backend, set the {@code ai.djl} logger to ERROR there; without any
 *       backend slf4j is silent apart from its one "no providers" notice.</li>
 * </ul>
 * DJL's native library is loaded through JNA; run the JVM with {@code --enable-native-access=ALL-UNNAMED} to avoid
 * the JDK's restricted-method warning.
 */
final class DjlQuiet {

    static final String TRACKING = "OPT_OUT_TRACKING";
    static final String SIMPLE_LOGGER_DJL = "org.slf4j.simpleLogger.log.ai.djl";

    private DjlQuiet() {
    }

    static void apply() {
        if (System.getenv(TRACKING) == null && System.getProperty(TRACKING) == null) {
            System.setProperty(TRACKING, "true");
        }
        if (System.getProperty(SIMPLE_LOGGER_DJL) == null) {
            System.setProperty(SIMPLE_LOGGER_DJL, "error");
        }
    }
}
