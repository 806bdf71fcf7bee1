package org.blocktransformer.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.blocktransformer.loader.text.BatchListener;
import org.blocktransformer.loader.text.TextEngine;
import org.blocktransformer.loader.text.TextResult;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.backend.Backends;
import org.blocktransformer.model.cache.CacheGeometry;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.engine.Batching;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.weights.ModelWeights;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bt generate}: continue prompts with a model. */
@Command(name = "generate",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Continue prompts with a model and print the new tokens.",
        description = {
                "Continue one or more prompts with a model and print the new tokens. Prompts are given as text"
                        + " (needs a tokenizer) or as token ids. Several prompts are decoded together in batches;"
                        + " a sequence's tokens do not depend on which others share its batch.",
                ""},
        footerHeading = "%nExamples:%n",
        footer = {
                "  bt generate --model block-b4-5m --prompt-ids 1,2,3 \\",
                "      --max-new-tokens 16 --greedy --format json",
                "  bt generate --model path/to/checkpoint --prompt 'Once upon a time' \\",
                "      --max-new-tokens 64 --temperature 0.8 --top-p 0.95 --seed 7",
                "  bt generate --model vanilla-70m --prompts-file prompts.jsonl \\",
                "      --max-new-tokens 128 --batch-size 8 --ignore-eos",
                "",
                "A prompts file holds one JSON value per line: a string (text; needs a tokenizer) or an array of"
                        + " token ids. Blank lines are skipped. For example:",
                "  \"The capital of France is\"",
                "  [510, 5347, 273, 6181, 310]",
                "",
                "--format json prints one object per prompt per line, in input order:",
                "  {\"prompt_ids\":[...],\"ids\":[new ids only],\"text\":\"...\",",
                "   \"finish_reason\":\"length\"|\"eos\",",
                "   \"queued_ms\":..,\"first_token_ms\":..,\"total_ms\":..}",
                "\"text\" is there when a tokenizer is known. Text format prints the new text (or ids) of each"
                        + " prompt, and a summary line (tokens, tok/s) on standard error."})
