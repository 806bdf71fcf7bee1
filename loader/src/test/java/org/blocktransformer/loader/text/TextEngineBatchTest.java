package org.blocktransformer.loader.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.blocktransformer.loader.LoadProgress;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.loader.TinyCheckpoints;
import org.blocktransformer.loader.TinyTokenizers;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.weights.MatrixLayout;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Token-id requests through the text engine, on a tiny checkpoint (vocabulary 512) with byte-level tokenizers of
 * chosen sizes: what a listener hears, results with and without a tokenizer, and the tokenizer/model vocabulary
 * check.
 */
class TextEngineBatchTest {

    @TempDir
    static Path tmp;
    static ModelWeights weights;

    @BeforeAll
    static void load() {
        weights = ModelSources.load(TinyCheckpoints.vanilla(tmp.resolve("model")).toString(), WeightFormat.F32, 0,
                MatrixLayout.PANELS, LoadProgress.NONE);
    }

    private static TextEngine open(int tokenizerSize) {
        BtTokenizer tok = tokenizerSize == 0 ? null
                : BtTokenizer.load(TinyTokenizers.bytes(tmp.resolve("tok-" + tokenizerSize + ".json"), tokenizerSize));
        return TextEngine.open(weights, tok, EngineOptions.defaults().withThreads(1).withMaxBatchSize(4));
    }

    private static List<GenerationRequest> requests() {
        return List.of(new GenerationRequest(new int[] {104, 105}, 12, SamplingParams.GREEDY, false),
                new GenerationRequest(new int[] {7}, 5, SamplingParams.sample(1.0, 0, 1.0, 3), false),
                new GenerationRequest(new int[] {300, 301, 302}, 9, SamplingParams.GREEDY, false));
    }

    /** What a listener heard: every call in order. */
    private static final class Recorder implements BatchListener {
        final List<String> calls = new ArrayList<>();
        final StringBuilder[] pieces = {new StringBuilder(), new StringBuilder(), new StringBuilder()};
        final List<List<Integer>> ids = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        final TextResult[] finished = new TextResult[3];
        final boolean decodes;

        Recorder(boolean decodes) {
            this.decodes = decodes;
        }

        @Override
        public void token(int index, int id, String text) {
            assertNull(finished[index], "a token after its request finished");
            ids.get(index).add(id);
            if (text != null) {
                pieces[index].append(text);
            }
            calls.add(index + ":" + id + ":" + text);
        }

        @Override
        public void finished(int index, TextResult result, String tail) {
            finished[index] = result;
            if (tail != null) {
                pieces[index].append(tail);
            }
            calls.add(index + ": finished, tail " + tail);
        }

        @Override
        public boolean decodesTokens() {
            return decodes;
        }
    }

    @Test
    void theListenerHearsEveryTokenThenItsResultAndThePiecesMakeTheText() {
        List<GenerationResult> direct;
        try (InferenceEngine alone = InferenceEngine.open(weights, EngineOptions.defaults().withThreads(1))) {
            direct = alone.generateAll(requests());
        }
        try (TextEngine engine = open(512)) {
            Recorder heard = new Recorder(true);
            List<TextResult> results = engine.generateAll(requests(), heard);
            BtTokenizer tok = engine.tokenizer().orElseThrow();
            for (int i = 0; i < 3; i++) {
                TextResult r = results.get(i);
                assertArrayEquals(direct.get(i).generatedIds(), r.ids(), "the engine's tokens, request " + i);
                assertArrayEquals(r.ids(), heard.ids.get(i).stream().mapToInt(Integer::intValue).toArray());
                assertEquals(tok.decode(r.ids()), r.text());
                assertEquals(r.text(), heard.pieces[i].toString(), "pieces + tail = text, request " + i);
                assertTrue(heard.finished[i] == r, "the listener got the result returned");
                assertTrue(r.queuedMillis() <= r.firstTokenMillis() && r.firstTokenMillis() <= r.totalMillis());
            }
        }
    }

    @Test
    void withoutATokenizerOrDecodingThereIsNoText() {
        try (TextEngine engine = open(0)) {
            Recorder heard = new Recorder(true);
            List<TextResult> results = engine.generateAll(requests(), heard);
            results.forEach(r -> assertNull(r.text()));
            assertTrue(heard.calls.stream().allMatch(c -> c.endsWith(":null") || c.endsWith("tail null")), heard.calls::toString);
            var error = assertThrows(IllegalStateException.class, () -> engine.generate("hi", GenerateOptions.greedy(2)));
            assertTrue(error.getMessage().startsWith("this TextEngine has no tokenizer"), error.getMessage());
        }
        try (TextEngine engine = open(512)) {
            Recorder counting = new Recorder(false);
            List<TextResult> results = engine.generateAll(requests(), counting);
            assertTrue(counting.calls.stream().allMatch(c -> c.endsWith(":null") || c.endsWith("tail null")));
            assertFalse(results.getFirst().text().isEmpty(), "the result still has its text");
        }
    }

    /**
     * A tokenizer smaller than the model's vocabulary is accepted (Pythia: 50,277 tokens, 50,304 ids), and the ids it
     * has no token for add no text; one whose ids go beyond the model's is refused, naming the file.
     */
    @Test
    void theTokenizerMustNotExceedTheModelsVocabulary() {
        try (TextEngine engine = open(256)) {
            TextResult r = engine.generateAll(requests(), BatchListener.NONE).get(2);
            int[] known = Arrays.stream(r.ids()).filter(id -> id < 256).toArray();
            assertTrue(known.length < r.ids().length, "the model generated ids past the tokenizer's: "
                    + Arrays.toString(r.ids()));
            assertEquals(engine.tokenizer().orElseThrow().decode(known), r.text());
        }
        Path big = TinyTokenizers.bytes(tmp.resolve("big.json"), 513);
        BtTokenizer tok = BtTokenizer.load(big);
        var e = assertThrows(IllegalArgumentException.class, () -> TextEngine.open(weights, tok,
                EngineOptions.defaults()));
        assertEquals(big + ": the tokenizer's ids go up to 512, beyond the model's vocabulary of 512 ids [0, 512): a"
                + " tokenizer for another model?", e.getMessage());
    }

    @Test
    void anInvalidRequestIsRefusedBeforeAnyStarts() {
        try (TextEngine engine = open(512)) {
            var e = assertThrows(IllegalArgumentException.class, () -> engine.generateAll(List.of(
                    GenerationRequest.greedy(new int[] {1}, 2), GenerationRequest.greedy(new int[] {512}, 2)),
                    BatchListener.NONE));
            assertEquals("request 1: prompt token 0 has id 512, outside the vocabulary [0, 512)", e.getMessage());
        }
    }
}
