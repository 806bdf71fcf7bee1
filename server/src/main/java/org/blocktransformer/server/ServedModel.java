package org.blocktransformer.server;

import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.engine.InferenceEngine;

/**
 * What the server serves: one engine, and optionally a tokenizer (text prompts and text output; without one only
 * token-id prompts work) and a chat template (without one /v1/chat/completions answers 400). The server closes
 * none of them: whoever opened them does.
 */
public record ServedModel(InferenceEngine engine, BtTokenizer tokenizer, ChatTemplate chatTemplate) {

    public ServedModel {
        if (engine == null) {
            throw new IllegalArgumentException("engine is missing");
        }
        if (tokenizer != null) {
            tokenizer.requireFits(engine.weights().config().vocabSize());
        }
        if (chatTemplate != null && tokenizer == null) {
            throw new IllegalArgumentException("a chat template needs a tokenizer");
        }
    }

    ModelConfig config() {
        return engine.weights().config();
    }

    /** Prompt plus new tokens, at most. */
    int maxModelLength() {
        return config().maxSequenceTokens();
    }

    boolean hasTokenizer() {
        return tokenizer != null;
    }
}
