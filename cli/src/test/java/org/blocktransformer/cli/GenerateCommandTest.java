package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.loader.TinyCheckpoints;
import org.blocktransformer.loader.TinyTokenizers;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.engine.Batching;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code bt generate} on the real engine: tiny checkpoints with seeded random weights (a GPT-NeoX and a block
 * model, vocabulary 512, at most 64 tokens) and a byte-level tokenizer (text encodes to its UTF-8 bytes). Expected
 * tokens come from the library's own engine, run directly on the same requests.
 */
class GenerateCommandTest {

    @TempDir
    static Path tmp;
    static String vanilla;
    static String block;
    static Path tokenizer;

    @BeforeAll
    static void models() {
        vanilla = TinyCheckpoints.vanilla(tmp.resolve("tiny-vanilla")).toString();
        block = TinyCheckpoints.block(tmp.resolve("tiny-block")).toString();
        tokenizer = TinyTokenizers.bytes(tmp.resolve("tokenizer.json"), 512);
    }

    /** --verbose sets slf4j-simple's levels as system properties; keep them from leaking into later tests. */
    @AfterEach
    void resetLogLevels() {
        System.getProperties().stringPropertyNames().stream()
                .filter(k -> k.startsWith("org.slf4j.simpleLogger."))
                .forEach(System::clearProperty);
    }

