package org.blocktransformer.cli;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bt}: the command-line front end of block-transformer-java. */
@Command(name = "bt",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Block Transformer and GPT-NeoX inference in Java.",
        description = {
                "Inference for the Block Transformer (Ho et al. 2024) and vanilla GPT-NeoX / Pythia models, in pure"
                        + " Java on the CPU (Vector API).",
                ""},
        subcommands = {
                GenerateCommand.class,
                TokenizeCommand.class,
                InfoCommand.class,
                DevicesCommand.class,
                BenchCommand.class,
                PerplexityCommand.class,
                ServeCommand.class,
                BenchServeCommand.class,
                CommandLine.HelpCommand.class},
        footerHeading = "%n",
        footer = {
                "A model is a checkpoint directory (config.json + model.safetensors) or a preset name with"
                        + " seeded random weights ('bt info --presets' lists them).",
                "",
                "Exit codes: 0 success, 1 error (bad input file, unknown model, ...), 2 invalid command line."
                        + " Add --verbose to any command to see log messages and stack traces.",
                "",
                "Run 'bt COMMAND --help' for the options of a command."})
public final class BtCommand implements Callable<Integer> {

    /** Exit code for an error while running (bad file, unknown model, engine failure). */
    public static final int EXIT_ERROR = 1;
    /** Exit code for an invalid command line (picocli's default). */
    public static final int EXIT_USAGE = 2;

    private final CliServices services;
    int verbosity;

    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Mixin
    LoggingMixin logging;

    public BtCommand(CliServices services) {
        this.services = services;
    }

    CliServices services() {
        return services;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_USAGE;
    }

    public static void main(String[] args) {
        CommandLine cmd = newCommandLine(new LibraryServices());
        cmd.setOut(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true));
        cmd.setErr(new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true));
        int code;
        try {
            code = cmd.execute(args);
        } catch (Throwable t) { // an Error escaping picocli, e.g. OutOfMemoryError outside a command
            cmd.getErr().println("error: " + Errors.describe(t));
            cmd.getErr().flush();
            code = EXIT_ERROR;
        }
        System.out.flush();
        System.exit(code);
    }

    /** A configured command line: error handlers, case-insensitive enum values, logging set up before running. */
    public static CommandLine newCommandLine(CliServices services) {
        BtCommand root = new BtCommand(services);
        CommandLine cmd = new CommandLine(root);
        cmd.setCaseInsensitiveEnumValuesAllowed(true);
        cmd.setExecutionStrategy(parseResult -> {
            Logging.configure(root.verbosity);
            return new CommandLine.RunLast().execute(parseResult);
        });
        cmd.setParameterExceptionHandler(BtCommand::handleParameterException);
        cmd.setExecutionExceptionHandler((ex, commandLine, parseResult) ->
                handleExecutionException(ex, commandLine, root.verbosity));
        return cmd;
    }

    private static int handleParameterException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        if (verbosityOf(cmd) > 0) {
            ex.printStackTrace(err);
        }
        String msg = ex.getMessage() == null ? "invalid command line" : ex.getMessage();
        if (msg.startsWith("Error: ")) {
            msg = msg.substring("Error: ".length());
        }
        err.println(cmd.getColorScheme().errorText("error: " + msg));
        CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return EXIT_USAGE;
    }

    private static int handleExecutionException(Exception ex, CommandLine cmd, int verbosity) {
        PrintWriter err = cmd.getErr();
        if (verbosity > 0) {
            ex.printStackTrace(err);
        }
        err.println(cmd.getColorScheme().errorText("error: " + Errors.describe(ex)));
        if (verbosity == 0 && Errors.isInternal(ex)) {
            err.println("Run again with --verbose to see the stack trace.");
        }
        err.flush();
        return EXIT_ERROR;
    }

    private static int verbosityOf(CommandLine cmd) {
        Object root = cmd.getCommandSpec().root().userObject();
        return root instanceof BtCommand b ? b.verbosity : 0;
    }
}
