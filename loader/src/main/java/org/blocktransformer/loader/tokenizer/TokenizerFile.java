package org.blocktransformer.loader.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import org.blocktransformer.loader.CheckpointException;
import org.blocktransformer.loader.JsonSyntax;

/**
 * What a {@code tokenizer.json} says about its ids, read before the native library sees the file (which also refuses
 * malformed JSON here, with a one-line message giving the file, line and column). DJL does not expose the vocabulary
 * size, so it comes from here: the largest id of {@code model.vocab} (an object of ids, or Unigram's list) and of
 * {@code added_tokens}, plus one.
 *
 * @param declaredSize      one more than the largest id the file states
 * @param addedOutsideVocab contents of added tokens that are not in {@code model.vocab}: the library gives each an id
 *                          of its own after the vocabulary, whatever id the file states, so only it can say which
 */
record TokenizerFile(int declaredSize, List<String> addedOutsideVocab) {

    /** The tokenizers library refuses content after the JSON value too. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    TokenizerFile {
        addedOutsideVocab = List.copyOf(addedOutsideVocab);
    }

    static TokenizerFile read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new CheckpointException(JsonSyntax.inFile(file, e), e);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw CheckpointException.inFile(file, "a tokenizer file must hold a JSON object");
        }
        long max = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                max = Math.max(max, id(e.getValue()));
            }
        } else if (vocab.isArray()) {
            max = vocab.size() - 1;
        }
        List<String> outside = new ArrayList<>();
        for (JsonNode added : root.path("added_tokens")) {
            max = Math.max(max, id(added.path("id")));
            JsonNode content = added.path("content");
            if (content.isTextual() && !(vocab.isObject() && vocab.has(content.textValue()))) {
                outside.add(content.textValue());
            }
        }
        if (max < 0) {
            throw CheckpointException.inFile(file, "no vocabulary found (model.vocab / added_tokens)");
        }
        return new TokenizerFile(size(file, max), outside);
    }

    /** One more than {@code maxId}, refused when that is not an int. */
    static int size(Path file, long maxId) {
        if (maxId >= Integer.MAX_VALUE) {
            throw CheckpointException.inFile(file, "token id " + maxId + " is too large");
        }
        return (int) maxId + 1;
    }

    /** A token id as the file states it; -1 for anything that is not a non-negative integer. */
    private static long id(JsonNode n) {
        return n.isIntegralNumber() && n.canConvertToLong() && n.asLong() >= 0 ? n.asLong() : -1;
    }
}
