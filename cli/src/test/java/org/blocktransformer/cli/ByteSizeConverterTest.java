package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class ByteSizeConverterTest {
    @Test
    void parsesSizes() {
        assertEquals(1500, ByteSizeConverter.parse("1500"));
        assertEquals(64L << 10, ByteSizeConverter.parse("64k"));
        assertEquals(512L << 20, ByteSizeConverter.parse("512M"));
        assertEquals(2L << 30, ByteSizeConverter.parse("2g"));
        assertEquals(2L << 30, ByteSizeConverter.parse("2GiB"));
        assertEquals(3L << 20, ByteSizeConverter.parse("3mb"));
        assertEquals(0, ByteSizeConverter.parse("0"));
        assertThrows(TypeConversionException.class, () -> ByteSizeConverter.parse("1.5g"));
        assertThrows(TypeConversionException.class, () -> ByteSizeConverter.parse("g"));
        assertThrows(TypeConversionException.class, () -> ByteSizeConverter.parse(""));
        assertThrows(TypeConversionException.class, () -> ByteSizeConverter.parse("99999999999t"));
    }
}
