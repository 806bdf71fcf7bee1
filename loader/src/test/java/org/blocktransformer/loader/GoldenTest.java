package org.blocktransformer.loader;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** Absent golden data skips a test, or fails it on CI or when BT_REQUIRE_GOLDEN=1 asks for the data. */
class GoldenTest {

    @Test
    void absentDataSkipsByDefault() {
        TestAbortedException e = assertThrows(TestAbortedException.class,
                () -> Golden.present(false, "golden data folder /x is absent", false));
        assertTrue(e.getMessage().contains("golden data folder /x is absent; skipping (on CI, or with BT_REQUIRE_GOLDEN=1"),
                e.getMessage());
    }

    @Test
    void absentDataFailsWhenRequired() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> Golden.present(false, "golden data folder /x is absent", true));
        assertTrue(e.getMessage().startsWith("golden data folder /x is absent, but CI (or BT_REQUIRE_GOLDEN=1) requires"),
                e.getMessage());
    }

    @Test
    void ciRequiresTheDataUnlessToldNotTo() {
        assertTrue(Golden.required(null, "true"));
        assertTrue(Golden.required(null, "1"));
        assertTrue(Golden.required("1", null));
        assertTrue(Golden.required("1", "false"));
        assertFalse(Golden.required(null, null));
        assertFalse(Golden.required(null, ""));
        assertFalse(Golden.required(null, "false"));
        assertFalse(Golden.required(null, "0"));
        assertFalse(Golden.required("0", "true"));
    }

    @Test
    void presentDataPasses() {
        assertDoesNotThrow(() -> Golden.present(true, "unused", true));
        assertDoesNotThrow(() -> Golden.present(true, "unused", false));
    }
}
