package org.blocktransformer.cli;

/** One input: text (needs a tokenizer) or token ids, with where it came from for error messages. */
public sealed interface Prompt {

    /** e.g. "--prompt" or "line 3 of prompts.jsonl". */
    String origin();

    record Text(String text, String origin) implements Prompt {
    }

    record Ids(int[] ids, String origin) implements Prompt {
        public Ids {
            ids = ids.clone();
        }

        @Override
        public int[] ids() {
            return ids.clone();
        }
    }
}
