package org.blocktransformer.loader.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

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
        TokenizerFile declared = TokenizerFile.read(file);
        DjlQuiet.apply();
        HuggingFaceTokenizer tokenizer = null;
        try {
            tokenizer = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optTruncation(false)
                    .optPadding(false)
                    .optAddSpecialTokens(false)
                    .build();
            long max = declared.declaredSize() - 1;
            for (String content : declared.addedOutsideVocab()) {
                for (long id : tokenizer.encode(content, false, false).getIds()) {
                    max = Math.max(max, id);
                }
            }
            return new BtTokenizer(file, tokenizer, TokenizerFile.size(file, max));
        } catch (IOException | RuntimeException e) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            if (e instanceof CheckpointException c) {
                throw c;
            }
            throw new CheckpointException(file + ": cannot load tokenizer: " + e.getMessage(), e);
        }
    }

    /**
     * Token ids of {@code text}, nothing added, never truncated. A tokenizer file can load yet be unable to encode
     * some text (a WordLevel model whose unknown token is not in its vocabulary meets an unknown word): that is a
     * {@link CheckpointException} naming the file, not the native library's bare RuntimeException.
     */
    public int[] encode(String text) {
        Encoding encoding;
        try {
            encoding = tokenizer.encode(text, false, false);
        } catch (RuntimeException e) {
            throw new CheckpointException(file + ": the tokenizer cannot encode this text: " + e.getMessage(), e);
        }
        long[] ids = encoding.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            // The vocabulary size is worked out from the file; an id beyond it would only fail much later.
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw CheckpointException.inFile(file, "the tokenizer produced token id " + ids[i]
                        + ", outside its vocabulary [0, " + vocabSize + ")");
            }
            out[i] = (int) ids[i];
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
        try {
            return tokenizer.decode(longs, skipSpecial);
        } catch (RuntimeException e) {
            throw new CheckpointException(file + ": the tokenizer cannot decode these ids: " + e.getMessage(), e);
        }
    }

    /**
     * Text of ids a model generated: an id past this tokenizer's vocabulary has no token and adds no text, as in
     * Hugging Face's decode. A model's vocabulary may be padded beyond its tokenizer's (Pythia: 50,277 tokens, 50,304
     * ids), and a model with random weights does generate such ids.
     */
    public String decodeGenerated(int[] ids) {
        return decode(java.util.Arrays.stream(ids).filter(id -> id < vocabSize).toArray());
    }

    /**
     * Refuses this tokenizer for a model whose vocabulary has {@code modelVocabSize} ids when the tokenizer's ids can
     * exceed them: a prompt could then hold ids the model has no embedding for. A tokenizer smaller than the model's
     * vocabulary is normal (Pythia pads its 50,277 tokens to 50,304 ids) and accepted.
     *
     * @throws IllegalArgumentException saying so, naming the file
     */
    public void requireFits(int modelVocabSize) {
        if (vocabSize > modelVocabSize) {
            throw new IllegalArgumentException(file + ": the tokenizer's ids go up to " + (vocabSize - 1)
                    + ", beyond the model's vocabulary of " + modelVocabSize + " ids [0, " + modelVocabSize
                    + "): a tokenizer for another model?");
        }
    }

    /** One more than the largest id of the vocabulary and the added tokens (see {@link TokenizerFile}). */
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
}
