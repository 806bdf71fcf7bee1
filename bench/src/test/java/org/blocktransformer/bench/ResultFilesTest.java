package org.blocktransformer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultFilesTest {

    @Test
    void writesCsvJsonAndChartsAndReadsThemBack(@TempDir Path dir) throws Exception {
        List<ThroughputResult> runs = List.of(
                ScenarioAndPlanTest.run("vanilla-31m", "vanilla", "decode-heavy/16", 1, 120),
                ScenarioAndPlanTest.run("vanilla-31m", "vanilla", "decode-heavy/16", 16, 900),
                ScenarioAndPlanTest.run("block-b4-19m", "block", "decode-heavy/16", 1, 100),
                ScenarioAndPlanTest.run("block-b4-19m", "block", "decode-heavy/16", 16, 1500),
                ScenarioAndPlanTest.run("vanilla-31m", "vanilla", "prefill-heavy/16", 1, 20),
                ScenarioAndPlanTest.run("block-b4-19m", "block", "prefill-heavy/16", 1, 300));
        List<ModelPair> pairs = List.of(new ModelPair("vanilla-31m", "block-b4-19m"));
        List<Ratio> ratios = Ratio.compute(runs, pairs);
        List<Path> files = ResultFiles.write(dir, Map.of("command", "bt bench", "pairs", List.of("vanilla-31m:block-b4-19m")),
                runs, ratios, true);
        List<String> names = files.stream().map(p -> p.getFileName().toString()).toList();
        assertEquals(List.of("results.csv", "ratios.csv", "results.json", "throughput-decode-heavy-16.png",
                "throughput-prefill-heavy-16.png", "ratio.png"), names);

        List<String> csv = Files.readAllLines(dir.resolve("results.csv"));
        assertEquals(7, csv.size());
        assertTrue(csv.get(0).startsWith("model,kind,weights,kv_cache,backend,device,scenario,prompt_len,new_tokens,"),
                csv.get(0));
        for (String field : new String[] {"tokens_per_s", "ttft_ms", "peak_memory_bytes", "latency_p99_ms"}) {
            assertTrue(csv.get(0).contains(field), field);
        }
        assertEquals(csv.get(0).split(",").length, csv.get(1).split(",").length);

        ResultFiles.Saved saved = ResultFiles.read(dir.resolve("results.json"));
        assertEquals(runs.stream().map(ThroughputResult::fields).toList(),
                saved.runs().stream().map(ThroughputResult::fields).toList());
        assertEquals(pairs, saved.pairs());
        assertTrue(saved.meta().get("machine") instanceof Map<?, ?>);

        for (String png : new String[] {"throughput-decode-heavy-16.png", "ratio.png"}) {
            BufferedImage img = ImageIO.read(dir.resolve(png).toFile());
            assertEquals(Charts.WIDTH, img.getWidth(), png);
            assertTrue(img.getHeight() >= 360, png);
        }
    }

    @Test
    void csvQuotesWhatNeedsIt() {
        assertEquals("a", ResultFiles.csvField("a"));
        assertEquals("\"AMD EPYC, 2 threads\"", ResultFiles.csvField("AMD EPYC, 2 threads"));
        assertEquals("\"say \"\"hi\"\"\"", ResultFiles.csvField("say \"hi\""));
        assertEquals("throughput-decode-heavy-16", "throughput-" + Charts.slug("decode-heavy/16"));
    }
}
