package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.blocktransformer.loader.Golden;
import org.blocktransformer.loader.ModelSources;
import org.blocktransformer.loader.Presets;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.LayerNormWeights;
import org.blocktransformer.model.weights.LayerWeights;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.Matrix;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.StackWeights;
import org.blocktransformer.model.weights.VanillaWeights;
import org.blocktransformer.model.weights.WeightFormat;
import org.junit.jupiter.api.Test;

/** The commands on the golden checkpoints and tokenizer, and on presets. */
class GoldenCommandsTest {

    final LibraryServices services = new LibraryServices();

    static Path golden() {
        return Golden.dir();
    }

    @Test
    void infoCountsAndBytesAgreeWithLoadedCheckpoints() {
        Path golden = golden();
        for (String model : List.of("bt-prefix-l4", "bt-prefix-l2-r1", "bt-summation-l4", "bt-projection-l4",
                "vanilla-neox")) {
            String dir = golden.resolve(model).toString();
            for (WeightFormat f : WeightFormat.values()) {
                ModelWeights w = ModelSources.load(dir, f, 0);
                long[] counted = count(w);
                assertEquals(ModelInfo.totalParameters(w.config()), counted[0], model);
                assertEquals(ModelInfo.weightBytes(w.config(), f), counted[1], model + " " + f);
            }
        }
    }

    /** {parameters, bytes} of loaded weights. */
    private static long[] count(ModelWeights w) {
        long[] n = new long[2];
        switch (w) {
            case VanillaWeights v -> {
                add(n, v.embedIn());
                add(n, v.stack());
                add(n, v.embedOut());
            }
            case BlockWeights b -> {
                add(n, b.embedTable());
                if (b.embedProjection() != null) {
                    add(n, b.embedProjection());
                }
                add(n, b.blockDecoder());
                add(n, b.expansion());
                add(n, b.tokenEmbedIn());
                add(n, b.tokenDecoder());
                add(n, b.tokenEmbedOut());
            }
        }
        return n;
    }

    private static void add(long[] n, Matrix m) {
        n[0] += (long) m.rows() * m.cols();
        n[1] += m.bytes();
    }

    private static void add(long[] n, float[] v) {
        if (v != null) {
            n[0] += v.length;
            n[1] += 4L * v.length;
        }
    }

    private static void add(long[] n, Linear l) {
        add(n, l.weight());
        add(n, l.bias());
    }

    private static void add(long[] n, LayerNormWeights ln) {
        add(n, ln.weight());
        add(n, ln.bias());
    }

    private static void add(long[] n, StackWeights s) {
        for (LayerWeights l : s.layers()) {
            add(n, l.inputNorm());
            add(n, l.postAttentionNorm());
            add(n, l.qkv());
            add(n, l.attentionOut());
            add(n, l.mlpUp());
            add(n, l.mlpDown());
        }
        add(n, s.finalNorm());
    }

    @Test
    void generatesWithTheDefaultPreset() throws Exception {
        CliRun r = CliRun.run(services, "generate", "--model", "block-b4-5m", "--prompt-ids", "1,2,3",
                "--prompt-ids", "7", "--max-new-tokens", "8", "--greedy", "--format", "json");
        assertEquals(0, r.code(), r::toString);
        List<JsonNode> lines = GenerateCommandTest.jsonLines(r.out());
        assertEquals(2, lines.size());
        for (JsonNode o : lines) {
            assertEquals(8, o.get("ids").size());
            o.get("ids").forEach(id -> assertTrue(id.intValue() >= 0 && id.intValue() < Presets.VOCAB));
        }
        // One at a time gives the same tokens as a batch.
        CliRun single = CliRun.run(services, "generate", "--model", "block-b4-5m", "--prompt-ids", "1,2,3",
                "--max-new-tokens", "8", "--greedy", "--format", "json", "--batch-size", "1");
        assertEquals(lines.get(0).get("ids"), GenerateCommandTest.jsonLines(single.out()).getFirst().get("ids"));
    }

