package org.blocktransformer.loader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Byte-level BPE {@code tokenizer.json} files of any vocabulary size, for tests that need a real tokenizer but not
 * the golden one (which may be absent) or one of a particular size. Ids 0..255 are the bytes 0..255, so text encodes
 * to its UTF-8 bytes, one id each ("hi" is [104, 105]); ids from 256 on are two-byte tokens that no merge makes, so
 * only decoding meets them (a model's output).
 */
public final class TinyTokenizers {

    private TinyTokenizers() {
    }

    /** Writes a tokenizer of ids [0, {@code size}) (256 or more) to {@code file}; returns {@code file}. */
    public static Path bytes(Path file, int size) {
        if (size < 256 || size > 256 + 256 * 256) {
            throw new IllegalArgumentException("size must be in [256, 65792], got " + size);
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.putArray("added_tokens");
        root.putNull("normalizer");
        root.putNull("post_processor");
        ObjectNode byteLevel = json.createObjectNode();
        byteLevel.put("type", "ByteLevel");
        byteLevel.put("add_prefix_space", false);
        byteLevel.put("trim_offsets", true);
        byteLevel.put("use_regex", true);
        root.set("pre_tokenizer", byteLevel);
        root.set("decoder", byteLevel);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        String[] chars = byteChars();
        for (int id = 0; id < size; id++) {
            vocab.put(id < 256 ? chars[id] : chars[(id - 256) / 256] + chars[(id - 256) % 256], id);
        }
        model.putArray("merges");
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            json.writeValue(file.toFile(), root);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The character byte-level BPE stands for each byte with (GPT-2's bytes_to_unicode): printable Latin-1 bytes
     * stand for themselves, the others for the characters from U+0100 on, in byte order.
     */
    private static String[] byteChars() {
        String[] out = new String[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            out[b] = Character.toString(printable ? b : next++);
        }
        return out;
    }
}
