package org.blocktransformer.examples;

import java.nio.file.Path;
import org.blocktransformer.loader.text.GenerateOptions;
import org.blocktransformer.loader.text.TextEngine;
import org.blocktransformer.loader.text.TextResult;
import org.blocktransformer.model.engine.EngineOptions;

/**
 * The library in six lines: a checkpoint (or preset) and a tokenizer to generated text. README.md shows this
 * class; its test runs it.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -cp ... org.blocktransformer.examples.QuickStart MODEL TOKENIZER "prompt"}
 */
public final class QuickStart {
    private QuickStart() {
    }

    public static TextResult run(String model, Path tokenizer, String prompt) {
        try (var bt = TextEngine.open(model, tokenizer, EngineOptions.defaults())) {
            TextResult r = bt.generate(prompt, GenerateOptions.greedy(24));
            System.out.printf("%s%n[%d tokens, %.0f tok/s]%n", r.text(), r.ids().length, r.tokensPerSecond());
            return r;
        }
    }

    public static void main(String[] args) {
        run(args[0], Path.of(args[1]), args.length > 2 ? args[2] : "Once upon a time");
    }
}
