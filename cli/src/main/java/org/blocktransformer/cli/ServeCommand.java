package org.blocktransformer.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.server.BtServer;
import org.blocktransformer.server.ChatTemplate;
import org.blocktransformer.server.ServedModel;
import org.blocktransformer.server.ServerOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bt serve}: an OpenAI-compatible HTTP server on one model. */
@Command(name = "serve",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Serve a model over HTTP with OpenAI's completions and chat API.",
        description = {
                "Load the model once and serve POST /v1/completions, POST /v1/chat/completions (when the checkpoint's"
                        + " tokenizer_config.json has a chat template), GET /v1/models, GET /health and GET /metrics"
                        + " (Prometheus). All requests share the engine's continuous batching; streaming answers are"
                        + " server-sent events. A greedy or seeded request returns what 'bt generate' returns for it.",
                "",
                "SIGTERM (or Ctrl-C) shuts down gracefully: new requests get 503, running ones may finish within"
                        + " --shutdown-grace, the rest are ended.",
                ""},
        footerHeading = "%nExamples:%n",
        footer = {
                "  bt serve --model block-b4-5m --port 8000",
                "  bt serve --model path/to/checkpoint --host 0.0.0.0 --batch-size 64",
                "  curl http://127.0.0.1:8000/v1/completions \\",
                "      -d '{\"prompt\": [1, 2, 3], \"max_tokens\": 8}'",
                "",
                "OpenAI clients: base URL http://HOST:PORT/v1 (any API key)."})
public final class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    LoggingMixin logging;

    @Mixin
    ComputeOptions compute;

    @Mixin
    ModelOptions model;

    @Mixin
    EngineOptionsMixin engine;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.json (or a directory holding one) for text prompts and text output. Default: the"
                    + " model directory's. Without one only token-id prompts work.")
    Path tokenizer;

    @Option(names = "--chat-template", paramLabel = "FILE",
            description = "A Jinja chat template file, instead of the one in tokenizer_config.json.")
    Path chatTemplate;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to listen on (0.0.0.0 = every interface). Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8000",
            description = "TCP port (0 = any free one). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--served-model-name", paramLabel = "NAME",
            description = "The model's id in the API. Default: the preset name or the directory's name.")
    String servedName;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "256",
            description = "Sequences that may wait beyond the running batch; more get 429 with Retry-After."
                    + " Default: ${DEFAULT-VALUE}.")
    int maxQueue;

    @Option(names = "--shutdown-grace", paramLabel = "SECONDS", defaultValue = "30",
            description = "How long a shutdown lets running requests finish. Default: ${DEFAULT-VALUE}.")
    int shutdownGrace;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw usage("--port must be in 0..65535, got " + port);
        }
        if (engine.batchSize < 1) {
            throw usage("--batch-size must be at least 1, got " + engine.batchSize);
        }
        if (maxQueue < 0 || shutdownGrace < 0) {
            throw usage("--max-queue and --shutdown-grace must be >= 0");
        }
        if (compute.problem() != null) {
            throw usage(compute.problem());
        }
        try {
            org.blocktransformer.model.backend.Backends.require(compute.backend);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
        Path tokenizerFile = tokenizer != null ? TokenizeCommand.tokenizerFile(tokenizer)
                : model.tokenizerBeside().orElse(null);
        ChatTemplate template = template(tokenizerFile);
        if (template != null && tokenizerFile == null) {
            throw new CliException("a chat template needs a tokenizer: pass --tokenizer FILE");
        }
        long t0 = System.nanoTime();
        ModelWeights weights = model.load(compute.backend);
        EngineOptions options = EngineOptions.defaults()
                .withMaxBatchSize(engine.batchSize)
                .withBatching(engine.batching)
                .withThreads(compute.threads)
                .withCacheMemoryBytes(engine.cacheMemory)
                .withBackend(compute.backend, compute.device)
                .withKvCache(compute.kvCache())
                .withTensorCores(compute.tensorCores());
        PrintWriter err = spec.commandLine().getErr();
        try (BtTokenizer tok = tokenizerFile == null ? null : BtTokenizer.load(tokenizerFile);
             InferenceEngine eng = InferenceEngine.open(weights, options)) {
            ServedModel served;
            try {
                served = new ServedModel(eng, tok, template);
            } catch (IllegalArgumentException e) {
                throw new CliException(e.getMessage(), e);
            }
            ServerOptions so = ServerOptions.defaults(servedName != null ? servedName : defaultName())
                    .withHost(host).withPort(port).withMaxQueued(maxQueue)
                    .withShutdownGrace(Duration.ofSeconds(shutdownGrace));
            BtServer server;
            try {
                server = BtServer.start(served, so);
            } catch (IllegalStateException e) {
                throw new CliException(e.getMessage(), e);
            }
            Thread hook = new Thread(() -> server.shutdown(so.shutdownGrace()), "bt-serve-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            err.printf(java.util.Locale.ROOT, "bt serve: listening on %s (OpenAI base URL %s/v1), model '%s' (%s,"
                            + " %s; loaded in %.1f s), batch %d %s, %d cache pages; tokenizer %s, chat template %s%n",
                    server.baseUrl(), server.baseUrl(), so.modelName(), weights.config().kind(),
                    eng.describeBackend(), (System.nanoTime() - t0) / 1e9, engine.batchSize,
                    engine.batching.name().toLowerCase(java.util.Locale.ROOT), eng.totalCachePages(),
                    tokenizerFile == null ? "none (token ids only)" : tokenizerFile,
                    template == null ? "none" : "yes");
            err.flush();
            try {
                server.awaitShutdown();
            } catch (InterruptedException e) {
                // Interrupted in-process (tests, embedding): shut down as SIGTERM would.
                server.shutdown(so.shutdownGrace());
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException alreadyShuttingDown) {
                    // the JVM is exiting anyway
                }
            }
            err.println("bt serve: stopped");
            err.flush();
        }
        return 0;
    }

    private String defaultName() {
        return ModelSources.checkpointDirectory(model.model).map(Path::getFileName).map(Path::toString)
                .orElse(model.model);
    }

    private ChatTemplate template(Path tokenizerFile) {
        if (chatTemplate != null) {
            try {
                return ChatTemplate.of(Files.readString(chatTemplate), null, null);
            } catch (IOException e) {
                throw new CliException("cannot read --chat-template " + chatTemplate + ": " + e.getMessage(), e);
            }
        }
        try {
            Optional<ChatTemplate> beside = ModelSources.checkpointDirectory(model.model).flatMap(ChatTemplate::find);
            if (beside.isEmpty() && tokenizerFile != null && tokenizerFile.getParent() != null) {
                beside = ChatTemplate.find(tokenizerFile.getParent());
            }
            return beside.orElse(null);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