    static CliRun bt(String... args) {
        return CliRun.run(new LibraryServices(), args);
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

    /** What the library's engine generates for these requests: the reference for the command's output. */
    static List<GenerationResult> direct(String model, List<GenerationRequest> requests) {
        try (InferenceEngine engine = InferenceEngine.open(ModelSources.load(model, WeightFormat.F32, 0),
                EngineOptions.defaults().withThreads(1))) {
            return engine.generateAll(requests);
        }
    }

    static GenerationRequest greedy(int maxNewTokens, int... prompt) {
        return new GenerationRequest(prompt, maxNewTokens, org.blocktransformer.model.generate.SamplingParams.GREEDY,
                true);
    }

    static String decode(int[] ids) {
        try (BtTokenizer tok = BtTokenizer.load(tokenizer)) {
            return tok.decodeGenerated(ids);
        }
    }

    /** The command as picocli builds it from {@code args}, without running it. */
    static GenerateCommand parsed(String... args) {
        CommandLine.ParseResult parsed = BtCommand.newCommandLine(new LibraryServices()).parseArgs(args);
        return (GenerateCommand) parsed.subcommand().commandSpec().userObject();
    }

    @Test
    void jsonOutputHasOneObjectPerPromptInInputOrder() throws Exception {
        CliRun r = bt("generate", "--model", block, "--prompt-ids", "1,2,3", "--prompt-ids", "10",
                "--max-new-tokens", "4", "--greedy", "--format", "json");
        assertEquals(0, r.code(), r::toString);
        assertEquals("", r.err(), "json mode keeps stderr quiet");
        List<JsonNode> lines = jsonLines(r.out());
        List<GenerationResult> want = direct(block, List.of(greedy(4, 1, 2, 3), greedy(4, 10)));
        assertEquals(2, lines.size());
        for (int i = 0; i < 2; i++) {
            JsonNode o = lines.get(i);
            assertArrayEquals(want.get(i).promptIds(), ints(o.get("prompt_ids")));
            assertArrayEquals(want.get(i).generatedIds(), ints(o.get("ids")));
            assertEquals(want.get(i).finishReason().name().toLowerCase(), o.get("finish_reason").textValue());
            assertFalse(o.has("text"), "no tokenizer, no text");
            double queued = o.get("queued_ms").doubleValue();
            double first = o.get("first_token_ms").doubleValue();
            assertTrue(0 <= queued && queued <= first && first <= o.get("total_ms").doubleValue(), o::toString);
        }
        List<String> fields = new ArrayList<>();
        lines.getFirst().fieldNames().forEachRemaining(fields::add);
        assertEquals(List.of("prompt_ids", "ids", "finish_reason", "queued_ms", "first_token_ms", "total_ms"), fields);
    }

    @Test
    void jsonHasTextWhenATokenizerIsGiven() throws Exception {
        CliRun r = bt("generate", "--model", vanilla, "--prompt", "ab", "--max-new-tokens", "6", "--ignore-eos",
                "--tokenizer", tokenizer.toString(), "--format", "json");
        assertEquals(0, r.code(), r::toString);
        JsonNode o = jsonLines(r.out()).getFirst();
        assertEquals("[97,98]", o.get("prompt_ids").toString(), "'a', 'b' as the byte tokenizer encodes them");
        int[] ids = ints(o.get("ids"));
        assertArrayEquals(direct(vanilla, List.of(new GenerationRequest(new int[] {97, 98}, 6,
                org.blocktransformer.model.generate.SamplingParams.GREEDY, false))).getFirst().generatedIds(), ids);
        assertEquals(decode(ids), o.get("text").textValue());
    }

    @Test
    void jsonEscapesNonAscii() throws Exception {
        CliRun r = bt("generate", "--model", vanilla, "--prompt", "\u00e8", "--max-new-tokens", "8", "--ignore-eos",
                "--tokenizer", tokenizer.toString(), "--format", "json");
        assertEquals(0, r.code(), r::toString);
        String text = jsonLines(r.out()).getFirst().get("text").textValue();
        assertTrue(text.chars().anyMatch(c -> c > 127), "the model's bytes make some non-ASCII text: " + text);
        assertTrue(r.out().chars().allMatch(c -> c < 128), "escaped as \\uXXXX: " + r.out());
    }

    /** The JSON objects without their timings, which differ from run to run. */
    private static List<JsonNode> untimed(String out) throws Exception {
        List<JsonNode> lines = jsonLines(out);
        for (JsonNode o : lines) {
            ((ObjectNode) o).remove(List.of("queued_ms", "first_token_ms", "total_ms"));
        }
        return lines;
    }

    @Test
    void progressAlwaysLogsAStatusLineAndLeavesTheOutputAsItIs() throws Exception {
        String[] args = {"generate", "--model", block, "--prompt-ids", "1,2,3", "--prompt-ids", "10",
                "--max-new-tokens", "4", "--format", "json"};
        CliRun plain = bt(args);
        CliRun logged = bt(concat(args, "--progress", "always"));
        assertEquals(0, logged.code(), logged::toString);
        assertEquals(untimed(plain.out()), untimed(logged.out()), "the status line goes to stderr only");
        assertTrue(logged.err().startsWith("0/2 prompts, 0 tokens, "), logged.err());
        assertEquals("", plain.err(), "not a terminal: no status line by default");
        CliRun text = bt("generate", "--model", vanilla, "--prompt-ids", "1", "--prompt-ids", "7",
                "--max-new-tokens", "2", "--ignore-eos", "--progress", "always");
        assertTrue(text.err().startsWith("0/2 prompts, 0 tokens, "), text.err());
        assertTrue(text.err().contains("2 prompts, 4 new tokens"), text.err());
        CliRun one = bt("generate", "--model", vanilla, "--prompt-ids", "1", "--max-new-tokens", "2",
                "--progress", "always");
        assertFalse(one.err().contains("prompts, 0 tokens"), "one prompt's text is its own progress: " + one.err());
    }

    @Test
    void textOutputPrintsIdsAndASummaryOnStderr() {
        CliRun r = bt("generate", "--model", vanilla, "--prompt-ids", "1,2,3", "--max-new-tokens", "3");
        assertEquals(0, r.code(), r::toString);
        int[] want = direct(vanilla, List.of(greedy(3, 1, 2, 3))).getFirst().generatedIds();
        assertEquals(GenerateCommand.joinIds(want) + "\n", r.out());
        assertTrue(r.err().matches("(?s)1 prompt, " + want.length
                + " new tokens in [0-9.]+ s: .* tok/s \\(model loaded in .*\\)\\n"), r.err());
    }

    @Test
    void textOutputOfOnePromptIsItsText() {
        CliRun r = bt("generate", "--model", vanilla, "--prompt", "hi", "--tokenizer", tokenizer.toString(),
                "--max-new-tokens", "10", "--ignore-eos");
        assertEquals(0, r.code(), r::toString);
        int[] want = direct(vanilla, List.of(new GenerationRequest(new int[] {104, 105}, 10,
                org.blocktransformer.model.generate.SamplingParams.GREEDY, false))).getFirst().generatedIds();
        assertEquals(decode(want) + "\n", r.out());
    }

    /** Each prompt in its block, headed with its number, in the order they finish. */
    @Test
    void textOutputSeparatesSeveralPrompts() {
        CliRun r = bt("generate", "--model", vanilla, "--prompt-ids", "1", "--prompt-ids", "7,8",
                "--max-new-tokens", "2", "--ignore-eos");
        assertEquals(0, r.code(), r::toString);
        List<GenerationResult> want = direct(vanilla, List.of(greedy(2, 1), greedy(2, 7, 8)));
        Set<String> blocks = new HashSet<>();
        for (int i = 0; i < 2; i++) {
            blocks.add("### " + (i + 1) + "/2 (" + want.get(i).promptIds().length + " prompt tokens, 2 new, length)\n"
                    + GenerateCommand.joinIds(want.get(i).generatedIds()) + "\n");
        }
        String[] lines = r.out().split("\n");
        assertEquals(4, lines.length, r.out());
        assertEquals(blocks, Set.of(lines[0] + "\n" + lines[1] + "\n", lines[2] + "\n" + lines[3] + "\n"));
        assertTrue(r.err().startsWith("2 prompts, 4 new tokens"), r.err());
    }

    @Test
    void promptsFileMixesTextAndIds() throws Exception {
        Path f = Files.writeString(tmp.resolve("mixed.jsonl"), "\"A\"\n\n[5, 6]\n");
        CliRun r = bt("generate", "--model", vanilla, "--prompts-file", f.toString(), "--tokenizer",
                tokenizer.toString(), "--max-new-tokens", "3", "--format", "json");
        assertEquals(0, r.code(), r::toString);
        List<JsonNode> lines = jsonLines(r.out());
        assertEquals("[65]", lines.get(0).get("prompt_ids").toString());
        assertEquals(decode(ints(lines.get(0).get("ids"))), lines.get(0).get("text").textValue());
        assertEquals("[5,6]", lines.get(1).get("prompt_ids").toString());
    }

    @Test
    void optionsBecomeTheEnginesOptionsAndTheRequests() {
        GenerateCommand g = parsed("generate", "--model", vanilla, "--prompt-ids", "1", "--prompt-ids", "2",
                "--max-new-tokens", "5", "--temperature", "0.7", "--top-k", "40", "--top-p", "0.9", "--seed", "11",
                "--ignore-eos", "--batch-size", "1", "--batching", "STATIC", "--threads", "2", "--weights", "bf16",
                "--cache-memory", "64m", "--kv-cache", "f16");
        ModelConfig config = ModelSources.config(vanilla);
        List<int[]> prompts = List.of(new int[] {1}, new int[] {2});
        EngineOptions options = g.engineOptions(config, prompts);
        assertEquals(1, options.maxBatchSize());
        assertEquals(Batching.STATIC, options.batching());
        assertEquals(2, options.threads());
        assertEquals(64L << 20, options.cacheMemoryBytes());
        assertEquals(org.blocktransformer.model.backend.KvFormat.F16, options.kvCache());
        assertEquals(WeightFormat.BF16, g.model.weights.weights);
        List<GenerationRequest> requests = g.requests(prompts, g.samplingParams());
        GenerationRequest a = requests.get(0);
        GenerationRequest b = requests.get(1);
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
        GenerateCommand g = parsed("generate", "--model", vanilla, "--prompt-ids", "1", "--max-new-tokens", "2");
        GenerationRequest a = g.requests(List.of(new int[] {1}), g.samplingParams()).getFirst();
        assertTrue(a.sampling().isGreedy());
        assertTrue(a.stopAtEos());
        EngineOptions options = g.engineOptions(ModelSources.config(vanilla), List.of(new int[] {1}));
        assertEquals(32, options.maxBatchSize());
        assertEquals(Batching.CONTINUOUS, options.batching());
        assertEquals(WeightFormat.F32, g.model.weights.weights);
        assertTrue(options.cacheMemoryBytes() > 0, "a cache for the prompts given");
        assertTrue(parsed("generate", "--model", vanilla, "--prompt-ids", "1", "--max-new-tokens", "1",
                "--temperature", "0").samplingParams().isGreedy(), "temperature 0 is greedy");
        var topP = parsed("generate", "--model", vanilla, "--prompt-ids", "1", "--max-new-tokens", "2", "--top-p",
                "0.5").samplingParams();
        assertEquals(1.0, topP.temperature(), "top-p alone samples at temperature 1");
        assertEquals(0.5, topP.topP());
    }

    /** Prompt i samples with seed + i whatever shares its batch: alone with that seed, it gives the same tokens. */
    @Test
    void samplingIsSeededPerPrompt() throws Exception {
        CliRun both = bt("generate", "--model", block, "--prompt-ids", "1,2", "--prompt-ids", "3,4,5",
                "--max-new-tokens", "12", "--ignore-eos", "--temperature", "1.5", "--seed", "20", "--format", "json");
        CliRun second = bt("generate", "--model", block, "--prompt-ids", "3,4,5", "--max-new-tokens", "12",
                "--ignore-eos", "--temperature", "1.5", "--seed", "21", "--format", "json");
        CliRun greedy = bt("generate", "--model", block, "--prompt-ids", "3,4,5", "--max-new-tokens", "12",
                "--ignore-eos", "--format", "json");
        JsonNode sampled = jsonLines(second.out()).getFirst().get("ids");
        assertEquals(jsonLines(both.out()).get(1).get("ids"), sampled);
        assertFalse(sampled.equals(jsonLines(greedy.out()).getFirst().get("ids")), "sampling changed the tokens");
    }

    @Test
    void streamPrintsEveryTokenThenEachResultWithItsIndex() throws Exception {
        CliRun r = bt("generate", "--model", block, "--prompt-ids", "1,2,3", "--prompt-ids", "10",
                "--max-new-tokens", "6", "--tokenizer", tokenizer.toString(), "--format", "json", "--stream");
        assertEquals(0, r.code(), r::toString);
        List<List<Integer>> events = List.of(new ArrayList<>(), new ArrayList<>());
        StringBuilder[] pieces = {new StringBuilder(), new StringBuilder()};
        int results = 0;
        for (JsonNode line : jsonLines(r.out())) {
            int index = line.get("index").intValue();
            if (line.has("prompt_ids")) {
                results++;
                assertEquals(index == 0 ? "[1,2,3]" : "[10]", line.get("prompt_ids").toString());
                // Its token events came before it, one per generated id, in order; their text makes its text.
                assertEquals(Arrays.stream(ints(line.get("ids"))).boxed().toList(), events.get(index), line::toString);
                assertTrue(line.get("text").textValue().startsWith(pieces[index].toString()), line::toString);
            } else {
                events.get(index).add(line.get("id").intValue());
                pieces[index].append(line.get("text").textValue());
            }
        }
        assertEquals(2, results);
    }

    @Test
    void streamNeedsJson() {
        assertFails(2, "--stream selects JSON events per token: add --format json",
                "generate", "--model", block, "--prompt-ids", "1", "--max-new-tokens", "2", "--stream");
    }

    @Test
    void unknownBackendIsAClearError() {
        assertFails(1, "unknown backend 'warp'", "generate", "--model", block, "--prompt-ids", "1",
                "--max-new-tokens", "2", "--backend", "warp");
    }

    // ---- errors: one clear line, the right exit code, no stack trace ----

    static void assertFails(int code, String messagePart, String... args) {
        CliRun r = bt(args);
        assertEquals(code, r.code(), r::toString);
        assertEquals("", r.out(), "errors print nothing on stdout");
        assertTrue(r.err().startsWith("error: "), r::toString);
        assertTrue(r.err().contains(messagePart), () -> "expected '" + messagePart + "' in\n" + r.err());
        assertFalse(r.err().contains("\tat "), () -> "stack trace without --verbose:\n" + r.err());
    }

    @Test
    void unknownModel() {
        assertFails(1, "'nope' is neither a preset nor a checkpoint directory", "generate", "--model", "nope",
                "--prompt-ids", "1", "--max-new-tokens", "1");
    }

    /** The engine's check of a request, told where the prompt came from. */
    @Test
    void idOutsideTheVocabulary() {
        assertFails(1, "--prompt-ids #2: prompt token 1 has id 512, outside the vocabulary [0, 512)",
                "generate", "--model", vanilla, "--prompt-ids", "1", "--prompt-ids", "3,512",
                "--max-new-tokens", "1");
    }

    @Test
    void idOutsideTheVocabularyInAFile() throws Exception {
        Path f = Files.writeString(tmp.resolve("big-id.jsonl"), "[1]\n[2, 9999]\n");
        assertFails(1, "line 2 of " + f + ": prompt token 1 has id 9999", "generate", "--model", vanilla,
                "--prompts-file", f.toString(), "--max-new-tokens", "1");
    }

    @Test
    void tooLongForTheModel() {
        assertFails(1, "--prompt-ids: prompt of 3 tokens plus 63 new tokens needs 65 positions, more than the"
                + " model's 64", "generate", "--model", vanilla, "--prompt-ids", "1,2,3", "--max-new-tokens", "63");
        assertFails(1, "--prompt-ids: prompt of 3 tokens plus 2147483647 new tokens needs", "generate", "--model",
                block, "--prompt-ids", "1,2,3", "--max-new-tokens", "2147483647");
    }

    @Test
    void cacheTooSmallForAPromptSaysHowMuchToGive() {
        // Pages of 16 positions of 2 layers x 64 keys and values: 16 KiB; the request needs 62 positions.
        assertFails(1, "--prompt-ids: prompt of 3 tokens plus 60 new tokens needs 64k of KV cache, more than the"
                + " engine's whole cache of 32k: --cache-memory 64k or more", "generate", "--model", vanilla,
                "--prompt-ids", "1,2,3", "--max-new-tokens", "60", "--cache-memory", "32k");
    }

    @Test
    void nonNumericPromptIds() {
        assertFails(2, "Invalid value for option '--prompt-ids' (IDS): 'x' is not a token id", "generate",
                "--model", vanilla, "--prompt-ids", "1,x", "--max-new-tokens", "1");
    }

    @Test
    void malformedPromptsFileLine() throws Exception {
        Path f = Files.writeString(tmp.resolve("malformed.jsonl"), "[1]\n[2,\n");
        assertFails(1, "line 2 of " + f + ": not valid JSON", "generate", "--model", vanilla,
                "--prompts-file", f.toString(), "--max-new-tokens", "1");
    }

    @Test
    void missingPromptsFile() {
        assertFails(1, "prompts file not found", "generate", "--model", vanilla,
                "--prompts-file", tmp.resolve("none.jsonl").toString(), "--max-new-tokens", "1");
    }

    @Test
    void textPromptWithoutTokenizer() {
        assertFails(1, "--prompt is text, but no tokenizer is known for model '" + vanilla
                        + "': pass --tokenizer FILE", "generate", "--model", vanilla, "--prompt", "hello",
                "--max-new-tokens", "1");
    }

    @Test
    void missingTokenizerFile() {
        assertFails(1, "tokenizer file not found", "generate", "--model", vanilla, "--prompt", "hello",
                "--tokenizer", tmp.resolve("t.json").toString(), "--max-new-tokens", "1");
    }

    @Test
    void emptyTextPrompt() {
        assertFails(1, "--prompt: the prompt is empty", "generate", "--model", vanilla, "--prompt", "",
                "--tokenizer", tokenizer.toString(), "--max-new-tokens", "1");
    }

    /**
     * A tokenizer whose ids go beyond the model's vocabulary is refused; a smaller one (as Pythia's 50,277 tokens
     * for 50,304 ids) is accepted, the ids it has no token for adding no text.
     */
    @Test
    void theTokenizerMustFitTheModelsVocabulary() throws Exception {
        Path big = TinyTokenizers.bytes(tmp.resolve("big/tokenizer.json"), 513);
        assertFails(1, big + ": the tokenizer's ids go up to 512, beyond the model's vocabulary of 512 ids [0, 512)",
                "generate", "--model", vanilla, "--prompt", "hi", "--tokenizer", big.toString(),
                "--max-new-tokens", "1");
        Path small = TinyTokenizers.bytes(tmp.resolve("small/tokenizer.json"), 256);
        CliRun r = bt("generate", "--model", vanilla, "--prompt", "hi", "--tokenizer", small.toString(),
                "--max-new-tokens", "16", "--ignore-eos", "--format", "json");
        assertEquals(0, r.code(), r::toString);
        JsonNode o = jsonLines(r.out()).getFirst();
        int[] ids = ints(o.get("ids"));
        assertTrue(Arrays.stream(ids).anyMatch(id -> id >= 256), "ids past the tokenizer's: " + Arrays.toString(ids));
        try (BtTokenizer tok = BtTokenizer.load(small)) {
            assertEquals(tok.decode(Arrays.stream(ids).filter(id -> id < 256).toArray()), o.get("text").textValue());
        }
    }

    /** A config.json with a size near 1e9 is refused when it is read, in one line, naming the field. */
    @Test
    void hugeConfigSizesAreOneLineErrors() throws Exception {
        Path dir = TinyCheckpoints.vanilla(tmp.resolve("huge"));
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"vocab_size\": 512",
                "\"vocab_size\": 1000000000"));
        String message = config + ": vocab_size 1000000000 x hidden_size 64 is too large: embed_out would hold";
        assertFails(1, message, "generate", "--model", dir.toString(), "--prompt-ids", "1", "--max-new-tokens", "1");
        assertFails(1, message, "info", "--model", dir.toString());
    }

    @Test
    void greedyWithSamplingOptions() {
        assertFails(2, "--greedy cannot be combined with --temperature", "generate", "--model", vanilla,
                "--prompt-ids", "1", "--max-new-tokens", "1", "--greedy", "--temperature", "0.5");
        assertFails(2, "--greedy cannot be combined with --top-k, --top-p", "generate", "--model", vanilla,
                "--prompt-ids", "1", "--max-new-tokens", "1", "--greedy", "--top-k", "5", "--top-p", "0.5");
    }

    @Test
    void negativeAndOutOfRangeNumbers() {
        String[] base = {"generate", "--model", vanilla, "--prompt-ids", "1"};
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
        assertFails(2, "token id -4 is negative", "generate", "--model", vanilla, "--prompt-ids", "-4",
                "--max-new-tokens", "1");
        assertFails(2, "'abc' is not an int", concat(base, "--max-new-tokens", "abc"));
        assertFails(2, "'-5m' is negative", concat(base, "--max-new-tokens", "1", "--cache-memory", "-5m"));
        assertFails(2, "'lots' is not a size", concat(base, "--max-new-tokens", "1", "--cache-memory", "lots"));
        assertFails(2, "--top-k and --top-p need a temperature > 0", "generate", "--model", vanilla,
                "--prompt-ids", "1", "--max-new-tokens", "1", "--temperature", "0", "--top-k", "3");
    }

    @Test
    void missingAndConflictingOptions() {
        assertFails(2, "Missing required option: '--max-new-tokens=N'", "generate", "--model", vanilla,
                "--prompt-ids", "1");
        assertFails(2, "Missing required argument (specify one of these): (--prompt=TEXT", "generate", "--model",
                vanilla, "--max-new-tokens", "1");
        assertFails(2, "mutually exclusive", "generate", "--model", vanilla, "--prompt", "a",
                "--prompt-ids", "1", "--max-new-tokens", "1");
        assertFails(2, "Invalid value for option '--format'", "generate", "--model", vanilla,
                "--prompt-ids", "1", "--max-new-tokens", "1", "--format", "xml");
        assertFails(2, "Unknown options: '--max-tokens', '1'\nPossible solutions: --max-new-tokens", "generate",
                "--model", vanilla, "--prompt-ids", "1", "--max-new-tokens", "1", "--max-tokens", "1");
    }

    /** The engine failing, through a test backend that fails to open in the way its device names. */
    private static String[] failing(String how) {
        return new String[] {"generate", "--model", vanilla, "--prompt-ids", "1", "--max-new-tokens", "1",
                "--backend", FailingBackendProvider.NAME, "--device", how};
    }

    @Test
    void internalErrorsSuggestVerbose() {
        CliRun r = bt(failing("internal"));
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: internal error: java.lang.IllegalStateException: kernel exploded\n"
                + "Run again with --verbose"), r.err());
        assertFalse(r.err().contains("\tat "));
    }

    @Test
    void deviceFailuresAreShownAsTheirMessage() {
        CliRun r = bt(failing("device"));
        assertEquals(1, r.code());
        assertEquals("error: out of device memory on GPU X in task graph 'g0': 4 GB requested (lower the batch size)",
                r.err().strip());
    }

    @Test
    void verboseShowsTheStackTrace() {
        CliRun r = bt(concat(failing("internal"), "--verbose"));
        assertEquals(1, r.code());
        assertTrue(r.err().contains("\tat "), r.err());
        assertTrue(r.err().contains("error: internal error: java.lang.IllegalStateException: kernel exploded"));
    }

    @Test
    void verboseAlsoWorksBeforeTheCommand() {
        CliRun r = bt(concat(new String[] {"-v"}, failing("internal")));
        assertEquals(1, r.code());
        assertTrue(r.err().contains("\tat "), r.err());
    }

    @Test
    void engineArgumentErrorsAreUserErrors() {
        CliRun r = bt(failing("argument"));
        assertEquals(1, r.code());
        assertEquals("error: no device 'argument' here\n", r.err());
    }

    static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
