package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.blocktransformer.loader.Golden;
import org.blocktransformer.loader.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bt perplexity} on the golden checkpoints, checked against the reference's logits. */
class PerplexityCommandTest {

    static CliRun bt(String... args) {
        return CliRun.run(new LibraryServices(), args);
    }

    static Path golden(String name) {
        return Golden.path(name);
    }

    static long[] longs(SafetensorsFile f, String name) {
        long[] shape = f.info(name).shape();
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = (int) shape[i];
        }
        return f.longs(name, s);
    }

    static double nll(float[] logits, int offset, int vocab, long target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        return Math.log(sum) + max - logits[offset + (int) target];
    }

    /** The three fwd rows as JSON Lines, and their perplexity from the golden logits. */
    static double writeRows(Path model, Path file, boolean block, int lb) throws Exception {
        try (SafetensorsFile data = SafetensorsFile.open(model.resolve("golden.safetensors"))) {
            long[] ids = longs(data, "fwd_input_ids");
            float[] logits = data.floats("fwd_logits");
            int len = ids.length / 3;
            StringBuilder sb = new StringBuilder();
            double sum = 0;
            int n = 0;
            for (int b = 0; b < 3; b++) {
                sb.append('[');
                for (int t = 0; t < len; t++) {
                    sb.append(t == 0 ? "" : ", ").append(ids[b * len + t]);
                }
                sb.append("]\n");
                if (block) {
                    int nb = len / lb;
                    for (int k = 1; k < nb; k++) {
                        for (int j = 0; j < lb; j++) {
                            sum += nll(logits, ((b * (nb - 1) + k - 1) * lb + j) * 512, 512, ids[b * len + k * lb + j]);
                            n++;
                        }
                    }
                } else {
                    for (int t = 1; t < len; t++) {
                        sum += nll(logits, (b * len + t - 1) * 512, 512, ids[b * len + t]);
                        n++;
                    }
                }
            }
            Files.writeString(file, sb.toString());
            return Math.exp(sum / n);
        }
    }

    @Test
    void vanillaIdsFileMatchesTheGoldenLogits(@TempDir Path dir) throws Exception {
        Path model = golden("vanilla-neox");
        Path ids = dir.resolve("ids.jsonl");
        double expected = writeRows(model, ids, false, 1);
        CliRun r = bt("perplexity", "--model", model.toString(), "--ids-file", ids.toString(), "--format", "json");
        assertEquals(0, r.code(), r::toString);
        JsonNode o = Json.MAPPER.readTree(r.out());
        assertEquals(expected, o.get("perplexity").asDouble(), 1e-4 * expected, r.out());
        assertEquals(3, o.get("documents").asInt());
        assertEquals(72, o.get("tokens").asInt());
        assertEquals(69, o.get("predicted").asInt());
        assertEquals(3, o.get("windows").asInt());
        assertEquals(Math.log(o.get("perplexity").asDouble()), o.get("nll_mean").asDouble(), 1e-9);
    }

    @Test
    void blockIdsFileWithoutPaddingMatchesTheGoldenLogits(@TempDir Path dir) throws Exception {
        Path model = golden("bt-prefix-l4");
        Path ids = dir.resolve("ids.jsonl");
        double expected = writeRows(model, ids, true, 4);
        CliRun r = bt("perplexity", "--model", model.toString(), "--ids-file", ids.toString(), "--block-padding",
                "none", "--format", "json");
        assertEquals(0, r.code(), r::toString);
        JsonNode o = Json.MAPPER.readTree(r.out());
        assertEquals(expected, o.get("perplexity").asDouble(), 1e-4 * expected, r.out());
        assertEquals(3 * 20, o.get("predicted").asInt());
        assertEquals("none", o.get("block_padding").asText());

        // The reference layout (the default) predicts every token but the first of each window.
        r = bt("perplexity", "--model", model.toString(), "--ids-file", ids.toString(), "--window", "10");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("tokens       72 in 3 documents, 63 predicted, 9 windows of up to 10"), r.out());
        assertTrue(r.out().contains("(block-transformer, block padding reference)"), r.out());
    }

    @Test
    void textFileWithTheGoldenTokenizer(@TempDir Path dir) throws Exception {
        Path model = golden("bt-summation-l4");
        Path tokenizer = golden("tokenizer").resolve("tokenizer.json");
        Path text = Files.writeString(dir.resolve("t.txt"), "The quick brown fox jumps over the lazy dog. ".repeat(20));
        CliRun r = bt("perplexity", "--model", model.toString(), "--text-file", text.toString(), "--tokenizer",
                tokenizer.toString(), "--format", "json");
        assertEquals(0, r.code(), r::toString);
        JsonNode o = Json.MAPPER.readTree(r.out());
        assertEquals(o.get("tokens").asInt() - 1, o.get("predicted").asInt());
        assertTrue(o.get("perplexity").asDouble() > 1, r.out());

        r = bt("perplexity", "--model", model.toString(), "--text-file", text.toString());
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("--text-file needs a tokenizer"), r.err());
    }

    @Test
    void idsFileFormats(@TempDir Path dir) throws Exception {
        Path plain = Files.writeString(dir.resolve("a.txt"), "1 2, 3\n4\n");
        assertEquals(List.of(List.of(1, 2, 3, 4)), lists(PerplexityCommand.readIds(plain)));
        Path nested = Files.writeString(dir.resolve("b.json"), "[[1, 2], [3]]");
        assertEquals(List.of(List.of(1, 2), List.of(3)), lists(PerplexityCommand.readIds(nested)));
        Path lines = Files.writeString(dir.resolve("c.jsonl"), "[5, 6]\n\n[7,\n 8]\n");
        assertEquals(List.of(List.of(5, 6), List.of(7, 8)), lists(PerplexityCommand.readIds(lines)));
        Path bad = Files.writeString(dir.resolve("d.jsonl"), "[1, 2]\n[3, -4]\n");
        var e = org.junit.jupiter.api.Assertions.assertThrows(CliException.class, () -> PerplexityCommand.readIds(bad));
        assertTrue(e.getMessage().contains("line 2: element 2 (-4) is not a token id"), e.getMessage());
        Path word = Files.writeString(dir.resolve("e.txt"), "1 two 3");
        e = org.junit.jupiter.api.Assertions.assertThrows(CliException.class, () -> PerplexityCommand.readIds(word));
        assertTrue(e.getMessage().endsWith("element 2 ('two') is not a token id (a non-negative integer)"), e.getMessage());
    }

    @Test
    void errors(@TempDir Path dir) throws Exception {
        Path model = golden("vanilla-neox");
        CliRun r = bt("perplexity", "--model", model.toString(), "--ids-file", dir.resolve("none").toString());
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().startsWith("error: ids file not found"), r.err());
        Path ids = Files.writeString(dir.resolve("ids.txt"), "1 2 3 900");
        r = bt("perplexity", "--model", model.toString(), "--ids-file", ids.toString());
        assertEquals(1, r.code(), r::toString);
        assertEquals("error: token 3 has id 900, outside the vocabulary [0, 512)\n", r.err());
        r = bt("perplexity", "--model", model.toString(), "--ids-file", ids.toString(), "--block-padding", "left");
        assertEquals(2, r.code(), r::toString);
        r = bt("perplexity", "--model", model.toString(), "--ids-file", ids.toString(), "--window", "4096");
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("longer than the model allows (2048 tokens)"), r.err());
        Path one = Files.writeString(dir.resolve("one.txt"), "7");
        r = bt("perplexity", "--model", model.toString(), "--ids-file", one.toString());
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("no token was predicted"), r.err());
    }

    private static List<List<Integer>> lists(List<int[]> docs) {
        return docs.stream().map(d -> java.util.Arrays.stream(d).boxed().toList()).toList();
    }
}
