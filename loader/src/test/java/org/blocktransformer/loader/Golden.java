package org.blocktransformer.loader;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the golden reference data ({@code -Dbt.golden.dir}); tests skip, saying why, when it is absent. */
public final class Golden {

    public static final String PROPERTY = "bt.golden.dir";

    private Golden() {
    }

    /** The golden folder, or a skipped test when it is not configured or not there. */
    public static Path dir() {
        String value = System.getProperty(PROPERTY);
        assumeTrue(value != null && !value.isBlank(),
                "golden data not configured: set -D" + PROPERTY + "=<folder> (Maven's surefire does this)");
        Path dir = Path.of(value);
        assumeTrue(Files.isDirectory(dir), "golden data folder " + dir + " is absent; skipping");
        return dir;
    }

    /** A sub-path of the golden folder that must exist when the folder does. */
    public static Path path(String relative) {
        Path p = dir().resolve(relative);
        assumeTrue(Files.exists(p), "golden file " + p + " is absent; skipping");
        return p;
    }
}
