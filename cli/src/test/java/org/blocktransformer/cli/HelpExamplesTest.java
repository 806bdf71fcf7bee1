package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The examples in every command's {@code --help} survive an 80-column terminal: each line of an example (a footer
 * line indented as code) comes out of the rendered help unchanged, not wrapped into a broken command, and every
 * example, its {@code \} continuations joined, parses with today's command line.
 */
class HelpExamplesTest {
    private static final int WIDTH = 80;

    @Test
    void examplesNeitherWrapNorBreak() {
        CommandLine root = BtCommand.newCommandLine(new LibraryServices());
        List<String> problems = new ArrayList<>();
        int examples = 0;
        for (CommandLine cmd : commands(root)) {
            cmd.setUsageHelpAutoWidth(false);
            cmd.setUsageHelpWidth(WIDTH);
            String name = cmd.getCommandSpec().qualifiedName();
            List<String> rendered = cmd.getUsageMessage().lines().toList();
            StringBuilder pending = null;
            for (String line : cmd.getCommandSpec().usageMessage().footer()) {
                String code = line.replace("%%", "%");
                if (!code.startsWith("  ")) {
                    continue;
                }
                if (!rendered.contains(code)) {
                    problems.add(name + ": wraps at " + WIDTH + " columns: " + code.strip());
                }
                String text = code.strip();
                if (pending == null && !text.startsWith("bt ")) {
                    continue;   // an indented sample of a file or of output, not a command
                }
                pending = pending == null ? new StringBuilder(text) : pending.append(' ').append(text);
                if (text.endsWith("\\")) {
                    pending.setLength(pending.length() - 1);
                    continue;
                }
                examples++;
                String command = pending.toString().substring("bt ".length());
                pending = null;
                try {
                    BtCommand.newCommandLine(new LibraryServices())
                            .parseArgs(ReadmeCommandsTest.words(command).toArray(String[]::new));
                } catch (CommandLine.ParameterException e) {
                    problems.add(name + ": example does not parse: bt " + command + " -> " + e.getMessage());
                }
            }
            if (pending != null) {
                problems.add(name + ": example ends in a continuation: " + pending);
            }
        }
        assertTrue(examples >= 10, "found only " + examples + " examples in the commands' help");
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems));
        }
    }

    private static List<CommandLine> commands(CommandLine root) {
        List<CommandLine> out = new ArrayList<>(List.of(root));
        root.getSubcommands().values().stream()
                .filter(c -> !(c.getCommand() instanceof CommandLine.HelpCommand))
                .forEach(out::add);
        return out;
    }
}
