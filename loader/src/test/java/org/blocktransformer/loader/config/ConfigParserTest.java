package org.blocktransformer.loader.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

import org.blocktransformer.loader.CheckpointException;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;

/** Both GPT-NeoX key styles, defaults, the block schema, and every refusal with its message. */
class ConfigParserTest {

    @TempDir
    Path tmp;

    /** As on the hub for EleutherAI/pythia-70m (transformers 4.x keys; no pad_token_id). */
    static final String PYTHIA_70M_OLD_STYLE = """
            {"architectures": ["GPTNeoXForCausalLM"], "bos_token_id": 0, "eos_token_id": 0, "hidden_act": "gelu",
             "hidden_size": 512, "initializer_range": 0.02, "intermediate_size": 2048, "layer_norm_eps": 1e-05,
             "max_position_embeddings": 2048, "model_type": "gpt_neox", "num_attention_heads": 8,
             "num_hidden_layers": 6, "rotary_emb_base": 10000, "rotary_pct": 0.25, "tie_word_embeddings": false,
             "torch_dtype": "float16", "transformers_version": "4.24.0", "use_cache": true,
             "use_parallel_residual": true, "vocab_size": 50304}
            """;

    /** As transformers 5 save_pretrained writes it (rope_parameters), with non-default rotary values. */
    static final String NEW_STYLE = """
            {"architectures": ["GPTNeoXForCausalLM"], "attention_bias": true, "attention_dropout": 0.0,
             "bos_token_id": 3, "eos_token_id": 5, "pad_token_id": 7, "dtype": "float32", "hidden_act": "gelu",
             "hidden_size": 64, "intermediate_size": 48, "layer_norm_eps": 1e-06, "max_position_embeddings": 512,
             "model_type": "gpt_neox", "num_attention_heads": 2, "num_hidden_layers": 2,
             "rope_parameters": {"partial_rotary_factor": 0.5, "rope_theta": 500, "rope_type": "default"},
             "tie_word_embeddings": false, "transformers_version": "5.17.0", "use_parallel_residual": false,
             "vocab_size": 512}
            """;

    static final String MINIMAL = """
            {"model_type": "gpt_neox", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 1,
             "num_attention_heads": 2, "intermediate_size": 256 %s}
            """;

    static final String BLOCK = """
            {"model_type": "block_transformer", "block_length": 4, "vocab_size": 512, "n_embedding_tokens": 1,
             "embedder": {"type": "lookup", "hidden_size": 16, "projection_method": "concat",
                          "projection_hidden_size": 64},
             "decoding_strategy": "prefix", "expansion_method": "expansion_layer", "expansion_ratio": 2,
             "block_decoder": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                               "intermediate_size": 48, "rotary_pct": 0.25, "rotary_emb_base": 10000,
                               "layer_norm_eps": 1e-05, "max_position_embeddings": 2048,
                               "use_parallel_residual": true, "hidden_act": "gelu", "attention_bias": true},
             "token_decoder": {"hidden_size": 96, "num_hidden_layers": 3, "num_attention_heads": 3,
                               "intermediate_size": 40, "hidden_act": "gelu"},
             "bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0}
            """;

    private Path write(String json) throws IOException {
        Path file = Files.createTempFile(tmp, "config", ".json");
        Files.writeString(file, json);
        return file;
    }

