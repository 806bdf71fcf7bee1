package org.blocktransformer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.title.TextTitle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PortabilityChartTest {

    @Test
    void readsTheScriptsRowsAndDrawsEveryTimedPath(@TempDir Path dir) throws IOException {
        Path rows = Files.writeString(dir.resolve("p.jsonl"), """
                {"backend": "cpu", "device": "scalar", "check": "same tokens", "tok_s_b1": 97.3, "tok_s_bN": 58.1}

                {"backend": "tornado", "device": "1:0", "check": "OTHER TOKENS", "tok_s_b1": 94.3, "tok_s_bN": 8802}
                {"backend": "tornado", "device": "0:0", "check": "FAILED: no device"}
                """);
        List<PortabilityChart.Row> read = PortabilityChart.read(rows);
        assertEquals(3, read.size());
        assertEquals(new PortabilityChart.Row("cpu scalar", "same tokens", 97.3, 58.1), read.get(0));
        assertNull(read.get(2).batch1());

        JFreeChart chart = Charts.portability(read, "vanilla-31m");
        CategoryPlot plot = chart.getCategoryPlot();
        assertEquals(List.of("cpu scalar", "tornado 1:0 (OTHER TOKENS)"), plot.getDataset().getColumnKeys(),
                "a failed check is named in its label; a path with no timing is not drawn");
        assertEquals(8802.0, plot.getDataset().getValue("larger batch", "tornado 1:0 (OTHER TOKENS)").doubleValue());
        String subtitle = ((TextTitle) chart.getSubtitle(1)).getText();
        assertTrue(subtitle.contains("not timed: tornado 0:0 (FAILED: no device)"), subtitle);

        Path png = dir.resolve("p.png");
        ChartUtils.saveChartAsPNG(png.toFile(), chart, Charts.WIDTH, 400);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(Charts.WIDTH, image.getWidth());
    }

    @Test
    void aLineThatIsNotARowIsNamed(@TempDir Path dir) throws IOException {
        Path rows = Files.writeString(dir.resolve("p.jsonl"), "{\"backend\": \"cpu\", \"check\": \"x\"}\n[1, 2]\n");
        IOException e = assertThrows(IOException.class, () -> PortabilityChart.read(rows));
        assertEquals("line 2 of " + rows + ": expected an object with backend and check", e.getMessage());
        Files.writeString(rows, "{oops\n");
        e = assertThrows(IOException.class, () -> PortabilityChart.read(rows));
        assertEquals("line 1 of " + rows + ": not a JSON object", e.getMessage());
    }
}
