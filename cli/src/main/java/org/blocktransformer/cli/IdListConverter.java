package org.blocktransformer.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** "1,2,3" -> {1, 2, 3} for options that take token ids. */
public final class IdListConverter implements ITypeConverter<int[]> {
    @Override
    public int[] convert(String value) {
        try {
            return Prompts.parseIdList(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
