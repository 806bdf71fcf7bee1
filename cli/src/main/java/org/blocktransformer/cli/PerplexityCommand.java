package org.blocktransformer.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.blocktransformer.loader.JsonSyntax;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.eval.BlockPadding;
import org.blocktransformer.model.eval.PerplexityEvaluator;
import org.blocktransformer.model.eval.PerplexityResult;
import org.blocktransformer.model.weights.ModelWeights;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bt perplexity}: perplexity of a model on a text file or a file of token ids. */
@Command(name = "perplexity",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Perplexity of a model on a text file or a file of token ids.",
        description = {
                "Score every token given the tokens before it (teacher forcing) and print the perplexity,"
                        + " exp(mean negative log-likelihood per predicted token).",
                "",
                "Long documents are split into consecutive non-overlapping windows of --window tokens, each scored"
                        + " on its own, so the first token of every window is not predicted (the reference"
                        + " repository's long-text evaluation). Block models use the reference's evaluation layout"
                        + " by default: the window is left-padded with L_B - 1 pad ids so every token but the first"
                        + " is predicted, as for a vanilla model (--block-padding none: the window starts a block"
                        + " and its first L_B tokens are context only).",
                ""},
        footerHeading = "%nExamples:%n",
        footer = {
                "  bt perplexity --model path/to/checkpoint --text-file book.txt",
                "  bt perplexity --model block-b4-5m --ids-file ids.jsonl \\",
                "      --window 1024 --format json",
                "",
                "An ids file holds one document per JSON array of token ids (JSON Lines, or one array of arrays),"
                        + " or plain integers separated by spaces, commas or newlines (one document). A text file"
                        + " is one document, encoded with the tokenizer without special tokens.",
                "",
                "--format json prints one object: model, perplexity, nll_mean (nats per predicted token),"
                        + " bits_per_token, documents, tokens, predicted, windows, window, block_padding (block"
                        + " models), backend, seconds."})
