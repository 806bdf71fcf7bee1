package org.blocktransformer.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.blocktransformer.server.bench.LoadResult;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** PNG charts of {@code bt bench-serve}: throughput and latencies against concurrent clients, one line per model. */
final class ServeCharts {
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0xff7f0e)};

    private ServeCharts() {
    }

    /** A run's model and result. */
    record Run(String model, LoadResult result) {
    }

    static List<Path> write(Path dir, List<Run> runs, String subtitle) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Path> files = new ArrayList<>();
        Path throughput = dir.resolve("serve-throughput.png");
        ChartUtils.saveChartAsPNG(throughput.toFile(), chart("Output tokens per second", "output tok/s", runs,
                Map.of("", LoadResult::outputTokensPerSecond), subtitle), 960, 600);
        files.add(throughput);
        Path latency = dir.resolve("serve-latency.png");
        Map<String, ToDoubleFunction<LoadResult>> lines = new LinkedHashMap<>();
        lines.put(" TTFT p50", LoadResult::ttftP50);
        lines.put(" TTFT p99", LoadResult::ttftP99);
        lines.put(" ITL p50", LoadResult::itlP50);
        lines.put(" ITL p99", LoadResult::itlP99);
        ChartUtils.saveChartAsPNG(latency.toFile(), chart("Latency", "milliseconds", runs, lines, subtitle), 960, 600);
        files.add(latency);
        return files;
    }

    private static JFreeChart chart(String title, String yLabel, List<Run> runs,
                                    Map<String, ToDoubleFunction<LoadResult>> lines, String subtitle) {
        XYSeriesCollection data = new XYSeriesCollection();
        Map<String, XYSeries> series = new LinkedHashMap<>();
        for (Run r : runs) {
            for (var line : lines.entrySet()) {
                series.computeIfAbsent(r.model() + line.getKey(), XYSeries::new)
                        .add(r.result().config().clients(), line.getValue().applyAsDouble(r.result()));
            }
        }
        series.values().forEach(data::addSeries);
        JFreeChart chart = ChartFactory.createXYLineChart("bt bench-serve: " + title, "concurrent clients", yLabel,
                data, PlotOrientation.VERTICAL, true, false, false);
        chart.addSubtitle(new TextTitle(subtitle));
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, PALETTE[(i / lines.size()) % PALETTE.length]);
            float dash = 2 + 4 * (i % lines.size());
            renderer.setSeriesStroke(i, i % lines.size() == 0 ? new BasicStroke(2.5f)
                    : new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {dash, 4f}, 0f));
        }
        plot.setRenderer(renderer);
        return chart;
    }
}
