package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.api.io.TempDir;

class OtherCommandsTest {

    final FakeServices services = new FakeServices();

    CliRun bt(String... args) {
        return CliRun.run(services, args);
    }

    @Test
    void tokenizeJson(@TempDir Path dir) throws Exception {
        Path tok = Files.writeString(dir.resolve("tokenizer.json"), "{}");
        CliRun r = bt("tokenize", "--tokenizer", tok.toString(), "--text", "hi", "--text", "A", "--format", "json");
        assertEquals(0, r.code(), r::toString);
        List<JsonNode> lines = GenerateCommandTest.jsonLines(r.out());
        assertEquals(2, lines.size());
        assertEquals("{\"ids\":[104,105],\"text\":\"hi\"}", lines.get(0).toString());
        assertEquals("{\"ids\":[65],\"text\":\"A\"}", lines.get(1).toString());
    }

    @Test
    void tokenizeTextAndDecode(@TempDir Path dir) throws Exception {
        Path tok = Files.writeString(dir.resolve("tokenizer.json"), "{}");
        CliRun r = bt("tokenize", "--tokenizer", tok.toString(), "--text", "hi");
        assertEquals("104 105\n", r.out());
        r = bt("tokenize", "--tokenizer", tok.toString(), "--ids", "104,105");
        assertEquals("hi\n", r.out());
        r = bt("tokenize", "--tokenizer", dir.toString(), "--ids", "104,105");
        assertEquals("hi\n", r.out(), "a directory holding tokenizer.json");
    }

    @Test
    void tokenizeFile(@TempDir Path dir) throws Exception {
        Path tok = Files.writeString(dir.resolve("tokenizer.json"), "{}");
        Path f = Files.writeString(dir.resolve("t.jsonl"), "\"a\"\n\"b\"\n");
        CliRun r = bt("tokenize", "--tokenizer", tok.toString(), "--texts-file", f.toString());
        assertEquals("97\n98\n", r.out());
        Files.writeString(f, "\"a\"\n[1, 2]\n");
        r = bt("tokenize", "--tokenizer", tok.toString(), "--texts-file", f.toString());
        assertEquals(1, r.code());
        assertEquals("error: line 2 of " + f + ": expected a JSON string (the text to encode)\n", r.err());
    }

    @Test
    void tokenizeErrors(@TempDir Path dir) {
        CliRun r = bt("tokenize", "--tokenizer", dir.resolve("missing.json").toString(), "--text", "x");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: tokenizer file not found"), r.err());
        r = bt("tokenize", "--text", "x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Missing required option: '--tokenizer=FILE'"), r.err());
    }

    @Test
    void infoBlockText() {
        CliRun r = bt("info", "--model", "tiny-block");
        assertEquals(0, r.code(), r::toString);
        String out = r.out();
        assertTrue(out.contains("tiny-block (preset, random weights)"), out);
        assertTrue(out.contains("block length (L_B)         4"), out);
        assertTrue(out.contains("block decoder              hidden 64, layers 2, heads 2 (head size 32), "
                + "intermediate 48"), out);
        assertTrue(out.contains("local slot, per sequence 5,120 B (5.0 KiB): 5 positions x 1,024 B"), out);
        assertTrue(out.contains("global, per block        1,024 B (1.0 KiB), one entry per block of 4 tokens"), out);
    }

    @Test
    void infoJsonCountsAndCaches() throws Exception {
        CliRun r = bt("info", "--model", "tiny-block", "--format", "json");
        assertEquals(0, r.code(), r::toString);
        JsonNode o = Json.MAPPER.readTree(r.out());
        assertEquals("block-transformer", o.get("kind").textValue());
        assertEquals(4, o.get("block_length").intValue());
        assertEquals(2, o.get("expansion_ratio").intValue());
        assertEquals("prefix", o.get("decoding").textValue());
        assertEquals("concat", o.get("embedder").get("projection").textValue());
        long stack = FakeServices.BLOCK.blockDecoder().nonEmbeddingParameters();
        assertEquals(stack, o.get("stacks").get("block_decoder").get("non_embedding_parameters").longValue());
        JsonNode p = o.get("parameters");
        long embedding = 512 * 16 + 2 * 512 * 64;
        long expansion = 2 * 64 * 64 + 2 * 64;
        assertEquals(embedding, p.get("embedding").longValue());
        assertEquals(2 * stack + expansion, p.get("non_embedding").longValue());
        assertEquals(embedding + 2 * stack + expansion, p.get("total").longValue());
        JsonNode kv = o.get("kv_cache");
        assertEquals(2 * 2 * 64 * 4, kv.get("global_bytes_per_block").longValue());
        assertEquals(2 * 2 * 64 * 4 / 4.0, kv.get("global_bytes_per_token").doubleValue());
        assertEquals(5, kv.get("local_positions").intValue());
        assertEquals(5 * 2 * 2 * 64 * 4, kv.get("local_bytes_per_sequence").longValue());
        assertEquals("f32", o.get("weights").get("dtype").textValue());
    }

    @ParameterizedTest
    @ValueSource(strings = {"bf16", "f16"})
    void infoVanillaAndHalfWeights(String dtype) throws Exception {
        JsonNode o = Json.MAPPER.readTree(bt("info", "--model", "tiny-vanilla", "--format", "json",
                "--weights", dtype).out());
        assertEquals(dtype, o.get("weights").get("dtype").textValue());
        assertEquals(2 * 512 * 64, o.get("parameters").get("embedding").longValue());
        assertEquals(2 * 2 * 64 * 4, o.get("kv_cache").get("global_bytes_per_token").doubleValue());
        assertFalse(o.get("kv_cache").has("local_positions"));
        // As the CPU holds them: the MLP's up matrix (48 outputs) padded to a whole panel of 64.
        long matrices = 2 * 512 * 64 + 2 * (4 * 64 * 64 + 64 * 64 + 64 * 48);
        long vectors = FakeServices.VANILLA.stack().nonEmbeddingParameters() - 2 * (4 * 64 * 64 + 2 * 64 * 48);
        assertEquals(2 * matrices + 4 * vectors, o.get("weights").get("bytes").longValue());
    }

    @Test
    void infoPresetsAndErrors() {
        CliRun r = bt("info", "--presets");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("tiny-block"), r.out());
        assertTrue(r.out().contains("L_B 4, R 2, prefix, block 64x2x2, token 64x2x2"), r.out());
        r = bt("info", "--model", "nope");
        assertEquals(1, r.code());
        assertEquals("error: unknown model 'nope'\n", r.err());
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
