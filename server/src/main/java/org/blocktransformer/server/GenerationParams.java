package org.blocktransformer.server;

import java.util.List;

/**
 * What a completion or chat request asks of each choice, validated.
 *
 * @param maxTokens      new tokens per choice, at most; null = the endpoint's default
 * @param temperature    0 = greedy
 * @param topP           nucleus mass, (0, 1]
 * @param topK           0 = no limit
 * @param seed           sampling seed of the first choice (choice i uses seed + i); null = a random one per choice
 * @param stop           strings that end a choice (not included in its text)
 * @param n              choices per prompt
 * @param stream         answer with server-sent events
 * @param includeUsage   streaming: a last chunk with the usage counts ({@code stream_options.include_usage})
 * @param ignoreEos      keep generating through the end-of-sequence token (vLLM's extension)
 * @param returnTokenIds each choice and chunk carries its token ids (vLLM's extension)
 * @param logprobs       -1 = none, else the chosen tokens' log-probabilities with this many alternatives
 */
record GenerationParams(Integer maxTokens, double temperature, double topP, int topK, Long seed, List<String> stop,
                        int n, boolean stream, boolean includeUsage, boolean ignoreEos, boolean returnTokenIds,
                        int logprobs) {

    boolean greedy() {
        return temperature == 0;
    }
}
