package org.blocktransformer.loader;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the golden reference data ({@code -Dbt.golden.dir}, which the build sets to {@code ../shared/golden}). The
 * data is not in the repository, so by default a test that needs it is skipped, saying why, when it is absent. On CI
 * (the environment variable {@code CI} set, as CI services set it) or with {@value #REQUIRE}{@code =1} the same
 * absence fails the test instead, so that a moved or unmounted folder cannot turn the golden tests into silent skips;
 * {@value #REQUIRE}{@code =0} skips again on a CI machine without the data. Every module's golden tests go through
 * here.
 */
public final class Golden {

    public static final String PROPERTY = "bt.golden.dir";
    public static final String REQUIRE = "BT_REQUIRE_GOLDEN";

    private Golden() {
    }

    /** The golden folder, or a skipped (with {@value #REQUIRE}=1: failed) test when it is not there. */
    public static Path dir() {
        String value = System.getProperty(PROPERTY);
        present(value != null && !value.isBlank(), "golden data not configured: set -D" + PROPERTY
                + "=<folder> (Maven's surefire does this)");
        Path dir = Path.of(value);
        present(Files.isDirectory(dir), "golden data folder " + dir.toAbsolutePath().normalize() + " is absent");
        return dir;
    }

    /** A file or folder inside the golden folder (e.g. a model's directory), which must exist as the folder does. */
    public static Path path(String relative) {
        Path p = dir().resolve(relative);
        present(Files.exists(p), "golden file " + p.toAbsolutePath().normalize() + " is absent");
        return p;
    }

    /**
     * Whether missing data fails rather than skips, from the values of {@value #REQUIRE} and {@code CI} (null when
     * unset): {@value #REQUIRE} decides when it is 1 or 0, else a {@code CI} that is set and not "false" or "0".
     */
    static boolean required(String require, String ci) {
        if ("1".equals(require) || "0".equals(require)) {
            return "1".equals(require);
        }
        return ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false") && !ci.equals("0");
    }

    private static void present(boolean found, String why) {
        present(found, why, required(System.getenv(REQUIRE), System.getenv("CI")));
    }

    /** Skips, or with {@code required} fails, when {@code found} is false. */
    static void present(boolean found, String why, boolean required) {
        if (!found && required) {
            fail(why + ", but CI (or " + REQUIRE + "=1) requires the golden data (" + REQUIRE + "=0 skips instead)");
        }
        assumeTrue(found, () -> why + "; skipping (on CI, or with " + REQUIRE + "=1, this fails instead)");
    }
}