    @Test
    void unknownModelNamesThePresets() {
        CliRun r = CliRun.run(services, "generate", "--model", "no-such-model", "--prompt-ids", "1",
                "--max-new-tokens", "1");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: 'no-such-model' is neither a preset nor a checkpoint directory;"
                + " presets: vanilla-31m"), r.err());
        r = CliRun.run(services, "info", "--model", "no-such-model");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("presets: vanilla-31m"), r.err());
    }

    @Test
    void badCheckpointDirectory(@org.junit.jupiter.api.io.TempDir Path dir) {
        CliRun r = CliRun.run(services, "info", "--model", dir.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: " + dir + ": no config.json"), r.err());
        assertTrue(r.err().lines().count() == 1, r.err());
    }

    /**
     * Configs that no longer fit their weights (a tensor missing, one too many, one misshapen): info reads only the
     * headers, yet refuses each one as generate does, with the same one-line message.
     */
    @Test
    void infoRefusesWhatGenerateRefuses(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path golden = golden().resolve("vanilla-neox");
        String config = Files.readString(golden.resolve("config.json"));
        for (String[] edit : new String[][] {{"\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3"},
                {"\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1"}, {"\"vocab_size\": 512", "\"vocab_size\": 500"}}) {
            Path dir = Files.createDirectories(tmp.resolve("edit" + edit[1].replaceAll("\\D", "")));
            Files.copy(golden.resolve("model.safetensors"), dir.resolve("model.safetensors"));
            assertTrue(config.contains(edit[0]), edit[0]);
            Files.writeString(dir.resolve("config.json"), config.replace(edit[0], edit[1]));
            CliRun info = CliRun.run(services, "info", "--model", dir.toString());
            CliRun generate = CliRun.run(services, "generate", "--model", dir.toString(), "--prompt-ids", "1",
                    "--max-new-tokens", "1");
            assertEquals(1, info.code(), info::toString);
            assertEquals(1, generate.code(), generate::toString);
            assertTrue(info.err().startsWith("error: " + dir.resolve("model.safetensors") + ": "), info::toString);
            assertEquals(1, info.err().lines().count(), info::toString);
            assertEquals(generate.err(), info.err());
            assertEquals("", info.out());
        }
    }

    @Test
    void infoOnAGoldenCheckpoint() throws Exception {
        String dir = golden().resolve("bt-prefix-l4").toString();
        CliRun r = CliRun.run(services, "info", "--model", dir);
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("stored in the checkpoint   F32"), r.out());
        JsonNode o = Json.MAPPER.readTree(CliRun.run(services, "info", "--model", dir, "--format", "json").out());
        assertEquals("F32", o.get("checkpoint_dtype").textValue());
        assertEquals("directory", o.get("source").textValue());
        assertEquals(2, o.get("expansion_ratio").intValue());
    }

    @Test
    void tokenizesWithTheGoldenTokenizer() throws Exception {
        Path tok = golden().resolve("tokenizer/tokenizer.json");
        CliRun r = CliRun.run(services, "tokenize", "--tokenizer", tok.toString(), "--text", "Hello, world!",
                "--format", "json");
        assertEquals(0, r.code(), r::toString);
        JsonNode o = Json.MAPPER.readTree(r.out());
        assertEquals("Hello, world!", o.get("text").textValue());
        assertTrue(o.get("ids").size() > 1);
    }

    @Test
    void textPromptOnAGoldenModel() throws Exception {
        Path g = golden();
        CliRun r = CliRun.run(services, "generate", "--model", g.resolve("vanilla-neox").toString(), "--tokenizer",
                g.resolve("tokenizer/tokenizer.json").toString(), "--prompt", "Once upon a time",
                "--max-new-tokens", "5", "--ignore-eos", "--format", "json");
        assertEquals(0, r.code(), r::toString);
        JsonNode o = Json.MAPPER.readTree(r.out());
        assertEquals(5, o.get("ids").size());
        assertTrue(o.has("text"));
    }
}
