package org.blocktransformer.server;

/** One prompt of a completion request: text (needs a tokenizer) or token ids. */
sealed interface PromptInput {
    record Text(String text) implements PromptInput {
    }

    record Ids(int[] ids) implements PromptInput {
    }
}
