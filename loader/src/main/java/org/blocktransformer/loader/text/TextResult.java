package org.blocktransformer.loader.text;

import org.blocktransformer.model.generate.FinishReason;

/**
 * A generated continuation.
 *
 * @param text             the decoded new tokens; null when the engine has no tokenizer
 * @param promptIds        the prompt as token ids
 * @param ids              the new token ids (an end-of-text token that stopped generation is included)
 * @param finishReason     length, end-of-text or cancelled
 * @param queuedMillis     time from the call until the engine started on the prompt
 * @param firstTokenMillis time from the call to the first new token
 * @param totalMillis      time from the call to the last one
 */
public record TextResult(String text, int[] promptIds, int[] ids, FinishReason finishReason, double queuedMillis,
                         double firstTokenMillis, double totalMillis) {

    /** New tokens per second over the whole call. */
    public double tokensPerSecond() {
        return totalMillis <= 0 ? 0 : ids.length / (totalMillis / 1000.0);
    }
}
