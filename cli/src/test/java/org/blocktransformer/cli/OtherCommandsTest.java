package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.loader.Presets;
import org.blocktransformer.loader.TinyCheckpoints;
import org.blocktransformer.loader.TinyTokenizers;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OtherCommandsTest {

    @TempDir
    static Path tmp;
    static Path tokenizer;
    static String block;
    static String vanilla;

    @BeforeAll
    static void files() {
        tokenizer = TinyTokenizers.bytes(tmp.resolve("tok/tokenizer.json"), 512);
        block = TinyCheckpoints.block(tmp.resolve("tiny-block")).toString();
        vanilla = TinyCheckpoints.vanilla(tmp.resolve("tiny-vanilla")).toString();
    }

    final FakeServices services = new FakeServices();

    CliRun bt(String... args) {
        return CliRun.run(services, args);
    }

    @Test
    void tokenizeJson() throws Exception {
        CliRun r = bt("tokenize", "--tokenizer", tokenizer.toString(), "--text", "hi", "--text", "A", "--format",
                "json");
        assertEquals(0, r.code(), r::toString);
        List<JsonNode> lines = GenerateCommandTest.jsonLines(r.out());
        assertEquals(2, lines.size());
        assertEquals("{\"ids\":[104,105],\"text\":\"hi\"}", lines.get(0).toString());
        assertEquals("{\"ids\":[65],\"text\":\"A\"}", lines.get(1).toString());
    }

    @Test
    void tokenizeTextAndDecode() {
        CliRun r = bt("tokenize", "--tokenizer", tokenizer.toString(), "--text", "hi");
        assertEquals("104 105\n", r.out());
        r = bt("tokenize", "--tokenizer", tokenizer.toString(), "--ids", "104,105");
        assertEquals("hi\n", r.out());
        r = bt("tokenize", "--tokenizer", tokenizer.getParent().toString(), "--ids", "104,105");
        assertEquals("hi\n", r.out(), "a directory holding tokenizer.json");
        r = bt("tokenize", "--tokenizer", tokenizer.toString(), "--ids", "104,512");
        assertEquals(1, r.code(), r::toString);
        assertEquals("error: token id 512 is outside the vocabulary [0, 512) of " + tokenizer + "\n", r.err());
    }

    @Test
    void tokenizeFile() throws Exception {
        Path f = Files.writeString(tmp.resolve("t.jsonl"), "\"a\"\n\"b\"\n");
        CliRun r = bt("tokenize", "--tokenizer", tokenizer.toString(), "--texts-file", f.toString());
        assertEquals("97\n98\n", r.out());
        Files.writeString(f, "\"a\"\n[1, 2]\n");
        r = bt("tokenize", "--tokenizer", tokenizer.toString(), "--texts-file", f.toString());
        assertEquals(1, r.code());
        assertEquals("error: line 2 of " + f + ": expected a JSON string (the text to encode)\n", r.err());
    }

    @Test
    void tokenizeErrors() {
        CliRun r = bt("tokenize", "--tokenizer", tmp.resolve("missing.json").toString(), "--text", "x");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: tokenizer file not found"), r.err());
        r = bt("tokenize", "--text", "x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Missing required option: '--tokenizer=FILE'"), r.err());
    }

    @Test
    void infoBlockText() {
        CliRun r = bt("info", "--model", block);
        assertEquals(0, r.code(), r::toString);
        String out = r.out();
        BlockConfig c = (BlockConfig) ModelSources.config(block);
        NeoXConfig d = c.blockDecoder();
        long entry = d.kvBytesPerPosition(4);
        long local = c.tokenDecoder().kvBytesPerPosition(4);
        assertTrue(out.startsWith(String.format(Locale.ROOT, "%-26s %s%n", "model", block)), out);
        assertTrue(out.contains("block length (L_B)         " + c.blockLength()), out);
        assertTrue(out.contains("block decoder              hidden " + d.hiddenSize() + ", layers " + d.numLayers()
                + ", heads " + d.numHeads() + " (head size " + d.headSize() + "), intermediate "
                + d.intermediateSize()), out);
        assertTrue(out.contains(String.format(Locale.ROOT, "local slot, per sequence %,d B (%.1f KiB): %d positions"
                + " x %,d B", c.localCacheLength() * local, c.localCacheLength() * local / 1024.0,
                c.localCacheLength(), local)), out);
        assertTrue(out.contains(String.format(Locale.ROOT, "global, per block        %,d B (%.1f KiB), one entry per block of %d"
                + " tokens", entry, entry / 1024.0, c.blockLength())), out);
        assertTrue(out.contains("stored in the checkpoint   F32"), out);
    }

    @Test
    void infoJsonCountsAndCaches() throws Exception {
        CliRun r = bt("info", "--model", block, "--format", "json");
        assertEquals(0, r.code(), r::toString);
        JsonNode o = Json.MAPPER.readTree(r.out());
        BlockConfig c = (BlockConfig) ModelSources.config(block);
        assertEquals("block-transformer", o.get("kind").textValue());
        assertEquals(c.blockLength(), o.get("block_length").intValue());
        assertEquals(c.expansionRatio(), o.get("expansion_ratio").intValue());
        assertEquals("prefix", o.get("decoding").textValue());
        assertEquals("concat", o.get("embedder").get("projection").textValue());
        assertEquals("directory", o.get("source").textValue());
        long stack = c.blockDecoder().nonEmbeddingParameters();
        assertEquals(stack, o.get("stacks").get("block_decoder").get("non_embedding_parameters").longValue());
        JsonNode p = o.get("parameters");
        long v = c.vocabSize(), dEmb = c.embedder().embedDim(), dBlock = c.blockDecoder().hiddenSize();
        long dTok = c.tokenDecoder().hiddenSize();
        long embedding = v * dEmb + 2 * v * dTok;
        long expansion = c.expansionRatio() * dTok * dBlock + c.expansionRatio() * dTok;
        long tokenStack = c.tokenDecoder().nonEmbeddingParameters();
        assertEquals(embedding, p.get("embedding").longValue());
        assertEquals(stack + tokenStack + expansion, p.get("non_embedding").longValue());
        assertEquals(embedding + stack + tokenStack + expansion, p.get("total").longValue());
        JsonNode kv = o.get("kv_cache");
        long entry = c.blockDecoder().kvBytesPerPosition(4);
        assertEquals(entry, kv.get("global_bytes_per_block").longValue());
        assertEquals(entry / (double) c.blockLength(), kv.get("global_bytes_per_token").doubleValue());
        assertEquals(c.localCacheLength(), kv.get("local_positions").intValue());
        assertEquals(c.localCacheLength() * c.tokenDecoder().kvBytesPerPosition(4),
                kv.get("local_bytes_per_sequence").longValue());
        assertEquals("f32", o.get("weights").get("dtype").textValue());
        assertEquals("F32", o.get("checkpoint_dtype").textValue());
    }

    @ParameterizedTest
    @ValueSource(strings = {"bf16", "f16"})
    void infoVanillaAndHalfWeights(String dtype) throws Exception {
        JsonNode o = Json.MAPPER.readTree(bt("info", "--model", vanilla, "--format", "json",
                "--weights", dtype).out());
        VanillaConfig c = (VanillaConfig) ModelSources.config(vanilla);
        long v = c.vocabSize(), d = c.stack().hiddenSize(), i = c.stack().intermediateSize();
        int layers = c.stack().numLayers();
        assertEquals(dtype, o.get("weights").get("dtype").textValue());
        assertEquals(2 * v * d, o.get("parameters").get("embedding").longValue());
        assertEquals(c.stack().kvBytesPerPosition(4), o.get("kv_cache").get("global_bytes_per_token").doubleValue());
        assertFalse(o.get("kv_cache").has("local_positions"));
        // As the CPU holds them: each Linear layer's outputs padded to whole panels of 64.
        long matrices = 2 * v * d + layers * (panels(3 * d) * d + panels(d) * d + panels(i) * d + panels(d) * i);
        long vectors = c.stack().nonEmbeddingParameters() - layers * (4 * d * d + 2 * d * i);
        assertEquals(2 * matrices + 4 * vectors, o.get("weights").get("bytes").longValue());
    }

    private static long panels(long rows) {
        return (rows + 63) / 64 * 64;
    }

    @Test
    void infoPresetsAndErrors() {
        CliRun r = bt("info", "--presets");
        assertEquals(0, r.code(), r::toString);
        for (String name : Presets.names()) {
            assertTrue(r.out().contains(name + " "), name + " in\n" + r.out());
            assertTrue(r.out().contains(InfoCommand.summary(Presets.config(name))), r.out());
        }
        r = bt("info", "--model", "nope");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: 'nope' is neither a preset nor a checkpoint directory"), r.err());
        r = bt("info");
        assertEquals(2, r.code());
    }

    @Test
    void devices() throws Exception {
        CliRun r = bt("devices");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().startsWith("cpu: available (pure Java)\n  CPU: 2 threads\n"
                + "tornado: unavailable (the JVM was not started with TornadoVM)\n"), r.out());
        assertTrue(r.out().contains("java: "), r.out());
        r = bt("devices", "--format", "json");
        List<JsonNode> lines = GenerateCommandTest.jsonLines(r.out());
        assertEquals(2, lines.size());
        assertFalse(lines.get(1).get("available").booleanValue());
    }

    @Test
    void devicesCheckRunsEachDeviceAndReportsFailures() throws Exception {
        CliRun r = bt("devices", "--check");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("  CPU: 2 threads  [self-test ok]\n"), r.out());
        // An unavailable backend's devices are not opened.
        assertFalse(r.out().contains("tornado: unavailable (the JVM was not started with TornadoVM)\n  "), r.out());

        services.failingDevices.put("cpu/null", "device CPU failed its self-test: wrong sums");
        r = bt("devices", "--check");
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.out().contains("  CPU: 2 threads  [FAILED: device CPU failed its self-test: wrong sums]\n"),
                r.out());
        r = bt("devices", "--check", "--format", "json");
        JsonNode cpu = GenerateCommandTest.jsonLines(r.out()).get(0);
        assertFalse(cpu.get("checks").get(0).get("ok").booleanValue());
        assertEquals("device CPU failed its self-test: wrong sums", cpu.get("checks").get(0).get("problem").asText());
    }

    @Test
    void everyCommandExplainsItsOptions() {
        for (String cmd : List.of("generate", "tokenize", "info", "devices")) {
            CliRun r = bt(cmd, "--help");
            assertEquals(0, r.code(), r::toString);
            assertTrue(r.out().startsWith(r.out().lines().findFirst().orElseThrow()), r.out());
            assertTrue(r.out().contains("Usage: bt " + cmd), r.out());
            assertTrue(r.out().contains("--verbose"), r.out());
            assertTrue(r.out().contains("--format"), r.out());
        }
        CliRun gen = bt("generate", "--help");
        for (String opt : List.of("--model", "--prompt", "--prompt-ids", "--prompts-file", "--max-new-tokens",
                "--greedy", "--temperature", "--top-k", "--top-p", "--seed", "--ignore-eos", "--batch-size",
                "--tokenizer", "--weights", "--threads", "Default: 32", "Default: text", "Default: f32")) {
            assertTrue(gen.out().contains(opt), opt);
        }
        CliRun top = bt("--help");
        assertEquals(0, top.code());
        for (String cmd : List.of("generate", "tokenize", "info", "devices")) {
            assertTrue(top.out().contains("  " + cmd + " "), cmd);
        }
        assertEquals(0, bt("help", "generate").code());
    }

    @Test
    void versionAndNoCommand() {
        CliRun r = bt("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("bt "), r.out());
        assertTrue(r.out().contains("Java " + Runtime.version()), r.out());
        r = bt();
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Usage: bt"), r.err());
        r = bt("frobnicate");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: Unmatched argument at index 0: 'frobnicate'"), r.err());
    }
}