public final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    LoggingMixin logging;

    @Mixin
    ComputeOptions compute;

    @Mixin
    ModelOptions model;

    @ArgGroup(exclusive = true, multiplicity = "1", heading = "%nPrompts (one of):%n")
    PromptOptions prompts;

    static final class PromptOptions {
        @Option(names = "--prompt", paramLabel = "TEXT", required = true,
                description = "A text prompt (needs a tokenizer). Repeat for several prompts.")
        List<String> texts;

        @Option(names = "--prompt-ids", paramLabel = "IDS", required = true, converter = IdListConverter.class,
                description = "A prompt as comma-separated token ids, e.g. 1,2,3. Repeat for several prompts.")
        List<int[]> ids;

        @Option(names = "--prompts-file", paramLabel = "FILE", required = true,
                description = "JSON Lines file: one string or array of token ids per line ('-' = standard input).")
        String file;
    }

    @Option(names = "--max-new-tokens", required = true, paramLabel = "N",
            description = "Tokens to generate per prompt (at most; EOS stops earlier unless --ignore-eos).")
    int maxNewTokens;

    @Option(names = "--greedy",
            description = "Always pick the most likely token (the default when no sampling option is given).")
    boolean greedy;

    @Option(names = "--temperature", paramLabel = "T",
            description = "Sample with this temperature (> 0; 0 = greedy). Default: greedy, or 1.0 when --top-k or"
                    + " --top-p is given.")
    Double temperature;

    @Option(names = "--top-k", paramLabel = "K",
            description = "Sample only among the K most likely tokens (0 = no limit). Default: 0.")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "P",
            description = "Nucleus sampling: the smallest set of tokens whose probability reaches P, in (0, 1]."
                    + " Default: 1.0 (no limit).")
    Double topP;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "Sampling seed; prompt i (from 0) uses S + i. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--ignore-eos",
            description = "Do not stop at the end-of-sequence token: always generate --max-new-tokens tokens.")
    boolean ignoreEos;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "32",
            description = "Most prompts decoded together (1 = one at a time). Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--batching", paramLabel = "MODE", defaultValue = "continuous",
            description = "static (a batch starts and ends together) or continuous (finished rows leave, waiting"
                    + " prompts join). Default: ${DEFAULT-VALUE}.")
    Batching batching;

    @Option(names = "--cache-memory", paramLabel = "SIZE", defaultValue = "0", converter = ByteSizeConverter.class,
            description = "Memory for the global KV cache, e.g. 512m or 4g (0 = enough for a full batch of the longest prompt). The engine"
                    + " admits only as many sequences at once as fit. Default: ${DEFAULT-VALUE}.")
    long cacheMemory;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.json (Hugging Face format), or a directory holding one, for text prompts and"
                    + " decoded output. Default: the tokenizer.json in the model directory, if there is one.")
    Path tokenizer;

    @Option(names = "--format", paramLabel = "FMT", defaultValue = "text",
            description = "Output: text or json (one object per prompt per line). Default: ${DEFAULT-VALUE}.")
    OutputFormat format;

    /** When {@code --progress} shows a status line. */
    enum ProgressMode {
        auto, always, never;

        boolean show(boolean terminal) {
            return this == always || (this == auto && terminal);
        }
    }

    @Option(names = "--progress", paramLabel = "WHEN", defaultValue = "auto",
            description = "A status line on standard error while output is held back (several prompts as text,"
                    + " or --format json): prompts done, tokens, tok/s. auto: when run from a terminal (redrawn in"
                    + " place); always: also into a log (a line every 5 s); never. One prompt's text and --stream"
                    + " show their tokens as they come instead. Default: ${DEFAULT-VALUE}.")
    ProgressMode progress;

    @Option(names = "--stream",
            description = "With --format json: print one event per generated token ({\"index\", \"id\","
                    + " \"text\"}, index = the prompt's position in the input, text = the characters that token"
                    + " completed) and each prompt's object (with \"index\") as soon as it finishes, instead of"
                    + " all objects in input order at the end. Text output streams by itself.")
    boolean stream;

    @Override
    public Integer call() {
        try {
            return run();
        } catch (OutOfMemoryError e) {
            throw new CliException(Errors.describe(e), e);
        }
    }

    private int run() {
        SamplingParams sampling = samplingParams();
        validateNumbers();
        if (stream && format != OutputFormat.json) {
            throw usage("--stream selects JSON events per token: add --format json (text output streams by itself:"
                    + " one prompt as its tokens come, several each as it finishes)");
        }
        try {
            Backends.require(compute.backend);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
        List<Prompt> inputs = collectPrompts();
        // The tokenizer first, so that a text prompt it cannot encode fails before the model is loaded.
        Path tokenizerFile = tokenizerFile(inputs);
        BtTokenizer tok = tokenizerFile == null ? null : BtTokenizer.load(tokenizerFile);
        List<GenerationRequest> requests;
        ModelWeights w;
        EngineOptions options;
        long loadNanos;
        try {
            List<int[]> promptIds = encode(inputs, tok);
            long t0 = System.nanoTime();
            w = model.load(compute.backend);
            loadNanos = System.nanoTime() - t0;
            requests = requests(promptIds, sampling);
            options = engineOptions(w.config(), promptIds);
        } catch (RuntimeException | Error e) {
            if (tok != null) {
                tok.close();
            }
            throw e;
        }
        if (sampling.isGreedy() && spec.commandLine().getParseResult().hasMatchedOption("--seed")) {
            spec.commandLine().getErr().println("warning: --seed has no effect with greedy decoding (give"
                    + " --temperature, --top-k or --top-p to sample)");
        }
        PrintWriter err = spec.commandLine().getErr();
        boolean heldBack = !stream && (format == OutputFormat.json || requests.size() > 1);
        GenerationProgress counts = new GenerationProgress(requests.size(), System::nanoTime);
        boolean terminal = StatusLine.onTerminal();
        // The engine owns the tokenizer from here on (and closes it if opening fails).
        try (TextEngine engine = TextEngine.open(w, tok, options);
             StatusLine line = heldBack && progress.show(terminal) ? new StatusLine(err, terminal, counts::text)
                     : null) {
            check(engine, requests, inputs);
            long t1 = System.nanoTime();
            if (stream) {
                engine.generateAll(requests, new JsonEvents(spec.commandLine().getOut()));
                return 0;
            }
            if (format == OutputFormat.text) {
                List<TextResult> results = engine.generateAll(requests,
                        new TextOutput(spec.commandLine().getOut(), requests.size(), counts, line));
                long genNanos = System.nanoTime() - t1;
                String done = summary(results.size(), results.stream().mapToLong(r -> r.ids().length).sum(),
                        loadNanos, genNanos);
                above(line, () -> err.println(done));
                return 0;
            }
            printJson(engine.generateAll(requests, counting(counts)));
        }
        return 0;
    }

    /** Prompt i samples with seed + i, whatever batch it lands in. */
    List<GenerationRequest> requests(List<int[]> promptIds, SamplingParams sampling) {
        List<GenerationRequest> requests = new ArrayList<>(promptIds.size());
        for (int i = 0; i < promptIds.size(); i++) {
            SamplingParams s = sampling.isGreedy() ? sampling
                    : SamplingParams.sample(sampling.temperature(), sampling.topK(), sampling.topP(), seed + i);
            requests.add(new GenerationRequest(promptIds.get(i), maxNewTokens, s, !ignoreEos));
        }
        return requests;
    }

    /** The engine these options ask for. */
    EngineOptions engineOptions(ModelConfig config, List<int[]> promptIds) {
        return EngineOptions.defaults()
                .withMaxBatchSize(batchSize)
                .withBatching(batching)
                .withThreads(compute.threads)
                .withCacheMemoryBytes(cacheMemory > 0 ? cacheMemory : cacheFor(config, promptIds))
                .withBackend(compute.backend, compute.device)
                .withKvCache(compute.kvCache())
                .withTensorCores(compute.tensorCores());
    }

    /**
     * Enough cache for a full batch of the longest prompt plus its new tokens, and no more; a request longer than
     * the model allows is sized at the model's limit, and the engine's check refuses it.
     */
    private long cacheFor(ModelConfig config, List<int[]> promptIds) {
        int longest = promptIds.stream().mapToInt(p -> p.length).max().orElse(1);
        int rows = Math.min(batchSize, promptIds.size());
        int tokens = (int) Math.min((long) longest + maxNewTokens, config.maxSequenceTokens());
        return new CacheGeometry(config, compute.kvCache()).globalBytesFor(rows, tokens);
    }

    /**
     * The engine's check of each request (ids inside the vocabulary, prompt plus new tokens within the model's
     * positions, pages within the cache), before any starts, the message naming where the prompt came from.
     */
    private static void check(TextEngine engine, List<GenerationRequest> requests, List<Prompt> inputs) {
        for (int i = 0; i < requests.size(); i++) {
            try {
                engine.engine().validate(requests.get(i));
            } catch (IllegalArgumentException e) {
                throw new CliException(inputs.get(i).origin() + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * {@code --format json --stream}: an event per token, {@code {"index", "id", "text"}} (text: the characters the
     * token completed, so the pieces of a prompt concatenate to its text), then each prompt's object with its index
     * as it finishes.
     */
    private record JsonEvents(PrintWriter out) implements BatchListener {
        @Override
        public void token(int index, int id, String text) {
            ObjectNode e = Json.object();
            e.put("index", index);
            e.put("id", id);
            if (text != null) {
                e.put("text", text);
            }
            out.println(Json.line(e));
            out.flush();
        }

        @Override
        public void finished(int index, TextResult result, String tail) {
            ObjectNode o = Json.object();
            o.put("index", index);
            o.setAll(toJson(result));
            out.println(Json.line(o));
            out.flush();
        }
    }

    /**
     * Text output as it is produced: one prompt's text (or ids) piece by piece as its tokens come; several prompts
     * each in a block, headed {@code ### i/n}, as each finishes (blocks in finishing order; the header names the
     * prompt). Counts tokens and finished prompts for the status line.
     */
    private static final class TextOutput implements BatchListener {
        private final PrintWriter out;
        private final int prompts;
        private final GenerationProgress counts;
        private final StatusLine line;
        private boolean first = true;

        TextOutput(PrintWriter out, int prompts, GenerationProgress counts, StatusLine line) {
            this.out = out;
            this.prompts = prompts;
            this.counts = counts;
            this.line = line;
        }

        @Override
        public boolean decodesTokens() {
            return prompts == 1;
        }

        @Override
        public void token(int index, int id, String text) {
            counts.token();
            if (prompts == 1) {
                out.print(text != null ? text : (first ? "" : " ") + id);
                first = false;
                out.flush();
            }
        }

        @Override
        public void finished(int index, TextResult r, String tail) {
            counts.finished();
            above(line, () -> {
                if (prompts == 1) {
                    out.println(tail != null ? tail : "");
                } else {
                    out.println("### " + (index + 1) + "/" + prompts + " (" + r.promptIds().length
                            + " prompt tokens, " + r.ids().length + " new, " + finishReason(r) + ")");
                    out.println(r.text() != null ? r.text() : joinIds(r.ids()));
                }
                out.flush();
            });
        }
    }

    /** Counts tokens and finished prompts for the status line, while JSON output is held back. */
    private static BatchListener counting(GenerationProgress counts) {
        return new BatchListener() {
            @Override
            public boolean decodesTokens() {
                return false;
            }

            @Override
            public void token(int index, int id, String text) {
                counts.token();
            }

            @Override
            public void finished(int index, TextResult result, String tail) {
                counts.finished();
            }
        };
    }

    /** Prints with the status line (if any) cleared first, so the two do not draw over each other. */
    private static void above(StatusLine line, Runnable print) {
        if (line != null) {
            line.above(print);
        } else {
            print.run();
        }
    }

    /** Greedy or sampling parameters from the options (prompt i adds i to the seed: {@link #requests}). */
    SamplingParams samplingParams() {
        boolean anySampling = temperature != null || topK != null || topP != null;
        if (greedy && anySampling) {
            throw usage("--greedy cannot be combined with " + samplingOptionsGiven()
                    + " (greedy decoding always picks the most likely token)");
        }
        if (temperature != null && (!(temperature >= 0) || temperature.isInfinite())) {
            throw usage("--temperature must be a number >= 0, got " + temperature);
        }
        if (topK != null && topK < 0) {
            throw usage("--top-k must be >= 0 (0 = no limit), got " + topK);
        }
        if (topP != null && !(topP > 0 && topP <= 1)) {
            throw usage("--top-p must be in (0, 1], got " + topP);
        }
        if (!anySampling) {
            return SamplingParams.GREEDY;
        }
        double t = temperature == null ? 1.0 : temperature;
        if (t == 0) {
            if (topK != null || topP != null) {
                throw usage("--top-k and --top-p need a temperature > 0 (--temperature 0 is greedy decoding)");
            }
            return SamplingParams.GREEDY;
        }
        return SamplingParams.sample(t, topK == null ? 0 : topK, topP == null ? 1.0 : topP, seed);
    }

    private String samplingOptionsGiven() {
        List<String> given = new ArrayList<>();
        if (temperature != null) {
            given.add("--temperature");
        }
        if (topK != null) {
            given.add("--top-k");
        }
        if (topP != null) {
            given.add("--top-p");
        }
        return String.join(", ", given);
    }

    private void validateNumbers() {
        if (maxNewTokens < 1) {
            throw usage("--max-new-tokens must be at least 1, got " + maxNewTokens);
        }
        if (batchSize < 1) {
            throw usage("--batch-size must be at least 1, got " + batchSize);
        }
        if (compute.problem() != null) {
            throw usage(compute.problem());
        }
    }

    private List<Prompt> collectPrompts() {
        List<Prompt> out = new ArrayList<>();
        if (prompts.texts != null) {
            for (int i = 0; i < prompts.texts.size(); i++) {
                out.add(new Prompt.Text(prompts.texts.get(i), origin("--prompt", i, prompts.texts.size())));
            }
        } else if (prompts.ids != null) {
            for (int i = 0; i < prompts.ids.size(); i++) {
                out.add(new Prompt.Ids(prompts.ids.get(i), origin("--prompt-ids", i, prompts.ids.size())));
            }
        } else {
            out.addAll(Prompts.readFile(prompts.file, System.in));
        }
        return out;
    }

    private static String origin(String option, int i, int n) {
        return n == 1 ? option : option + " #" + (i + 1);
    }

    private Path tokenizerFile(List<Prompt> inputs) {
        if (tokenizer != null) {
            return TokenizeCommand.tokenizerFile(tokenizer);
        }
        Optional<Path> beside = model.tokenizerBeside();
        if (beside.isPresent()) {
            return beside.get();
        }
        for (Prompt p : inputs) {
            if (p instanceof Prompt.Text) {
                throw new CliException(p.origin() + " is text, but no tokenizer is known for model '" + model.model
                        + "': pass --tokenizer FILE (a tokenizer.json), or give token ids (--prompt-ids, or arrays"
                        + " of ids in --prompts-file)");
            }
        }
        return null;
    }

    private static List<int[]> encode(List<Prompt> inputs, BtTokenizer tok) {
        List<int[]> out = new ArrayList<>(inputs.size());
        for (Prompt p : inputs) {
            int[] ids = switch (p) {
                case Prompt.Text t -> tok.encode(t.text());
                case Prompt.Ids d -> d.ids();
            };
            if (ids.length == 0) {
                throw new CliException(p.origin() + ": the prompt is empty (it encodes to no tokens)");
            }
            out.add(ids);
        }
        return out;
    }

    /** {@code --format json}: one object per prompt, in input order (text output streams: {@link TextOutput}). */
    private void printJson(List<TextResult> results) {
        PrintWriter out = spec.commandLine().getOut();
        for (TextResult r : results) {
            out.println(Json.line(toJson(r)));
        }
        out.flush();
    }

    static ObjectNode toJson(TextResult r) {
        ObjectNode o = Json.object();
        o.set("prompt_ids", Json.ids(r.promptIds()));
        o.set("ids", Json.ids(r.ids()));
        if (r.text() != null) {
            o.put("text", r.text());
        }
        o.put("finish_reason", finishReason(r));
        o.put("queued_ms", millis(r.queuedMillis()));
        o.put("first_token_ms", millis(r.firstTokenMillis()));
        o.put("total_ms", millis(r.totalMillis()));
        return o;
    }

    private static String finishReason(TextResult r) {
        return r.finishReason() == null ? "unknown" : r.finishReason().name().toLowerCase(Locale.ROOT);
    }

    /** To the microsecond. */
    private static double millis(double ms) {
        return Math.round(ms * 1e3) / 1e3;
    }

    static String joinIds(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(ids[i]);
        }
        return sb.toString();
    }

    static String summary(int prompts, long newTokens, long loadNanos, long genNanos) {
        double secs = genNanos / 1e9;
        String rate = secs > 0 ? String.format(Locale.ROOT, "%.1f tok/s", newTokens / secs) : "n/a tok/s";
        return String.format(Locale.ROOT, "%d prompt%s, %d new tokens in %.3f s: %s (model loaded in %.3f s)",
                prompts, prompts == 1 ? "" : "s", newTokens, secs, rate, loadNanos / 1e9);
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
