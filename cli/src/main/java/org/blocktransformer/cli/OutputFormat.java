package org.blocktransformer.cli;

/** How a command prints its results. */
public enum OutputFormat {
    /** Readable text. */
    text,
    /** One JSON object per line (JSON Lines). */
    json
}
