package org.blocktransformer.loader.safetensors;

import static org.blocktransformer.loader.safetensors.SafetensorsWriter.entry;
import static org.blocktransformer.loader.safetensors.SafetensorsWriter.writeRaw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.blocktransformer.loader.CheckpointException;
import org.blocktransformer.model.weights.Bf16Matrix;

/** Reading well-formed files, and one test per kind of malformed file, each checking the message. */
class SafetensorsFileTest {

    @TempDir
    Path tmp;

    private static final float[] SIX = {1.5f, -2.25f, 3, 0.1f, 1e-3f, -65504};

    private Path wellFormed() throws IOException {
        Map<String, SafetensorsWriter.Tensor> t = new LinkedHashMap<>();
        t.put("w", SafetensorsWriter.f32(SIX, 2, 3));
        t.put("h", SafetensorsWriter.f16(SIX, 6));
        t.put("b", SafetensorsWriter.bf16(SIX, 3, 2));
        t.put("ids", SafetensorsWriter.i64(new long[] {7, -1, Long.MAX_VALUE}, 3));
        t.put("empty", SafetensorsWriter.f32(new float[0], 0, 4));
        Path file = tmp.resolve("ok.safetensors");
        SafetensorsWriter.write(file, t);
        return file;
    }

    @Test
    void readsEveryDtype() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(wellFormed())) {
            assertEquals(Set.of("w", "h", "b", "ids", "empty"), f.names());
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertTrue(f.has("w"));
            assertFalse(f.has("x"));
            assertEquals(DType.F16, f.info("h").dtype());
            assertArrayEquals(new long[] {3, 2}, f.info("b").shape());
            assertArrayEquals(SIX, f.floats("w", 2, 3));
            float[] half = f.floats("h", 6);
            float[] brain = f.floats("b");
            for (int i = 0; i < SIX.length; i++) {
                assertEquals(Float.float16ToFloat(Float.floatToFloat16(SIX[i])), half[i]);
                assertEquals(Bf16Matrix.toFloat(Bf16Matrix.fromFloat(SIX[i])), brain[i]);
                assertEquals(Bf16Matrix.fromFloat(SIX[i]), f.bf16("w", 2, 3)[i]);
                // float16 bits: F16 copied as is, F32 rounded to nearest.
                assertEquals(Float.floatToFloat16(SIX[i]), f.f16("h", 6)[i]);
                assertEquals(Float.floatToFloat16(SIX[i]), f.f16("w", 2, 3)[i]);
            }
            assertArrayEquals(new long[] {7, -1, Long.MAX_VALUE}, f.longs("ids", 3));
            assertEquals(0, f.floats("empty", 0, 4).length);
        }
    }

    @Test
    void float16ReadsRefuseValuesItCannotHold() throws IOException {
        Map<String, SafetensorsWriter.Tensor> t = new LinkedHashMap<>();
        t.put("big", SafetensorsWriter.f32(new float[] {1, 70000}, 2));
        t.put("inf", SafetensorsWriter.f16(new float[] {1, Float.POSITIVE_INFINITY}, 2));
        Path file = tmp.resolve("range.safetensors");
        SafetensorsWriter.write(file, t);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertMessage(assertThrows(CheckpointException.class, () -> f.f16("big", 2)), "'big'", "index 1",
                    "70000.0 is outside float16's range");
            assertMessage(assertThrows(CheckpointException.class, () -> f.f16("inf", 2)), "'inf'",
                    "holds Infinity at index 1");
        }
    }

    @Test
    void wrongExpectedShapeNamesFileTensorAndBothShapes() throws IOException {
        Path file = wellFormed();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> f.floats("w", 3, 2));
            assertMessage(e, file.toString(), "'w'", "expected shape [3, 2] but found [2, 3]");
        }
    }

    @Test
    void wrongDtypeForLongsIsReported() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(wellFormed())) {
            assertMessage(assertThrows(CheckpointException.class, () -> f.longs("w", 2, 3)), "'w'",
                    "expected dtype I64 but found F32");
            assertMessage(assertThrows(CheckpointException.class, () -> f.floats("ids")), "'ids'",
                    "expected a float tensor");
        }
    }

    @Test
    void absentTensorIsNamed() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(wellFormed())) {
            assertMessage(assertThrows(CheckpointException.class, () -> f.info("nope")), "'nope'", "no such tensor");
        }
    }

    @Test
    void truncatedFileShorterThanItsHeaderSays() throws IOException {
        Path full = wellFormed();
        byte[] bytes = Files.readAllBytes(full);
        Path cut = tmp.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 5));
        assertMessage(open(cut), cut.toString(), "run past the end of the data section", "truncated");
    }

    @Test
    void fileShorterThanTheHeaderLength() throws IOException {
        Path file = tmp.resolve("tiny.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertMessage(open(file), file.toString(), "3 bytes, too short");
    }

    @Test
    void headerLengthLargerThanFile() throws IOException {
        Path file = tmp.resolve("long-header.safetensors");
        writeRaw(file, 1000, "{}", new byte[0]);
        assertMessage(open(file), file.toString(), "header length 1000 is larger than the 2 bytes");
    }

    @Test
    void headerNotJson() throws IOException {
        Path file = tmp.resolve("garbage.safetensors");
        writeRaw(file, "{\"w\": {dtype", new byte[16]);
        assertMessage(open(file), file.toString(), "header is not valid JSON");
    }

    @Test
    void headerNotAnObject() throws IOException {
        Path file = tmp.resolve("array.safetensors");
        writeRaw(file, "[1, 2]", new byte[0]);
        assertMessage(open(file), "header must be a JSON object, found array");
    }

    @Test
    void duplicateTensorNamesAreRejected() throws IOException {
        Path file = tmp.resolve("dup.safetensors");
        writeRaw(file, "{" + entry("w", "F32", new long[] {1}, 0, 4) + "," + entry("w", "F32", new long[] {1}, 4, 8)
                + "}", new byte[8]);
        assertMessage(open(file), "header is not valid JSON at line 1, column ", "Duplicate field 'w'");
    }

    @Test
    void unknownDtype() throws IOException {
        Path file = tmp.resolve("f64.safetensors");
        writeRaw(file, "{" + entry("w", "F64", new long[] {2}, 0, 16) + "}", new byte[16]);
        assertMessage(open(file), file.toString(), "tensor 'w'", "dtype F64 is not supported");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        Path file = tmp.resolve("range.safetensors");
        writeRaw(file, "{" + entry("w", "F32", new long[] {4}, 100, 116) + "}", new byte[16]);
        assertMessage(open(file), "tensor 'w'", "data_offsets [100, 116]", "out of range");
    }

    @Test
    void offsetsBackwards() throws IOException {
        Path file = tmp.resolve("backwards.safetensors");
        writeRaw(file, "{" + entry("w", "F32", new long[] {0}, 8, 4) + "}", new byte[16]);
        assertMessage(open(file), "tensor 'w'", "end before they begin");
    }

    @Test
    void negativeShape() throws IOException {
        Path file = tmp.resolve("negative.safetensors");
        writeRaw(file, "{" + entry("w", "F32", new long[] {-4}, 0, 16) + "}", new byte[16]);
        assertMessage(open(file), "tensor 'w'", "\"shape\" must hold non-negative integers");
    }

    @Test
    void overlappingTensors() throws IOException {
        Path file = tmp.resolve("overlap.safetensors");
        writeRaw(file, "{" + entry("a", "F32", new long[] {4}, 0, 16) + "," + entry("b", "F32", new long[] {4}, 8, 24)
                + "}", new byte[24]);
        assertMessage(open(file), file.toString(), "tensor 'b'", "overlap tensor 'a'");
    }

    @Test
    void bytesAfterTheLastTensorAreRefused() throws IOException {
        byte[] ok = Files.readAllBytes(wellFormed());
        Path file = tmp.resolve("trailing.safetensors");
        Files.write(file, Arrays.copyOf(ok, ok.length + 3));
        assertMessage(open(file), file.toString(), "3 trailing bytes after the last tensor's data",
                "cover the data section exactly");
    }

    @Test
    void dataWithoutAnyTensorIsRefused() throws IOException {
        Path file = tmp.resolve("no-tensors.safetensors");
        writeRaw(file, "{\"__metadata__\":{\"format\":\"pt\"}}", new byte[4]);
        assertMessage(open(file), "4 trailing bytes after the header, which lists no tensor data");
    }

    @Test
    void gapsBetweenTensorsAreRefused() throws IOException {
        Path file = tmp.resolve("gap.safetensors");
        writeRaw(file, "{" + entry("a", "F32", new long[] {2}, 0, 8) + "," + entry("b", "F32", new long[] {2}, 12, 20)
                + "}", new byte[20]);
        assertMessage(open(file), "tensor 'b'", "data_offsets [12, 20] leave bytes [8, 12) of the data section unused",
                "after tensor 'a'");
    }

    @Test
    void bytesBeforeTheFirstTensorAreRefused() throws IOException {
        Path file = tmp.resolve("front-gap.safetensors");
        writeRaw(file, "{" + entry("a", "F32", new long[] {1}, 4, 8) + "}", new byte[8]);
        assertMessage(open(file), "tensor 'a'", "leave bytes [0, 4)", "before the first tensor");
    }

    /** An empty tensor inside another one's bytes is an overlap too: the reference refuses it. */
    @Test
    void emptyTensorInsideAnotherIsAnOverlap() throws IOException {
        Path file = tmp.resolve("inside.safetensors");
        writeRaw(file, "{" + entry("a", "F32", new long[] {2}, 0, 8) + "," + entry("z", "F32", new long[] {0}, 4, 4)
                + "}", new byte[8]);
        assertMessage(open(file), "tensor 'z'", "data_offsets [4, 4] overlap tensor 'a' at [0, 8]");
    }

    /** Skipped buffers are not read, but their bytes count: a file with one is still covered exactly. */
    @Test
    void skippedEntriesCoverTheirBytes() throws IOException {
        Path file = tmp.resolve("skipped.safetensors");
        writeRaw(file, "{" + entry("mask", "BOOL", new long[] {4}, 0, 4) + "," + entry("w", "F32", new long[] {1}, 4, 8)
                + "}", new byte[8]);
        try (SafetensorsFile f = SafetensorsFile.open(file, name -> name.equals("mask"))) {
            assertEquals(Set.of("w"), f.names());
        }
        Path gap = tmp.resolve("skipped-gap.safetensors");
        writeRaw(gap, "{" + entry("mask", "BOOL", new long[] {4}, 0, 4) + "," + entry("w", "F32", new long[] {1}, 8, 12)
                + "}", new byte[12]);
        assertMessage(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(gap, "mask"::equals)),
                "tensor 'w'", "leave bytes [4, 8)", "after tensor 'mask'");
    }

    @Test
    void headerThatIsNotUtf8IsRefused() throws IOException {
        Path file = tmp.resolve("latin1.safetensors");
        byte[] json = ("{" + entry("caf\u00e9", "F32", new long[] {1}, 0, 4) + "}")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + json.length + 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        Files.write(file, b.putLong(json.length).put(json).put(new byte[4]).array());
        assertMessage(open(file), file.toString(), "header is not valid UTF-8");
    }

    /** Names come from the file: a line break in one is escaped, so that the message stays one line. */
    @Test
    void messagesQuotingTheFileStayOnOneLine() throws IOException {
        Path file = tmp.resolve("newline.safetensors");
        writeRaw(file, "{" + entry("a\\nb", "F64", new long[] {1}, 0, 8) + "}", new byte[8]);
        CheckpointException e = open(file);
        assertMessage(e, "tensor 'a\\nb'");
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void sizeNotMatchingShapeTimesDtype() throws IOException {
        Path file = tmp.resolve("size.safetensors");
        writeRaw(file, "{" + entry("w", "BF16", new long[] {2, 3}, 0, 16) + "}", new byte[16]);
        assertMessage(open(file), "tensor 'w'", "hold 16 bytes but shape [2, 3] of BF16 needs 12 bytes");
    }

    @Test
    void missingFile() {
        Path file = tmp.resolve("absent.safetensors");
        assertMessage(open(file), file.toString(), "file not found");
    }

    @Test
    void arraysOutliveTheMapping() throws IOException {
        float[] w;
        try (SafetensorsFile f = SafetensorsFile.open(wellFormed())) {
            w = f.floats("w");
        }
        assertArrayEquals(SIX, w);
    }

    private CheckpointException open(Path file) {
        return assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file).close());
    }

    static void assertMessage(Throwable e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "message \"" + e.getMessage() + "\" lacks \"" + part + "\"");
        }
    }
}
