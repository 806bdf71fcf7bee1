package org.blocktransformer.model.eval;

/**
 * Summed negative log-likelihood (natural log) of the predicted tokens of one or more documents.
 *
 * @param nllSum    sum over predicted tokens of {@code -ln p(token | preceding tokens of its window)}
 * @param predicted tokens that were predicted (scored)
 * @param tokens    tokens read, scored or not
 * @param windows   evaluation windows the documents were split into
 */
public record PerplexityResult(double nllSum, long predicted, long tokens, long windows) {

    public static final PerplexityResult EMPTY = new PerplexityResult(0, 0, 0, 0);

    /** Mean negative log-likelihood per predicted token (nats); NaN when nothing was predicted. */
    public double meanNll() {
        return predicted == 0 ? Double.NaN : nllSum / predicted;
    }

    /** {@code exp(mean NLL)}; NaN when nothing was predicted. */
    public double perplexity() {
        return Math.exp(meanNll());
    }

    /** Bits per predicted token. */
    public double bitsPerToken() {
        return meanNll() / Math.log(2);
    }

    /** Both together: sums of the counts and NLLs (a token-weighted, not document-weighted, average). */
    public PerplexityResult plus(PerplexityResult other) {
        return new PerplexityResult(nllSum + other.nllSum, predicted + other.predicted, tokens + other.tokens,
                windows + other.windows);
    }
}
