package org.blocktransformer.server;

import java.util.List;
import java.util.Map;

/** A validated {@code POST /v1/chat/completions} body: the messages as the chat template sees them. */
record ChatRequest(List<Map<String, Object>> messages, GenerationParams params) {
}
