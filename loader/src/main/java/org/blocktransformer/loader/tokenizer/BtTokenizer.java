package org.blocktransformer.loader.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.blocktransformer.loader.CheckpointException;

/**
 * A Hugging Face {@code tokenizer.json} (byte-level BPE as in GPT-NeoX / Pythia), run by DJL's binding of the Rust
 * {@code tokenizers} library, so encoding matches Python's exactly.
 *
 * <p>DJL's defaults are wrong for generation: without a configured length it silently truncates every text to 512
 * tokens, and it may pad or add special tokens. Here truncation and padding are off and nothing is added: encode
 * returns exactly {@code Tokenizer.encode(text).ids} of Python. See {@link DjlQuiet} for the log noise DJL makes.
 */
public final class BtTokenizer implements AutoCloseable {

    public static final String TOKENIZER_FILE = "tokenizer.json";

    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;

    private BtTokenizer(Path file, HuggingFaceTokenizer tokenizer, int vocabSize) {
        this.file = file;
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
    }

    /** Loads {@code path}: a tokenizer.json file, or a directory holding one. */
    public static BtTokenizer load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve(TOKENIZER_FILE) : path;
        if (!Files.isRegularFile(file)) {
            throw CheckpointException.inFile(file, "tokenizer file not found");
        }
        int vocabSize = vocabSize(file);
        DjlQuiet.apply();
        try {
            HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optTruncation(false)
                    .optPadding(false)
                    .optAddSpecialTokens(false)
                    .build();
            return new BtTokenizer(file, tokenizer, vocabSize);
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException(file + ": cannot load tokenizer: " + e.getMessage(), e);
        }
    }

    /** Token ids of {@code text}, nothing added, never truncated. */
    public int[] encode(String text) {
        Encoding encoding = tokenizer.encode(text, false, false);
        long[] ids = encoding.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /** Text of {@code ids}, special tokens included. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /** Text of {@code ids}; {@code skipSpecial} drops special tokens such as {@code <|endoftext|>}. */
    public String decode(int[] ids, boolean skipSpecial) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException("token id " + ids[i] + " is outside the vocabulary [0, "
                        + vocabSize + ") of " + file);
            }
            longs[i] = ids[i];
        }
        return tokenizer.decode(longs, skipSpecial);
    }

    /** One more than the largest id of the vocabulary and the added tokens. */
    public int vocabSize() {
        return vocabSize;
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    /**
     * The vocabulary size is not exposed by DJL; read it from the file: the largest id in {@code model.vocab} or
     * {@code added_tokens}, plus one.
     */
    private static int vocabSize(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot parse tokenizer JSON: " + e.getMessage(), e);
        }
        int max = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                max = Math.max(max, e.getValue().asInt(-1));
            }
        }
        for (JsonNode added : root.path("added_tokens")) {
            max = Math.max(max, added.path("id").asInt(-1));
        }
        if (max < 0) {
            throw CheckpointException.inFile(file, "no vocabulary found (model.vocab / added_tokens)");
        }
        return max + 1;
    }
}
