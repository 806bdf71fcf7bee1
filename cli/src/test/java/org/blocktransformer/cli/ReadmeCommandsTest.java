package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every {@code scripts/bt ...} command in README.md's code blocks parses with today's command line (commands,
 * options and their values), and every option its tables list exists on the command the table belongs to: the
 * README cannot drift from the tool. (Running them is what the other CLI tests do for the examples that matter.)
 */
class ReadmeCommandsTest {
    private static final Path README = Path.of("..", "README.md");

    @Test
    void everyReadmeCommandParses() throws IOException {
        List<String> commands = commands(Files.readAllLines(README));
        assertTrue(commands.size() >= 10, "found only " + commands.size() + " commands in " + README.toAbsolutePath());
        List<String> broken = new ArrayList<>();
        for (String c : commands) {
            List<String> args = words(c);
            try {
                BtCommand.newCommandLine(new LibraryServices()).parseArgs(args.toArray(String[]::new));
            } catch (CommandLine.ParameterException e) {
                broken.add(c + "\n    -> " + e.getMessage());
            }
        }
        if (!broken.isEmpty()) {
            fail("README commands that do not parse:\n" + String.join("\n", broken));
        }
    }

    @Test
    void everyTabledOptionExists() throws IOException {
        List<String> lines = Files.readAllLines(README);
        String command = null;
        List<String> missing = new ArrayList<>();
        Pattern heading = Pattern.compile("^### `bt ([a-z-]+)`");
        Pattern option = Pattern.compile("`(--[a-z][a-z-]*)");
        CommandLine root = BtCommand.newCommandLine(new LibraryServices());
        for (String line : lines) {
            Matcher h = heading.matcher(line);
            if (h.find()) {
                command = h.group(1);
                continue;
            }
            if (line.startsWith("## ")) {
                command = null;
            }
            if (command == null || !line.startsWith("| `--")) {
                continue;
            }
            CommandLine sub = root.getSubcommands().get(command);
            assertFalse(sub == null, "README documents a command bt does not have: " + command);
            Matcher m = option.matcher(line.substring(0, line.indexOf('|', 1)));
            while (m.find()) {
                if (sub.getCommandSpec().findOption(m.group(1)) == null) {
                    missing.add("bt " + command + " " + m.group(1));
                }
            }
        }
        assertTrue(missing.isEmpty(), "options in README tables that bt does not have: " + missing);
    }

    /** The {@code scripts/bt} commands of the README's code blocks, continuations joined, comments dropped. */
    private static List<String> commands(List<String> lines) {
        List<String> out = new ArrayList<>();
        boolean code = false;
        StringBuilder pending = null;
        for (String raw : lines) {
            if (raw.startsWith("```")) {
                code = !code;
                continue;
            }
            if (!code) {
                continue;
            }
            String line = raw.strip();
            if (pending != null) {
                pending.append(' ').append(line);
            } else if (line.matches("^([A-Z_]+=\\S+ )*scripts/bt .*")) {
                pending = new StringBuilder(line);
            } else {
                continue;
            }
            if (pending.toString().endsWith("\\")) {
                pending.setLength(pending.length() - 1);
                continue;
            }
            String c = pending.toString().replaceAll("\\s+#.*$", "").replaceFirst("^([A-Z_]+=\\S+ )*scripts/bt ", "");
            out.add(c.strip());
            pending = null;
        }
        return out;
    }

    /** Shell-like words: whitespace-separated, single or double quotes grouping. */
    static List<String> words(String s) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("'([^']*)'|\"([^\"]*)\"|(\\S+)").matcher(s);
        while (m.find()) {
            out.add(m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3));
        }
        return out;
    }
}
