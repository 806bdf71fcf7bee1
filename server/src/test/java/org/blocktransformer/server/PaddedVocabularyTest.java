package org.blocktransformer.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import org.blocktransformer.loader.Presets;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.Test;

/**
 * A model whose vocabulary is padded beyond its tokenizer's (as Pythia pads 50,277 tokens to 50,304 ids): ids the
 * tokenizer lacks, in a prompt or generated, are text-less, as in Hugging Face's decode, instead of failing the
 * request; echo, streaming text and logprobs' tokens included.
 */
class PaddedVocabularyTest {
    private static final int PADDED = Fixtures.VOCAB + 8;

    @Test
    void idsPastTheTokenizerHaveNoText() throws Exception {
        var config = new VanillaConfig(PADDED, NeoXConfig.pythia(64, 2, 2, 128, 512), 0, 0, 0);
        try (BtTokenizer tokenizer = BtTokenizer.load(Fixtures.goldenTokenizer());
             InferenceEngine engine = Fixtures.engine(Presets.randomInit("padded", config, 9, WeightFormat.F32), 16);
             BtServer server = Fixtures.serve(new ServedModel(engine, tokenizer, null), "padded", 16)) {
            assertEquals(Fixtures.VOCAB, tokenizer.vocabSize(), "the golden tokenizer's vocabulary");
            int[] prompt = {11, Fixtures.VOCAB + 3, 12};
            Http http = new Http(server);
            String echo = tokenizer.decodeGenerated(prompt);
            int padded = 0;
            // Echo (no logprobs with it on this server), then logprobs: each choice's text is the decoding of its
            // ids without the padded ones, and a padded id's logprobs token is empty.
            for (boolean echoed : new boolean[] {true, false}) {
                var body = Json.object();
                body.set("prompt", Json.ids(prompt));
                body.put("max_tokens", 64);
                body.put("n", 16);
                body.put("temperature", 1.0);
                body.put("seed", echoed ? 5 : 6);
                body.put("return_token_ids", true);
                if (echoed) {
                    body.put("echo", true);
                } else {
                    body.put("logprobs", 1);
                }
                for (JsonNode choice : http.ok("/v1/completions", body).path("choices")) {
                    int[] ids = CompletionsTest.ints(choice.path("token_ids"));
                    padded += (int) Arrays.stream(ids).filter(id -> id >= Fixtures.VOCAB).count();
                    // A choice that ended at the end-of-sequence token has its id but not its text.
                    boolean eos = choice.path("finish_reason").asText().equals("stop");
                    int[] texted = eos ? Arrays.copyOf(ids, ids.length - 1) : ids;
                    assertEquals((echoed ? echo : "") + tokenizer.decodeGenerated(texted),
                            choice.path("text").asText());
                    JsonNode tokens = choice.path("logprobs").path("tokens");
                    for (int i = 0; !echoed && i < ids.length; i++) {
                        if (ids[i] >= Fixtures.VOCAB) {
                            assertEquals("", tokens.get(i).asText(), "token " + i + " (id " + ids[i] + ")");
                        }
                    }
                }
            }
            // Random weights over 520 ids: 2 x 16 x 64 draws hold a padded id except with probability ~1e-14.
            assertTrue(padded > 0, "no padded id was generated, so nothing was tested");
        }
    }
}
