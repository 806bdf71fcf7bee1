package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bt bench} on small presets with very short lengths (the real engine). */
class BenchCommandTest {

    static CliRun bt(String... args) {
        return CliRun.run(new LibraryServices(), args);
    }

    @Test
    void jsonLinesHaveTheRequiredFieldsAndFilesAreWritten(@TempDir Path dir) throws Exception {
        CliRun r = bt("bench", "--models", "vanilla-31m,block-b4-5m", "--prompt-len", "8", "--new-tokens", "8",
                "--batch-sizes", "1,2", "--warmup-tokens", "2", "--threads", "1", "--format", "json",
                "--out", dir.toString());
        assertEquals(0, r.code(), r::toString);
        List<JsonNode> lines = GenerateCommandTest.jsonLines(r.out());
        assertEquals(4, lines.size(), r.out());
        String[] required = {"model", "backend", "device", "prompt_len", "new_tokens", "batch_size", "tokens_per_s",
                "ttft_ms", "peak_memory_bytes", "latency_p50_ms", "latency_p99_ms", "cache_bytes", "weight_bytes"};
        for (JsonNode line : lines) {
            for (String field : required) {
                assertTrue(line.has(field), field + " missing in " + line);
            }
            assertEquals("cpu", line.get("backend").asText());
            assertEquals(8, line.get("prompt_len").asInt());
            assertEquals(8, line.get("new_tokens").asInt());
            assertEquals(8L * line.get("batch_size").asInt(), line.get("generated_tokens").asLong());
            assertTrue(line.get("tokens_per_s").asDouble() > 0, line.toString());
            assertEquals(line.get("cache_bytes").asLong() + line.get("weight_bytes").asLong(),
                    line.get("peak_memory_bytes").asLong());
        }
        assertEquals(List.of("vanilla-31m", "vanilla-31m", "block-b4-5m", "block-b4-5m"),
                lines.stream().map(l -> l.get("model").asText()).toList());
        assertEquals(List.of(1, 2, 1, 2), lines.stream().map(l -> l.get("batch_size").asInt()).toList());
        // Progress and the list of files go to standard error, never to standard output.
        assertTrue(r.err().contains("[4/4] block-b4-5m  8:8  batch 2"), r.err());
        for (String f : new String[] {"results.csv", "ratios.csv", "results.json", "throughput-8-8.png", "ratio.png"}) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        JsonNode saved = Json.MAPPER.readTree(dir.resolve("results.json").toFile());
        assertEquals(4, saved.get("runs").size());
        assertEquals("vanilla-31m:block-b4-5m", saved.get("meta").get("pairs").get(0).asText());
        assertTrue(saved.get("meta").get("command").asText().startsWith("bt bench --models vanilla-31m,block-b4-5m"));

        // The charts can be redrawn from the saved results without running anything.
        CliRun replot = bt("bench", "--replot", dir.resolve("results.json").toString(), "--out",
                dir.resolve("again").toString());
        assertEquals(0, replot.code(), replot::toString);
        assertTrue(replot.out().contains("block-b4-5m / vanilla-31m"), replot.out());
        assertTrue(Files.size(dir.resolve("again/ratio.png")) > 0);
    }

    @Test
    void textTables(@TempDir Path dir) {
        CliRun r = bt("bench", "--pair", "vanilla-31m:block-b4-5m", "--scenario", "decode-heavy/256", "--batch-sizes",
                "1", "--warmup-tokens", "0", "--threads", "1", "--quiet", "--no-files");
        assertEquals(0, r.code(), r::toString);
        String out = r.out();
        assertTrue(out.startsWith("model"), out);
        assertTrue(out.contains("decode-heavy/256"), out);
        assertTrue(out.contains("block / vanilla"), out);
        assertTrue(out.matches("(?s).*block-b4-5m / vanilla-31m\\s+decode-heavy/256\\s+1\\s+.*x\n.*"), out);
        assertEquals("", r.err(), "--quiet and --no-files leave standard error empty");
    }

    @Test
    void rejectsWhatCannotRun() {
        CliRun r = bt("bench", "--backend", "tornado");
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().startsWith("error: ") && r.err().contains("tornado"), r.err());

        r = bt("bench", "--device", "3");
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("the cpu backend has one device"), r.err());

        r = bt("bench", "--scenario", "fast");
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().startsWith("error: invalid scenario 'fast'"), r.err());

        r = bt("bench", "--batch-sizes", "1,lots");
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains("'lots' is neither a number nor 'max'"), r.err());

        r = bt("bench", "--pair", "block-b4-5m:vanilla-31m");
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("write VANILLA:BLOCK"), r.err());

        r = bt("bench", "--models", "vanilla-31m", "--scenario", "2048:128");
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("more than vanilla-31m handles (2048)"), r.err());

        r = bt("bench", "--models", "no-such-model");
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("'no-such-model' is neither a preset nor a checkpoint directory"), r.err());
    }

    @Test
    void helpExplainsEveryOption() {
        CliRun r = bt("bench", "--help");
        assertEquals(0, r.code(), r::toString);
        for (String option : new String[] {"--pair", "--models", "--scenario", "--prompt-len", "--new-tokens",
                "--batch-sizes", "--batching", "--rounds", "--memory", "--max-batch", "--backend", "--device",
                "--threads", "--weights", "--init-seed", "--prompt-seed", "--warmup-tokens", "--out", "--replot",
                "--no-files", "--no-charts", "--format", "--quiet", "tokens_per_s", "peak_memory_bytes"}) {
            assertTrue(r.out().contains(option), option);
        }
        r = bt("--help");
        assertTrue(r.out().contains("bench") && r.out().contains("perplexity"), r.out());
    }
}
