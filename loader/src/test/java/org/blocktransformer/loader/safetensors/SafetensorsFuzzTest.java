package org.blocktransformer.loader.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Timeout;

import org.blocktransformer.loader.CheckpointException;
import org.blocktransformer.loader.NonParameterBuffers;
import org.blocktransformer.loader.Refusal;

/**
 * Whole safetensors files (length prefix, JSON header, data section) as arbitrary bytes. Each is either refused with
 * a one-line {@link CheckpointException} or opens, and then every tensor it lists can be read: the header checks
 * alone keep reads inside the data, whatever the offsets and shapes claim. Seeds: {@code SafetensorsFuzzTestInputs}.
 */
class SafetensorsFuzzTest {

    private static final Path NAME = Path.of("model.safetensors");

    @DictionaryEntries({"\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"F32\"", "\"F16\"", "\"BF16\"", "\"I64\"",
            "\"BOOL\"", "\"__metadata__\"", ".attention.bias\"", "[0,0]"})
    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void headerAndOffsets(byte[] file) {
        try (SafetensorsFile f = SafetensorsFile.of(NAME, MemorySegment.ofArray(file), Arena.ofConfined(),
                NonParameterBuffers::matches)) {
            long dataBytes = file.length - 8 - ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            for (String name : f.names()) {
                TensorInfo info = f.info(name);
                assertTrue(0 <= info.begin() && info.begin() <= info.end() && info.end() <= dataBytes, info::toString);
                assertEquals(info.elementCount() * info.dtype().bytes(), info.byteLength(), info::toString);
                if (info.dtype().isFloat()) {
                    assertEquals(info.elementCount(), f.floats(name).length, info::toString);
                } else if (Arrays.stream(info.shape()).allMatch(d -> d <= Integer.MAX_VALUE)) {
                    int[] shape = SafetensorsWriter.ints(info.shape());
                    assertEquals(info.elementCount(), f.longs(name, shape).length, info::toString);
                }
            }
        } catch (CheckpointException refused) {
            Refusal.assertOneLine(refused);
        }
    }
}
