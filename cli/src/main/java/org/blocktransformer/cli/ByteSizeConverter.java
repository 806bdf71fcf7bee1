package org.blocktransformer.cli;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** "512m", "2g", "1500000" (bytes), "64k" -> bytes. Suffixes are binary (k = 1024). */
public final class ByteSizeConverter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        return parse(value);
    }

    static long parse(String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        if (v.endsWith("ib") || (v.endsWith("b") && v.length() > 1 && !Character.isDigit(v.charAt(v.length() - 2)))) {
            v = v.substring(0, v.length() - (v.endsWith("ib") ? 2 : 1));
        }
        long unit = 1;
        if (!v.isEmpty()) {
            switch (v.charAt(v.length() - 1)) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                case 't' -> unit = 1L << 40;
                default -> unit = 1;
            }
        }
        String digits = unit == 1 ? v : v.substring(0, v.length() - 1);
        try {
            long n = Long.parseLong(digits.strip());
            if (n < 0) {
                throw new TypeConversionException("'" + value + "' is negative");
            }
            return Math.multiplyExact(n, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new TypeConversionException("'" + value + "' is not a size (expected e.g. 512m, 2g or a number of"
                    + " bytes)");
        }
    }
}