    private CheckpointException rejected(String json) throws IOException {
        Path file = write(json);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ConfigParser.parse(file));
        assertTrue(e.getMessage().startsWith(file.toString()), "message names the file: " + e.getMessage());
        return e;
    }

    private static void assertContains(Throwable e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "message \"" + e.getMessage() + "\" lacks \"" + part + "\"");
        }
    }

    @Test
    void oldStylePythiaConfig() throws IOException {
        VanillaConfig c = ConfigParser.parseVanilla(write(PYTHIA_70M_OLD_STYLE));
        assertEquals(new NeoXConfig(512, 6, 8, 2048, 0.25, 10000, 1e-5, 2048, true), c.stack());
        assertEquals(50304, c.vocabSize());
        assertEquals(0, c.bosTokenId());
        assertEquals(0, c.eosTokenId());
        assertEquals(0, c.padTokenId(), "pad defaults to eos");
    }

    @Test
    void transformers5RopeParameters() throws IOException {
        VanillaConfig c = ConfigParser.parseVanilla(write(NEW_STYLE));
        assertEquals(new NeoXConfig(64, 2, 2, 48, 0.5, 500, 1e-6, 512, false), c.stack());
        assertEquals(3, c.bosTokenId());
        assertEquals(5, c.eosTokenId());
        assertEquals(7, c.padTokenId());
    }

    @Test
    void gptNeoXDefaultsWhenKeysAreAbsent() throws IOException {
        VanillaConfig c = ConfigParser.parseVanilla(write(MINIMAL.formatted(", \"eos_token_id\": 9")));
        assertEquals(NeoXConfig.pythia(64, 1, 2, 256, 2048), c.stack());
        assertEquals(0, c.bosTokenId());
        assertEquals(9, c.padTokenId(), "pad defaults to eos");
        VanillaConfig bare = ConfigParser.parseVanilla(write(MINIMAL.formatted("")));
        assertEquals(0, bare.eosTokenId());
        assertEquals(0, bare.padTokenId());
    }

    @Test
    void nullValuesCountAsAbsent() throws IOException {
        VanillaConfig c = ConfigParser.parseVanilla(write(MINIMAL.formatted(
                ", \"rope_scaling\": null, \"pad_token_id\": null, \"rotary_pct\": null")));
        assertEquals(0.25, c.stack().rotaryPct());
    }

    @Test
    void blockConfig() throws IOException {
        BlockConfig c = ConfigParser.parseBlock(write(BLOCK));
        assertEquals(4, c.blockLength());
        assertEquals(16, c.embedder().embedDim());
        assertEquals(EmbedderProjection.CONCAT, c.embedder().projection());
        assertEquals(DecodingStrategy.PREFIX, c.decoding());
        assertEquals(2, c.expansionRatio());
        assertEquals(NeoXConfig.pythia(64, 2, 2, 48, 2048), c.blockDecoder());
        assertEquals(NeoXConfig.pythia(96, 3, 3, 40, 2048), c.tokenDecoder());
    }

    @Test
    void summationWithoutRatioUsesBlockLength() throws IOException {
        BlockConfig c = ConfigParser.parseBlock(write(BLOCK.replace("\"prefix\"", "\"summation\"")
                .replace("\"expansion_ratio\": 2,", "")));
        assertEquals(DecodingStrategy.SUMMATION, c.decoding());
        assertEquals(4, c.expansionRatio());
    }

    @Test
    void dispatchesOnModelType() throws IOException {
        assertInstanceOf(BlockConfig.class, ConfigParser.parse(write(BLOCK)));
        assertInstanceOf(VanillaConfig.class, ConfigParser.parse(write(NEW_STYLE)));
        assertContains(assertThrows(CheckpointException.class, () -> ConfigParser.parseVanilla(write(BLOCK))),
                "expected a gpt_neox config");
    }

    @Test
    void unsupportedHiddenAct() throws IOException {
        assertContains(rejected(PYTHIA_70M_OLD_STYLE.replace("\"gelu\"", "\"gelu_new\"")),
                "key 'hidden_act'", "'gelu_new'", "only 'gelu'");
    }

    @Test
    void unsupportedRopeType() throws IOException {
        assertContains(rejected(NEW_STYLE.replace("\"rope_type\": \"default\"", "\"rope_type\": \"linear\"")),
                "key 'rope_parameters.rope_type'", "'linear'");
    }

    @Test
    void scaledRopeInOldStyleKeys() throws IOException {
        assertContains(rejected(MINIMAL.formatted(", \"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 2}")),
                "key 'rope_scaling.type'", "'dynamic'");
    }

    @Test
    void conflictingRotarySpellings() throws IOException {
        assertContains(rejected(NEW_STYLE.replace("\"tie_word_embeddings\"", "\"rotary_pct\": 0.25, \"tie_word_embeddings\"")),
                "key 'rope_parameters.partial_rotary_factor'", "is 0.5 but rotary_pct is 0.25");
    }

    @Test
    void attentionWithoutBias() throws IOException {
        assertContains(rejected(NEW_STYLE.replace("\"attention_bias\": true", "\"attention_bias\": false")),
                "key 'attention_bias'", "is false");
    }

    @Test
    void tiedEmbeddingsForVanilla() throws IOException {
        assertContains(rejected(NEW_STYLE.replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true")),
                "key 'tie_word_embeddings'", "untied");
    }

    @Test
    void missingRequiredKey() throws IOException {
        assertContains(rejected(PYTHIA_70M_OLD_STYLE.replace("\"intermediate_size\": 2048,", "")),
                "required key 'intermediate_size' is missing");
        assertContains(rejected(BLOCK.replace("\"num_hidden_layers\": 3,", "")),
                "required key 'token_decoder.num_hidden_layers' is missing");
    }

    @Test
    void nonIntegerSize() throws IOException {
        assertContains(rejected(PYTHIA_70M_OLD_STYLE.replace("\"hidden_size\": 512", "\"hidden_size\": 512.5")),
                "key 'hidden_size' must be an integer, found 512.5");
        assertContains(rejected(BLOCK.replace("\"block_length\": 4", "\"block_length\": \"4\"")),
                "key 'block_length' must be an integer");
    }

    @Test
    void invalidArchitectureReportsTheRecordCheck() throws IOException {
        assertContains(rejected(PYTHIA_70M_OLD_STYLE.replace("\"num_attention_heads\": 8", "\"num_attention_heads\": 7")),
                "hidden_size 512 is not divisible by num_attention_heads 7");
    }

    @Test
    void unknownModelType() throws IOException {
        assertContains(rejected(MINIMAL.formatted("").replace("gpt_neox", "llama")),
                "key 'model_type' is 'llama'");
    }

    @Test
    void notJson() throws IOException {
        assertContains(rejected("{\"model_type\": "), "not valid JSON", "Unexpected end-of-input");
    }

    /** File, line:column and what was wrong, on one line: none of Jackson's source description. */
    @Test
    void malformedJsonIsOneLineWithLineAndColumn() throws IOException {
        Path file = write("{\"model_type\": \"gpt_neox\",\n \"vocab_size\": }");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ConfigParser.parse(file));
        assertEquals(file + ":2:16: not valid JSON: Unexpected character ('}' (code 125)): expected a value",
                e.getMessage());
    }

    @Test
    void contentAfterTheObjectIsRefused() throws IOException {
        assertContains(rejected(MINIMAL.formatted("") + " {}"), ":3:2: not valid JSON: unexpected content after the"
                + " JSON value");
    }

    @Test
    void invalidUtf8IsReportedWithItsPosition() throws IOException {
        Path file = write("");
        Files.write(file, new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xff, '"', '}'});
        assertContains(assertThrows(CheckpointException.class, () -> ConfigParser.parse(file)),
                file + ":1:8: not valid JSON: Invalid UTF-8 start byte 0xff");
    }

    @Test
    void numbersTooLargeForADoubleAreRefused() throws IOException {
        assertContains(rejected(MINIMAL.formatted(", \"layer_norm_eps\": 1e999")),
                "key 'layer_norm_eps' must be a finite number");
    }

    /** Values are quoted from the file: a line break in one is escaped so that the message stays one line. */
    @Test
    void quotedValuesStayOnOneLine() throws IOException {
        CheckpointException e = rejected(MINIMAL.formatted("").replace("gpt_neox", "gpt\\nneox"));
        assertContains(e, "key 'model_type' is 'gpt\\nneox'");
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void missingFile() {
        Path file = tmp.resolve("config.json");
        assertContains(assertThrows(CheckpointException.class, () -> ConfigParser.parse(file)), file.toString(),
                "file not found");
    }

    @Test
    void embedderOtherThanLookup() throws IOException {
        assertContains(rejected(BLOCK.replace("\"lookup\"", "\"roberta\"")), "key 'embedder.type'", "'roberta'");
    }

    @Test
    void moreThanOneEmbeddingToken() throws IOException {
        assertContains(rejected(BLOCK.replace("\"n_embedding_tokens\": 1", "\"n_embedding_tokens\": 2")),
                "key 'n_embedding_tokens' is 2");
    }

    @Test
    void expansionOtherThanExpansionLayer() throws IOException {
        assertContains(rejected(BLOCK.replace("\"expansion_layer\"", "\"mean\"")), "key 'expansion_method'", "'mean'");
    }

    @Test
    void unknownDecodingStrategy() throws IOException {
        assertContains(rejected(BLOCK.replace("\"prefix\"", "\"cross_attention\"")), "key 'decoding_strategy'",
                "'cross_attention'", "'prefix', 'summation'");
    }

    @Test
    void unknownProjectionMethod() throws IOException {
        assertContains(rejected(BLOCK.replace("\"concat\"", "\"mean\"")), "key 'embedder.projection_method'");
    }

    @Test
    void projectionHiddenSizeMustMatchBlockDecoder() throws IOException {
        assertContains(rejected(BLOCK.replace("\"projection_hidden_size\": 64", "\"projection_hidden_size\": 32")),
                "key 'embedder.projection_hidden_size' is 32 but block_decoder.hidden_size is 64");
    }

    @Test
    void blockStackRefusesOtherActivation() throws IOException {
        assertContains(rejected(BLOCK.replace("\"intermediate_size\": 40, \"hidden_act\": \"gelu\"",
                "\"intermediate_size\": 40, \"hidden_act\": \"relu\"")), "key 'token_decoder.hidden_act'");
    }

    /**
     * Sizes near 1e9 are refused when the config is read, naming the fields and the limit, rather than overflowing
     * an int later: each edit turns one value of a valid config huge.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            vanilla | "hidden_size": 512          | "hidden_size": 1000000000          | hidden_size 1000000000 is too large: attention.query_key_value would hold 3000000000 x 1000000000 values, and one array holds at most 2147483639
            vanilla | "vocab_size": 50304         | "vocab_size": 1000000000           | vocab_size 1000000000 x hidden_size 512 is too large: embed_out
            vanilla | "intermediate_size": 2048   | "intermediate_size": 1000000000    | intermediate_size 1000000000 x hidden_size 512 is too large: mlp.dense_h_to_4h
            vanilla | "max_position_embeddings": 2048 | "max_position_embeddings": 1000000000 | max_position_embeddings 1000000000 x rotary dimensions per head / 2 (8) is too large: each rotary table
            block   | "vocab_size": 512           | "vocab_size": 1000000000           | vocab_size 1000000000 x embedder hidden_size 16 is too large: the embedder table
            block   | "expansion_ratio": 2        | "expansion_ratio": 1000000000      | expansion_ratio 1000000000 x token_decoder.hidden_size 96 x block_decoder.hidden_size 64 is too large: the expansion layer
            block   | "max_position_embeddings": 2048 | "max_position_embeddings": 1000000000 | in block_decoder: max_position_embeddings 1000000000 x rotary dimensions per head / 2 (4) is too large
            block   | "block_length": 4           | "block_length": 1000000000         | block_length 1000000000 x embedder hidden_size 16 must equal the block decoder hidden_size 64
            """)
    void hugeSizesAreRefusedNamingTheFieldsAndTheLimit(String kind, String from, String to, String message)
            throws IOException {
        String config = kind.equals("vanilla") ? PYTHIA_70M_OLD_STYLE : BLOCK;
        assertTrue(config.contains(from), from);
        CheckpointException e = rejected(config.replace(from, to));
        assertContains(e, message);
        assertTrue(e.getMessage().lines().count() == 1, e.getMessage());
    }

    /** Rotary tables that fit (2 values a position), but a longest sequence of 4 x 6e8 tokens, which is no int. */
    @Test
    void blockSequenceLongerThanAnIntIsRefused() throws IOException {
        assertContains(rejected(BLOCK.replace("\"rotary_pct\": 0.25", "\"rotary_pct\": 0.125")
                        .replace("\"max_position_embeddings\": 2048", "\"max_position_embeddings\": 600000000")),
                "block_decoder.max_position_embeddings 600000000 x block_length 4 is too large: the longest sequence"
                        + " in tokens would be 2400000000, more than the 2147483647 an int holds");
    }
}
