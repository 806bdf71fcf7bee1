package org.blocktransformer.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bt tokenize}: text to token ids (and ids back to text) with a tokenizer.json. */
@Command(name = "tokenize",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Encode text into token ids, or decode ids back to text.",
        description = {
                "Encode text into token ids with a Hugging Face tokenizer.json, or decode ids back to text. No"
                        + " special tokens are added. Each input gives its ids and the decoding of those ids.",
                ""},
        footerHeading = "%nExamples:%n",
        footer = {
                "  bt tokenize --tokenizer tokenizer.json --text 'Hello, world'",
                "  bt tokenize --tokenizer tokenizer.json --texts-file texts.jsonl --format json",
                "  bt tokenize --tokenizer tokenizer.json --ids 15496,11,995",
                "",
                "--format json prints {\"ids\":[...],\"text\":\"...\"} per input per line, where text is the"
                        + " decoding of the ids. Text format prints the ids of each input on one line (with --ids:"
                        + " the decoded text)."})
public final class TokenizeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    LoggingMixin logging;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "tokenizer.json (Hugging Face tokenizers format), or a directory holding one.")
    Path tokenizer;

    @ArgGroup(exclusive = true, multiplicity = "1", heading = "%nInput (one of):%n")
    Inputs inputs;

    static final class Inputs {
        @Option(names = "--text", paramLabel = "T", required = true,
                description = "Text to encode. Repeat for several texts.")
        List<String> texts;

        @Option(names = "--texts-file", paramLabel = "FILE", required = true,
                description = "JSON Lines file: one string per line ('-' = standard input).")
        String file;

        @Option(names = "--ids", paramLabel = "IDS", required = true, converter = IdListConverter.class,
                description = "Comma-separated token ids to decode. Repeat for several lists.")
        List<int[]> ids;
    }

    @Option(names = "--format", paramLabel = "FMT", defaultValue = "text",
            description = "Output: text or json (one object per input per line). Default: ${DEFAULT-VALUE}.")
    OutputFormat format;

    @Override
    public Integer call() {
        List<Prompt> items = collect();
        Path file = tokenizerFile(tokenizer);
        PrintWriter out = spec.commandLine().getOut();
        try (BtTokenizer tok = BtTokenizer.load(file)) {
            for (Prompt p : items) {
                int[] ids = switch (p) {
                    case Prompt.Text t -> tok.encode(t.text());
                    case Prompt.Ids d -> d.ids();
                };
                String text = tok.decode(ids);
                if (format == OutputFormat.json) {
                    ObjectNode o = Json.object();
                    o.set("ids", Json.ids(ids));
                    o.put("text", text);
                    out.println(Json.line(o));
                } else {
                    out.println(p instanceof Prompt.Ids ? text : GenerateCommand.joinIds(ids));
                }
            }
        }
        out.flush();
        return 0;
    }

    /** A tokenizer.json given as the file or as the directory holding it. */
    static Path tokenizerFile(Path given) {
        Path file = Files.isDirectory(given) ? given.resolve("tokenizer.json") : given;
        if (!Files.isRegularFile(file)) {
            throw new CliException("tokenizer file not found: " + file);
        }
        return file;
    }

    private List<Prompt> collect() {
        List<Prompt> out = new ArrayList<>();
        if (inputs.texts != null) {
            for (String t : inputs.texts) {
                out.add(new Prompt.Text(t, "--text"));
            }
        } else if (inputs.ids != null) {
            for (int[] ids : inputs.ids) {
                out.add(new Prompt.Ids(ids, "--ids"));
            }
        } else {
            for (Prompt p : Prompts.readFile(inputs.file, System.in)) {
                if (!(p instanceof Prompt.Text)) {
                    throw new CliException(p.origin() + ": expected a JSON string (the text to encode)");
                }
                out.add(p);
            }
        }
        return out;
    }
}
