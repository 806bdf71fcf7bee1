package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.blocktransformer.model.backend.DeviceException;
import org.blocktransformer.model.engine.Batching;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateCommandTest {

    final FakeServices services = new FakeServices();

    /** --verbose sets slf4j-simple's levels as system properties; keep them from leaking into later tests. */
    @org.junit.jupiter.api.AfterEach
    void resetLogLevels() {
        System.getProperties().stringPropertyNames().stream()
                .filter(k -> k.startsWith("org.slf4j.simpleLogger."))
                .forEach(System::clearProperty);
    }

    CliRun bt(String... args) {
        return CliRun.run(services, args);
    }

    static List<JsonNode> jsonLines(String out) throws Exception {
        List<JsonNode> nodes = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank()) {
                nodes.add(Json.MAPPER.readTree(line));
            }
        }
        return nodes;
    }

    static int[] ints(JsonNode array) {
        int[] a = new int[array.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = array.get(i).intValue();
        }
        return a;
    }

    @Test
    void jsonOutputHasOneObjectPerPromptInInputOrder() throws Exception {
        CliRun r = bt("generate", "--model", "tiny-block", "--prompt-ids", "1,2,3", "--prompt-ids", "10",
                "--max-new-tokens", "4", "--greedy", "--format", "json");
        assertEquals(0, r.code(), r::toString);
        assertEquals("", r.err(), "json mode keeps stderr quiet");
        List<JsonNode> lines = jsonLines(r.out());
        assertEquals(2, lines.size());
        JsonNode first = lines.get(0);
        assertEquals("[1,2,3]", first.get("prompt_ids").toString());
        assertEquals("[4,5,6,7]", first.get("ids").toString());
        assertEquals("length", first.get("finish_reason").textValue());
        assertFalse(first.has("text"), "no tokenizer, no text");
        assertEquals(2.5, first.get("first_token_ms").doubleValue());
        assertEquals(10.0, first.get("total_ms").doubleValue());
        assertEquals(0.001, first.get("queued_ms").doubleValue());
        assertEquals("[11,12,13,14]", lines.get(1).get("ids").toString());
        List<String> fields = new ArrayList<>();
        first.fieldNames().forEachRemaining(fields::add);
        assertEquals(List.of("prompt_ids", "ids", "finish_reason", "queued_ms", "first_token_ms", "total_ms"), fields);
    }

    @Test
    void jsonHasTextWhenATokenizerIsGiven(@TempDir Path dir) throws Exception {
        Path tok = Files.writeString(dir.resolve("tokenizer.json"), "{}");
        CliRun r = bt("generate", "--model", "tiny-vanilla", "--prompt", "ab", "--max-new-tokens", "2",
                "--tokenizer", tok.toString(), "--format", "json");
        assertEquals(0, r.code(), r::toString);
        JsonNode o = jsonLines(r.out()).getFirst();
        assertEquals("[97,98]", o.get("prompt_ids").toString());
        assertEquals("[99,100]", o.get("ids").toString());
        assertEquals("cd", o.get("text").textValue());
        assertTrue(services.tokenizerClosed);
    }

    @Test
    void jsonEscapesNonAscii(@TempDir Path dir) throws Exception {
        Path tok = Files.writeString(dir.resolve("tokenizer.json"), "{}");
        CliRun r = bt("generate", "--model", "tiny-vanilla", "--prompt", "\u00e8", "--max-new-tokens", "1",
                "--tokenizer", tok.toString(), "--format", "json");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("\"text\":\"\\u00E9\""), r.out());
        assertEquals("\u00e9", jsonLines(r.out()).getFirst().get("text").textValue());
    }

    @Test
    void progressAlwaysLogsAStatusLineAndLeavesTheOutputAsItIs() throws Exception {
        String[] args = {"generate", "--model", "tiny-block", "--prompt-ids", "1,2,3", "--prompt-ids", "10",
                "--max-new-tokens", "4", "--format", "json"};
        CliRun plain = bt(args);
        CliRun logged = bt(java.util.stream.Stream.concat(java.util.Arrays.stream(args),
                java.util.stream.Stream.of("--progress", "always")).toArray(String[]::new));
        assertEquals(0, logged.code(), logged::toString);
        assertEquals(plain.out(), logged.out(), "the status line goes to stderr only");
        assertTrue(logged.err().startsWith("0/2 prompts, 0 tokens, "), logged.err());
        assertEquals("", plain.err(), "not a terminal: no status line by default");
        CliRun text = bt("generate", "--model", "tiny-vanilla", "--prompt-ids", "1", "--prompt-ids", "7",
                "--max-new-tokens", "2", "--progress", "always");
        assertTrue(text.err().startsWith("0/2 prompts, 0 tokens, "), text.err());
        assertTrue(text.err().contains("2 prompts, 4 new tokens"), text.err());
        CliRun one = bt("generate", "--model", "tiny-vanilla", "--prompt-ids", "1", "--max-new-tokens", "2",
                "--progress", "always");
        assertFalse(one.err().contains("prompts, 0 tokens"), "one prompt's text is its own progress: " + one.err());
    }

    @Test
    void textOutputPrintsIdsAndASummaryOnStderr() {
        CliRun r = bt("generate", "--model", "tiny-vanilla", "--prompt-ids", "1,2,3", "--max-new-tokens", "3");
        assertEquals(0, r.code(), r::toString);
        assertEquals("4 5 6\n", r.out());
        assertTrue(r.err().matches("(?s)1 prompt, 3 new tokens in [0-9.]+ s: .* tok/s \\(model loaded in .*\\)\\n"),
                r.err());
    }

    @Test
    void textOutputSeparatesSeveralPrompts() {
        CliRun r = bt("generate", "--model", "tiny-vanilla", "--prompt-ids", "1", "--prompt-ids", "7",
                "--max-new-tokens", "2");
        assertEquals(0, r.code(), r::toString);
        assertEquals("### 1/2 (1 prompt tokens, 2 new, length)\n2 3\n### 2/2 (1 prompt tokens, 2 new, length)\n8 9\n",
                r.out());
        assertTrue(r.err().startsWith("2 prompts, 4 new tokens"), r.err());
    }

    @Test
    void promptsFileMixesTextAndIds(@TempDir Path dir) throws Exception {
        Path tok = Files.writeString(dir.resolve("tokenizer.json"), "{}");
        Path f = Files.writeString(dir.resolve("p.jsonl"), "\"A\"\n\n[5, 6]\n");
        CliRun r = bt("generate", "--model", "tiny-vanilla", "--prompts-file", f.toString(), "--tokenizer",
                tok.toString(), "--max-new-tokens", "1", "--format", "json");
        assertEquals(0, r.code(), r::toString);
        List<JsonNode> lines = jsonLines(r.out());
        assertEquals("[65]", lines.get(0).get("prompt_ids").toString());
        assertEquals("B", lines.get(0).get("text").textValue());
        assertEquals("[5,6]", lines.get(1).get("prompt_ids").toString());
    }

    @Test
    void passesOptionsToTheEngine() {
        CliRun r = bt("generate", "--model", "tiny-vanilla", "--prompt-ids", "1", "--prompt-ids", "2",
                "--max-new-tokens", "5", "--temperature", "0.7", "--top-k", "40", "--top-p", "0.9", "--seed", "11",
                "--ignore-eos", "--batch-size", "1", "--batching", "STATIC", "--threads", "2", "--weights", "bf16", "--cache-memory", "64m");
        assertEquals(0, r.code(), r::toString);
        assertEquals(1, services.options.maxBatchSize());
        assertEquals(Batching.STATIC, services.options.batching());
        assertEquals(2, services.options.threads());
        assertEquals(64L << 20, services.options.cacheMemoryBytes());
        assertEquals(WeightFormat.BF16, services.loadedFormat);
        GenerationRequest a = services.requests.get(0);
        GenerationRequest b = services.requests.get(1);
        assertEquals(5, a.maxNewTokens());
        assertFalse(a.stopAtEos());
        assertEquals(0.7, a.sampling().temperature());
        assertEquals(40, a.sampling().topK());
        assertEquals(0.9, a.sampling().topP());
        assertEquals(11, a.sampling().seed());
        assertEquals(12, b.sampling().seed(), "prompt i samples with seed + i");
    }

    @Test
    void defaultsAreGreedyStopAtEosAndBatch32() {
        CliRun r = bt("generate", "--model", "tiny-vanilla", "--prompt-ids", "1", "--max-new-tokens", "2");
        assertEquals(0, r.code(), r::toString);
        GenerationRequest a = services.requests.getFirst();
        assertTrue(a.sampling().isGreedy());
        assertTrue(a.stopAtEos());
        assertEquals(32, services.options.maxBatchSize());
        assertEquals(Batching.CONTINUOUS, services.options.batching());
        assertEquals(WeightFormat.F32, services.loadedFormat);
    }

    @Test
    void topPAloneSamplesAtTemperatureOne() {
        assertEquals(0, bt("generate", "--model", "tiny-vanilla", "--prompt-ids", "1", "--max-new-tokens", "2",
                "--top-p", "0.5").code());
        assertEquals(1.0, services.requests.getFirst().sampling().temperature());
        assertEquals(0.5, services.requests.getFirst().sampling().topP());
    }

    @Test
    void streamPrintsEveryTokenThenEachResultWithItsIndex() throws Exception {
        CliRun r = bt("generate", "--model", "tiny-block", "--prompt-ids", "1,2,3", "--prompt-ids", "10",
                "--max-new-tokens", "4", "--format", "json", "--stream");
        assertEquals(0, r.code(), r::toString);
        List<JsonNode> lines = jsonLines(r.out());
        int[] events = new int[2];
        int results = 0;
        for (JsonNode line : lines) {
            int index = line.get("index").intValue();
            if (line.has("prompt_ids")) {
                results++;
                assertEquals(index == 0 ? "[1,2,3]" : "[10]", line.get("prompt_ids").toString());
                // Its token events came before it, one per generated id, in order.
                assertEquals(line.get("ids").size(), events[index], line.toString());
            } else {
                assertTrue(line.has("id"), line.toString());
                events[index]++;
            }
        }
        assertEquals(2, results);
    }

    @Test
    void streamNeedsJson() {
        assertFails(2, "--stream selects JSON events per token: add --format json",
                "generate", "--model", "tiny-block", "--prompt-ids", "1", "--max-new-tokens", "2", "--stream");
    }

    @Test
    void unknownBackendIsAClearError() {
        assertFails(1, "unknown backend 'warp'", "generate", "--model", "tiny-block", "--prompt-ids", "1",
                "--max-new-tokens", "2", "--backend", "warp");
    }

    // ---- errors: one clear line, the right exit code, no stack trace ----

    void assertFails(int code, String messagePart, String... args) {
        CliRun r = bt(args);
        assertEquals(code, r.code(), r::toString);
        assertEquals("", r.out(), "errors print nothing on stdout");
        assertTrue(r.err().startsWith("error: "), r::toString);
        assertTrue(r.err().contains(messagePart), () -> "expected '" + messagePart + "' in\n" + r.err());
        assertFalse(r.err().contains("\tat "), () -> "stack trace without --verbose:\n" + r.err());
    }

    @Test
    void unknownModel() {
        assertFails(1, "unknown model 'nope'", "generate", "--model", "nope", "--prompt-ids", "1",
                "--max-new-tokens", "1");
    }

    @Test
    void idOutsideTheVocabulary() {
        assertFails(1, "--prompt-ids #2: token id 512 (position 2) is outside the model's vocabulary [0, 512)",
                "generate", "--model", "tiny-vanilla", "--prompt-ids", "1", "--prompt-ids", "3,512",
                "--max-new-tokens", "1");
    }

    @Test
    void idOutsideTheVocabularyInAFile(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("p.jsonl"), "[1]\n[2, 9999]\n");
        assertFails(1, "line 2 of " + f + ": token id 9999", "generate", "--model", "tiny-vanilla",
                "--prompts-file", f.toString(), "--max-new-tokens", "1");
    }

    @Test
    void nonNumericPromptIds() {
        assertFails(2, "Invalid value for option '--prompt-ids' (IDS): 'x' is not a token id", "generate",
                "--model", "tiny-vanilla", "--prompt-ids", "1,x", "--max-new-tokens", "1");
    }

    @Test
    void malformedPromptsFileLine(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("p.jsonl"), "[1]\n[2,\n");
        assertFails(1, "line 2 of " + f + ": not valid JSON", "generate", "--model", "tiny-vanilla",
                "--prompts-file", f.toString(), "--max-new-tokens", "1");
    }

    @Test
    void missingPromptsFile(@TempDir Path dir) {
        assertFails(1, "prompts file not found", "generate", "--model", "tiny-vanilla",
                "--prompts-file", dir.resolve("none.jsonl").toString(), "--max-new-tokens", "1");
    }

    @Test
    void textPromptWithoutTokenizer() {
        assertFails(1, "--prompt is text, but no tokenizer is known for model 'tiny-vanilla': pass --tokenizer FILE",
                "generate", "--model", "tiny-vanilla", "--prompt", "hello", "--max-new-tokens", "1");
    }

    @Test
    void missingTokenizerFile(@TempDir Path dir) {
        assertFails(1, "tokenizer file not found", "generate", "--model", "tiny-vanilla", "--prompt", "hello",
                "--tokenizer", dir.resolve("t.json").toString(), "--max-new-tokens", "1");
    }

    @Test
    void emptyTextPrompt(@TempDir Path dir) throws Exception {
        Path tok = Files.writeString(dir.resolve("tokenizer.json"), "{}");
        assertFails(1, "the prompt is empty", "generate", "--model", "tiny-vanilla", "--prompt", "",
                "--tokenizer", tok.toString(), "--max-new-tokens", "1");
    }

    @Test
    void greedyWithSamplingOptions() {
        assertFails(2, "--greedy cannot be combined with --temperature", "generate", "--model", "tiny-vanilla",
                "--prompt-ids", "1", "--max-new-tokens", "1", "--greedy", "--temperature", "0.5");
        assertFails(2, "--greedy cannot be combined with --top-k, --top-p", "generate", "--model", "tiny-vanilla",
                "--prompt-ids", "1", "--max-new-tokens", "1", "--greedy", "--top-k", "5", "--top-p", "0.5");
    }

    @Test
    void negativeAndOutOfRangeNumbers() {
        String[] base = {"generate", "--model", "tiny-vanilla", "--prompt-ids", "1"};
        assertFails(2, "--max-new-tokens must be at least 1, got -1", concat(base, "--max-new-tokens", "-1"));
        assertFails(2, "--max-new-tokens must be at least 1, got 0", concat(base, "--max-new-tokens", "0"));
        assertFails(2, "--batch-size must be at least 1, got 0", concat(base, "--max-new-tokens", "1",
                "--batch-size", "0"));
        assertFails(2, "--threads must be >= 0", concat(base, "--max-new-tokens", "1", "--threads", "-2"));
        assertFails(2, "--temperature must be a number >= 0, got -0.5", concat(base, "--max-new-tokens", "1",
                "--temperature", "-0.5"));
        assertFails(2, "--top-k must be >= 0", concat(base, "--max-new-tokens", "1", "--top-k", "-1"));
        assertFails(2, "--top-p must be in (0, 1], got 1.5", concat(base, "--max-new-tokens", "1",
                "--top-p", "1.5"));
        assertFails(2, "--top-p must be in (0, 1], got 0.0", concat(base, "--max-new-tokens", "1", "--top-p", "0"));
        assertFails(2, "token id -4 is negative", "generate", "--model", "tiny-vanilla", "--prompt-ids", "-4",
                "--max-new-tokens", "1");
        assertFails(2, "'abc' is not an int", concat(base, "--max-new-tokens", "abc"));
        assertFails(2, "'-5m' is negative", concat(base, "--max-new-tokens", "1", "--cache-memory", "-5m"));
        assertFails(2, "'lots' is not a size", concat(base, "--max-new-tokens", "1", "--cache-memory", "lots"));
    }

    @Test
    void temperatureZeroIsGreedyButNotWithTopK() {
        assertEquals(0, bt("generate", "--model", "tiny-vanilla", "--prompt-ids", "1", "--max-new-tokens", "1",
                "--temperature", "0").code());
        assertTrue(services.requests.getFirst().sampling().isGreedy());
        assertFails(2, "--top-k and --top-p need a temperature > 0", "generate", "--model", "tiny-vanilla",
                "--prompt-ids", "1", "--max-new-tokens", "1", "--temperature", "0", "--top-k", "3");
    }

    @Test
    void tooLongForTheModel() {
        assertFails(1, "--prompt-ids: 3 tokens of prompt + 62 new exceed the model's limit of 64 tokens", "generate",
                "--model", "tiny-vanilla", "--prompt-ids", "1,2,3", "--max-new-tokens", "62");
    }

    @Test
    void missingAndConflictingOptions() {
        assertFails(2, "Missing required option: '--max-new-tokens=N'", "generate", "--model", "tiny-vanilla",
                "--prompt-ids", "1");
        assertFails(2, "Missing required argument (specify one of these): (--prompt=TEXT", "generate", "--model",
                "tiny-vanilla", "--max-new-tokens", "1");
        assertFails(2, "mutually exclusive", "generate", "--model", "tiny-vanilla", "--prompt", "a",
                "--prompt-ids", "1", "--max-new-tokens", "1");
        assertFails(2, "Invalid value for option '--format'", "generate", "--model", "tiny-vanilla",
                "--prompt-ids", "1", "--max-new-tokens", "1", "--format", "xml");
        assertFails(2, "Unknown options: '--max-tokens', '1'\nPossible solutions: --max-new-tokens", "generate", "--model", "tiny-vanilla",
                "--prompt-ids", "1", "--max-new-tokens", "1", "--max-tokens", "1");
    }

    @Test
    void internalErrorsSuggestVerbose() {
        services.generatorFailure = new IllegalStateException("kernel exploded");
        CliRun r = bt("generate", "--model", "tiny-vanilla", "--prompt-ids", "1", "--max-new-tokens", "1");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: internal error: java.lang.IllegalStateException: kernel exploded\n"
                + "Run again with --verbose"), r.err());
        assertFalse(r.err().contains("\tat "));
    }

    @Test
    void deviceFailuresAreShownAsTheirMessage() {
        services.generatorFailure = new DeviceException("out of device memory on GPU X in task graph 'g0': 4 GB"
                + " requested (lower the batch size)");
        CliRun r = bt("generate", "--model", "tiny-vanilla", "--prompt-ids", "1", "--max-new-tokens", "1");
        assertEquals(1, r.code());
        assertEquals("error: out of device memory on GPU X in task graph 'g0': 4 GB requested (lower the batch size)",
                r.err().strip());
    }

    @Test
    void verboseShowsTheStackTrace() {
        services.generatorFailure = new IllegalStateException("kernel exploded");
        CliRun r = bt("generate", "--verbose", "--model", "tiny-vanilla", "--prompt-ids", "1", "--max-new-tokens",
                "1");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("\tat "), r.err());
        assertTrue(r.err().contains("error: internal error: java.lang.IllegalStateException: kernel exploded"));
    }

    @Test
    void verboseAlsoWorksBeforeTheCommand() {
        services.generatorFailure = new IllegalStateException("kernel exploded");
        CliRun r = bt("-v", "generate", "--model", "tiny-vanilla", "--prompt-ids", "1", "--max-new-tokens", "1");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("\tat "), r.err());
    }

    @Test
    void engineArgumentErrorsAreUserErrors() {
        services.generatorFailure = new IllegalArgumentException("prompt too long for the cache");
        CliRun r = bt("generate", "--model", "tiny-vanilla", "--prompt-ids", "1", "--max-new-tokens", "1");
        assertEquals(1, r.code());
        assertEquals("error: prompt too long for the cache\n", r.err());
    }

    static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
