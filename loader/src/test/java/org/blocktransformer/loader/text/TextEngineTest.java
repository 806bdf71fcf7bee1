package org.blocktransformer.loader.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.blocktransformer.examples.QuickStart;
import org.blocktransformer.loader.Golden;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.generate.GenerationRequest;
import org.junit.jupiter.api.Test;

/** The text facade on a golden model with the golden tokenizer. */
class TextEngineTest {

    private static Path golden() {
        Golden.path("bt-prefix-l4");
        return Golden.dir();
    }

    @Test
    void quickStartGeneratesTheEngineTokensAsText() {
        Path g = golden();
        Path model = g.resolve("bt-prefix-l4");
        Path tokenizer = g.resolve("tokenizer/tokenizer.json");
        TextResult r = QuickStart.run(model.toString(), tokenizer, "The quick brown fox");
        try (var bt = TextEngine.open(model.toString(), tokenizer, EngineOptions.defaults())) {
            int[] prompt = bt.tokenizer().orElseThrow().encode("The quick brown fox");
            assertArrayEquals(prompt, r.promptIds());
            var direct = bt.engine().generate(new GenerationRequest(prompt, 24,
                    org.blocktransformer.model.generate.SamplingParams.GREEDY, true));
            assertArrayEquals(direct.generatedIds(), r.ids());
            assertEquals(bt.tokenizer().orElseThrow().decode(r.ids()), r.text());
        }
    }

    @Test
    void streamingPiecesConcatenateToTheText() throws Exception {
        Path g = golden();
        try (var bt = TextEngine.open(g.resolve("bt-summation-l4").toString(), g.resolve("tokenizer"),
                EngineOptions.defaults())) {
            var options = GenerateOptions.sample(40, 0.9, 7).ignoringEos();
            TextResult whole = bt.generate("Hello", options);
            List<String> pieces = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> done = new CompletableFuture<>();
            bt.stream("Hello", options).subscribe(new Flow.Subscriber<>() {
                @Override
                public void onSubscribe(Flow.Subscription s) {
                    s.request(Long.MAX_VALUE);
                }

                @Override
                public void onNext(String item) {
                    pieces.add(item);
                }

                @Override
                public void onError(Throwable t) {
                    done.completeExceptionally(t);
                }

                @Override
                public void onComplete() {
                    done.complete(null);
                }
            });
            done.get(60, TimeUnit.SECONDS);
            assertFalse(pieces.isEmpty());
            assertEquals(whole.text(), String.join("", pieces));
        }
    }

    @Test
    void emptyPromptIsRejected() {
        Path g = golden();
        try (var bt = TextEngine.open(g.resolve("vanilla-neox").toString(), g.resolve("tokenizer"), EngineOptions.defaults())) {
            var error = assertThrows(IllegalArgumentException.class, () -> bt.generate("", GenerateOptions.greedy(3)));
            assertEquals("the prompt encodes to no tokens", error.getMessage());
        }
    }

    @Test
    void optionsForNoTokensAreRefused() {
        var error = assertThrows(IllegalArgumentException.class, () -> GenerateOptions.greedy(0));
        assertEquals("max new tokens must be at least 1, got 0", error.getMessage());
    }

    @Test
    void aClosedEngineSaysSo() {
        Path g = golden();
        var bt = TextEngine.open(g.resolve("vanilla-neox").toString(), g.resolve("tokenizer"), EngineOptions.defaults());
        bt.close();
        bt.close();
        var error = assertThrows(IllegalStateException.class, () -> bt.generate("Hello", GenerateOptions.greedy(3)));
        assertEquals("this TextEngine is closed", error.getMessage());
    }
}
