package org.blocktransformer.server;

import java.util.List;

/** A validated {@code POST /v1/completions} body. */
record CompletionRequest(List<PromptInput> prompts, boolean echo, GenerationParams params) {
}