public final class PerplexityCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    LoggingMixin logging;

    @Mixin
    ComputeOptions compute;

    @Mixin
    ModelOptions model;

    @ArgGroup(exclusive = true, multiplicity = "1", heading = "%nInput (one of):%n")
    Input input;

    static final class Input {
        @Option(names = "--text-file", paramLabel = "FILE", required = true,
                description = "A UTF-8 text file, one document (needs a tokenizer).")
        Path textFile;

        @Option(names = "--ids-file", paramLabel = "FILE", required = true,
                description = "Token ids: JSON arrays (one document each) or integers separated by spaces, commas"
                        + " or newlines (one document).")
        Path idsFile;
    }

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.json (or a directory holding one) for --text-file. Default: the"
                    + " tokenizer.json in the model directory.")
    Path tokenizer;

    @Option(names = "--window", paramLabel = "N", defaultValue = "0",
            description = "Tokens per evaluation window (0 = the longest the model's positions allow: vanilla"
                    + " max positions; block models max blocks x L_B, less L_B - 1 with reference padding)."
                    + " Default: ${DEFAULT-VALUE}.")
    int window;

    @Option(names = "--block-padding", paramLabel = "MODE", defaultValue = "reference",
            description = "Block models: reference (L_B - 1 pad ids before each window, every token but the first"
                    + " predicted) or none (the first block of each window is context only). Default:"
                    + " ${DEFAULT-VALUE}.")
    String blockPadding;

    @Option(names = "--chunk", paramLabel = "N", defaultValue = "256",
            description = "Positions per forward call; bounds the logits held at once (N x vocabulary floats)."
                    + " Default: ${DEFAULT-VALUE}.")
    int chunk;






    @Option(names = "--format", paramLabel = "FMT", defaultValue = "text",
            description = "Output: text or json (one object). Default: ${DEFAULT-VALUE}.")
    OutputFormat format;

    @Override
    public Integer call() {
        BlockPadding padding = switch (blockPadding.strip().toLowerCase(Locale.ROOT)) {
            case "reference" -> BlockPadding.REFERENCE;
            case "none" -> BlockPadding.NONE;
            default -> throw usage("--block-padding must be reference or none, got '" + blockPadding + "'");
        };
        if (window < 0) {
            throw usage("--window must be >= 0 (0 = the model's longest), got " + window);
        }
        if (chunk < 1) {
            throw usage("--chunk must be at least 1, got " + chunk);
        }
        if (compute.problem() != null) {
            throw usage(compute.problem());
        }
        List<int[]> documents = input.idsFile != null ? readIds(input.idsFile) : encodeText();
        long tokens = documents.stream().mapToLong(d -> d.length).sum();
        if (tokens == 0) {
            throw new CliException("the input holds no tokens");
        }
        ModelWeights w = model.load(compute.backend);
        var options = new PerplexityEvaluator.Options(window, padding, compute.threads, chunk, compute.backend, compute.device);
        PrintWriter err = spec.commandLine().getErr();
        // Tokens scored and of all: written by the evaluator, read by the status line's thread.
        var scored = new java.util.concurrent.atomic.AtomicLongArray(new long[] {0, tokens});
        PerplexityResult result;
        String backendDescription;
        int windowUsed;
        long t0;
        double seconds;
        try (PerplexityEvaluator eval = PerplexityEvaluator.open(w, options);
             StatusLine line = StatusLine.onTerminal() ? new StatusLine(err, true, () -> String.format(Locale.ROOT,
                     "scoring: %,d / %,d tokens (%d%%)", scored.get(0), scored.get(1), 100 * scored.get(0) / scored.get(1)))
                     : null) {
            windowUsed = eval.window();
            backendDescription = eval.describeBackend();
            t0 = System.nanoTime();
            result = eval.score(documents, (done, total) -> {
                scored.set(1, total);
                scored.set(0, done);
            });
            seconds = (System.nanoTime() - t0) / 1e9;
        } catch (OutOfMemoryError e) {
            throw new CliException(Errors.describe(e), e);
        }
        if (result.predicted() == 0) {
            throw new CliException("no token was predicted: every window is too short (" + tokens + " tokens in "
                    + documents.size() + " document(s); a window needs at least 2 tokens"
                    + (w.config() instanceof BlockConfig b && padding == BlockPadding.NONE
                    ? ", or " + (b.blockLength() + 1) + " without block padding" : "") + ")");
        }
        print(result, documents.size(), windowUsed, w, padding, backendDescription, seconds);
        return 0;
    }

    private void print(PerplexityResult r, int documents, int windowUsed, ModelWeights w, BlockPadding padding,
                       String backendDescription, double seconds) {
        PrintWriter out = spec.commandLine().getOut();
        boolean block = w.config() instanceof BlockConfig;
        if (format == OutputFormat.json) {
            ObjectNode o = Json.object();
            o.put("model", model.model);
            o.put("perplexity", r.perplexity());
            o.put("nll_mean", r.meanNll());
            o.put("bits_per_token", r.bitsPerToken());
            o.put("documents", documents);
            o.put("tokens", r.tokens());
            o.put("predicted", r.predicted());
            o.put("windows", r.windows());
            o.put("window", windowUsed);
            if (block) {
                o.put("block_padding", padding.name().toLowerCase(Locale.ROOT));
            }
            o.put("backend", backendDescription);
            o.put("seconds", Math.round(seconds * 1e3) / 1e3);
            out.println(Json.line(o));
        } else {
            out.printf(Locale.ROOT, "perplexity   %.4f%n", r.perplexity());
            out.printf(Locale.ROOT, "nll          %.6f nats per predicted token (%.4f bits)%n", r.meanNll(),
                    r.bitsPerToken());
            out.printf(Locale.ROOT, "tokens       %,d in %d document%s, %,d predicted, %,d window%s of up to %,d%n",
                    r.tokens(), documents, documents == 1 ? "" : "s", r.predicted(), r.windows(),
                    r.windows() == 1 ? "" : "s", windowUsed);
            out.printf(Locale.ROOT, "model        %s (%s%s)%n", model.model, w.config().kind(),
                    block ? ", block padding " + padding.name().toLowerCase(Locale.ROOT) : "");
            out.printf(Locale.ROOT, "backend      %s%n", backendDescription);
            out.printf(Locale.ROOT, "time         %.2f s (%.0f tokens/s)%n", seconds, r.tokens() / Math.max(seconds,
                    1e-9));
        }
        out.flush();
    }

    private List<int[]> encodeText() {
        Path file = input.textFile;
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new CliException("text file not found: " + file);
        } catch (IOException e) {
            throw new CliException("cannot read " + file + ": " + e.getMessage(), e);
        }
        Path tok;
        if (tokenizer != null) {
            tok = TokenizeCommand.tokenizerFile(tokenizer);
        } else {
            Optional<Path> beside = model.tokenizerBeside();
            tok = beside.orElseThrow(() -> new CliException("--text-file needs a tokenizer: pass --tokenizer FILE"
                    + " (a tokenizer.json), or give token ids with --ids-file"));
        }
        try (BtTokenizer t = BtTokenizer.load(tok)) {
            return List.of(t.encode(text));
        }
    }

    /** Documents from an ids file: JSON arrays (of ids, or of arrays of ids), or plain integers. */
    static List<int[]> readIds(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new CliException("ids file not found: " + file);
        } catch (IOException e) {
            throw new CliException("cannot read " + file + ": " + e.getMessage(), e);
        }
        String t = text.strip();
        if (t.isEmpty()) {
            throw new CliException(file + " is empty: expected token ids");
        }
        if (!t.startsWith("[")) {
            String[] parts = t.split("[\\s,]+");
            int[] ids = new int[parts.length];
            for (int i = 0; i < parts.length; i++) {
                ids[i] = id(parts[i], file, "element " + (i + 1));
            }
            return List.of(ids);
        }
        List<int[]> docs = new ArrayList<>();
        try (JsonParser p = Json.MAPPER.createParser(t)) {
            while (p.nextToken() != null) {
                String where = "line " + p.currentLocation().getLineNr();
                JsonNode node = Json.MAPPER.readTree(p);
                if (!node.isArray()) {
                    throw new CliException(file + ", " + where + ": expected a JSON array of token ids");
                }
                if (!node.isEmpty() && node.get(0).isArray()) {
                    for (JsonNode doc : node) {
                        docs.add(ids(doc, file, where));
                    }
                } else {
                    docs.add(ids(node, file, where));
                }
            }
        } catch (JsonProcessingException e) {
            throw new CliException(JsonSyntax.inFile(file, e));
        } catch (IOException e) {
            throw new CliException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return docs;
    }

    private static int[] ids(JsonNode array, Path file, String where) {
        if (!array.isArray()) {
            throw new CliException(file + ", " + where + ": expected a JSON array of token ids");
        }
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode n = array.get(i);
            if (!n.isIntegralNumber() || n.asLong() < 0 || n.asLong() > Integer.MAX_VALUE) {
                throw new CliException(file + ", " + where + ": element " + (i + 1) + " (" + n
                        + ") is not a token id (a non-negative integer)");
            }
            ids[i] = n.asInt();
        }
        return ids;
    }

    private static int id(String s, Path file, String where) {
        try {
            long v = Long.parseLong(s);
            if (v >= 0 && v <= Integer.MAX_VALUE) {
                return (int) v;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new CliException(file + ": " + where + " ('" + s + "') is not a token id (a non-negative integer)");
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
