package org.blocktransformer.model.generate;

/**
 * What one request produced.
 *
 * @param generatedIds  new tokens only (an EOS that stopped generation is included)
 * @param queuedNanos   time from submission until its prefill started
 * @param firstTokenNanos time from submission until the first new token was known
 * @param totalNanos    time from submission until it finished
 */
public record GenerationResult(
        int[] promptIds,
        int[] generatedIds,
        FinishReason finishReason,
        long queuedNanos,
        long firstTokenNanos,
        long totalNanos) {
}
