package org.blocktransformer.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.labels.StandardXYItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** PNG charts of benchmark results (JFreeChart, rendered headless). */
public final class Charts {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf)};
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 18);
    private static final Font SUBTITLE = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    private static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 14);
    private static final Font TICK = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    private static final Font ITEM = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    static final int WIDTH = 960;
    static final int HEIGHT = 600;

    private Charts() {
    }

    /** File-name-safe form of a scenario name: "decode-heavy/16" becomes "decode-heavy-16". */
    public static String slug(String name) {
        return name.replaceAll("[^A-Za-z0-9.-]+", "-").replaceAll("-+$", "");
    }

    /** Throughput against batch size, one line per model, for one scenario. */
    public static JFreeChart throughput(List<ThroughputResult> results, String scenario, String subtitle) {
        Map<String, XYSeries> byModel = new LinkedHashMap<>();
        Map<String, String> kinds = new LinkedHashMap<>();
        double min = Double.MAX_VALUE;
        double max = 0;
        Set<Integer> batches = new LinkedHashSet<>();
        int prompt = 0;
        int fresh = 0;
        for (ThroughputResult r : results) {
            if (!r.scenario().equals(scenario)) {
                continue;
            }
            prompt = r.promptLength();
            fresh = r.newTokens();
            byModel.computeIfAbsent(r.model(), m -> new XYSeries(m + " (" + r.kind() + ")", true, false))
                    .addOrUpdate(r.batchSize(), r.tokensPerSecond());
            kinds.put(r.model(), r.kind());
            min = Math.min(min, r.tokensPerSecond());
            max = Math.max(max, r.tokensPerSecond());
            batches.add(r.batchSize());
        }
        XYSeriesCollection data = new XYSeriesCollection();
        byModel.values().forEach(data::addSeries);

        LogAxis x = new LogAxis("batch size (sequences decoded together)");
        x.setBase(2);
        x.setTickUnit(new NumberTickUnit(1));
        x.setNumberFormatOverride(new DecimalFormat("0"));
        int lo = batches.stream().mapToInt(Integer::intValue).min().orElse(1);
        int hi = batches.stream().mapToInt(Integer::intValue).max().orElse(1);
        x.setRange(lo / 1.5, hi * 1.5);
        ValueAxis y;
        if (max > 0 && max / Math.max(min, 1e-9) > 30) {
            LogAxis log = new LogAxis("generated tokens / s (log scale)");
            log.setBase(10);
            log.setTickUnit(new NumberTickUnit(1));
            log.setNumberFormatOverride(new DecimalFormat("#,##0.#"));
            log.setMinorTickCount(9);
            log.setMinorTickMarksVisible(true);
            log.setRange(min / 2, max * 2.5);
            y = log;
        } else {
            NumberAxis lin = new NumberAxis("generated tokens / s");
            lin.setAutoRangeIncludesZero(true);
            lin.setNumberFormatOverride(new DecimalFormat("#,##0"));
            lin.setUpperMargin(0.15);
            lin.setTickUnit(new NumberTickUnit(niceStep(max * 1.15 / 8)));
            y = lin;
        }
        // A point's label goes above it when its line is the highest at that batch size, below otherwise, so the
        // labels of close points do not overlap.
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true) {
            @Override
            public ItemLabelPosition getPositiveItemLabelPosition(int series, int item) {
                double xv = data.getXValue(series, item);
                double yv = data.getYValue(series, item);
                boolean highest = true;
                for (int s = 0; s < data.getSeriesCount(); s++) {
                    for (int k = 0; k < data.getItemCount(s); k++) {
                        if (s != series && data.getXValue(s, k) == xv && data.getYValue(s, k) > yv) {
                            highest = false;
                        }
                    }
                }
                return highest ? new ItemLabelPosition(ItemLabelAnchor.OUTSIDE12, TextAnchor.BOTTOM_CENTER)
                        : new ItemLabelPosition(ItemLabelAnchor.OUTSIDE6, TextAnchor.TOP_CENTER);
            }
        };
        int i = 0;
        for (String model : byModel.keySet()) {
            Color c = PALETTE[i % PALETTE.length];
            renderer.setSeriesPaint(i, c);
            boolean vanilla = "vanilla".equals(kinds.get(model));
            renderer.setSeriesStroke(i, vanilla
                    ? new BasicStroke(2.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[] {8f, 6f}, 0f)
                    : new BasicStroke(2.5f));
            renderer.setSeriesShape(i, new java.awt.geom.Ellipse2D.Double(-4.5, -4.5, 9, 9));
            i++;
        }
        renderer.setDefaultItemLabelGenerator(new StandardXYItemLabelGenerator("{2}", new DecimalFormat("0"),
                new DecimalFormat("#,##0")));
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setDefaultItemLabelFont(ITEM);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        JFreeChart chart = new JFreeChart("Throughput, " + scenario + " (prompt " + prompt + ", " + fresh + " new)",
                TITLE, plot, true);
        style(chart, subtitle);
        styleAxis(x);
        styleAxis(y);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        return chart;
    }

    /**
     * Block / vanilla throughput ratio per scenario and batch size, one bar per pair, and beside it the ratio the
     * machine's limits predict (the runs' rooflines) when the ratios carry one.
     */
    public static JFreeChart ratios(List<Ratio> ratios, String subtitle) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        double max = 1;
        for (Ratio r : ratios) {
            String pair = r.pair().block() + " / " + r.pair().vanilla();
            data.addValue(r.ratio(), pair, r.scenario() + ", " + r.batchLabel());
            max = Math.max(max, r.ratio());
            if (r.expected() != null) {
                data.addValue(r.expected().ratio(), pair + ", expected (roofline)", r.scenario() + ", "
                        + r.batchLabel());
                max = Math.max(max, r.expected().ratio());
            }
        }
        CategoryAxis categories = new CategoryAxis(null);
        NumberAxis values = new NumberAxis("throughput ratio, block / vanilla (x)");
        values.setAutoRangeIncludesZero(true);
        values.setUpperBound(max * 1.2);
        values.setTickUnit(new NumberTickUnit(niceStep(max * 1.2 / 8)));
        values.setNumberFormatOverride(new DecimalFormat("0.##"));
        CategoryPlot plot = horizontalBars(data, categories, values, 2, "{2}x", new DecimalFormat("0.00"));
        ValueMarker equal = new ValueMarker(1.0, new Color(0x555555), new BasicStroke(1.5f,
                BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {5f, 4f}, 0f));
        equal.setLabel("equal");
        equal.setLabelFont(ITEM);
        equal.setLabelAnchor(org.jfree.chart.ui.RectangleAnchor.BOTTOM_RIGHT);
        equal.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
        equal.setLabelBackgroundColor(new Color(255, 255, 255, 0));
        plot.addRangeMarker(equal);
        JFreeChart chart = new JFreeChart("Block / vanilla throughput", TITLE, plot, data.getRowCount() > 1
                || !ratios.isEmpty());
        style(chart, subtitle);
        styleAxis(categories);
        styleAxis(values);
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        return chart;
    }

    /**
     * The portability report: one pair of bars per compute path (tok/s at batch 1 and at the larger batch), on a
     * log axis when the paths differ by more than 30x (a GPU beside a scalar CPU path); a path whose check failed
     * says so in its label.
     */
    public static JFreeChart portability(List<PortabilityChart.Row> rows, String subtitle) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        double min = Double.MAX_VALUE;
        double max = 1;
        List<String> unmeasured = new ArrayList<>();
        for (PortabilityChart.Row r : rows) {
            String label = r.check().equals("same tokens") ? r.path() : r.path() + " (" + r.check() + ")";
            if (r.batch1() == null && r.batchN() == null) {
                unmeasured.add(label);
                continue;
            }
            for (var bar : List.of(Map.entry("batch 1", r.batch1() == null ? 0.0 : r.batch1()),
                    Map.entry("larger batch", r.batchN() == null ? 0.0 : r.batchN()))) {
                if (bar.getValue() > 0) {
                    data.addValue(bar.getValue(), bar.getKey(), label);
                    min = Math.min(min, bar.getValue());
                    max = Math.max(max, bar.getValue());
                }
            }
        }
        CategoryAxis categories = new CategoryAxis(null);
        ValueAxis values;
        if (min != Double.MAX_VALUE && max / min > 30) {
            LogAxis log = new LogAxis("generated tokens per second (log scale)");
            log.setLowerBound(Math.max(0.1, min / 2));
            log.setUpperBound(max * 3);
            log.setTickUnit(new NumberTickUnit(1.0)); // a tick per decade
            log.setNumberFormatOverride(new DecimalFormat("#,##0.#"));
            values = log;
        } else {
            NumberAxis linear = new NumberAxis("generated tokens per second");
            linear.setUpperBound(max * 1.2);
            linear.setTickUnit(new NumberTickUnit(niceStep(max * 1.2 / 8)));
            linear.setNumberFormatOverride(new DecimalFormat("#,##0.#"));
            values = linear;
        }
        CategoryPlot plot = horizontalBars(data, categories, values, 0, "{2}", new DecimalFormat("#,##0.#"));
        JFreeChart chart = new JFreeChart("The same model on every compute path", TITLE, plot, true);
        style(chart, unmeasured.isEmpty() ? subtitle : subtitle + "; not timed: " + String.join(", ", unmeasured));
        styleAxis(categories);
        styleAxis(values);
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        return chart;
    }

    /**
     * Horizontal bars, values labelled at their ends: the layout of the ratio and portability charts. Series i takes
     * the palette's colour {@code firstColour + i}.
     */
    private static CategoryPlot horizontalBars(DefaultCategoryDataset data, CategoryAxis categories, ValueAxis values,
                                               int firstColour, String label, DecimalFormat format) {
        BarRenderer renderer = new BarRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setItemMargin(0.05);
        renderer.setMaximumBarWidth(0.12);
        for (int i = 0; i < data.getRowCount(); i++) {
            renderer.setSeriesPaint(i, PALETTE[(i + firstColour) % PALETTE.length]);
        }
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator(label, format));
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setDefaultItemLabelFont(ITEM);
        renderer.setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE3,
                TextAnchor.CENTER_LEFT));
        CategoryPlot plot = new CategoryPlot(data, categories, values, renderer);
        plot.setOrientation(PlotOrientation.HORIZONTAL);
        plot.setRangeAxisLocation(org.jfree.chart.axis.AxisLocation.BOTTOM_OR_RIGHT);
        return plot;
    }

    /** A step of 1, 2 or 5 times a power of ten, at least {@code raw}. */
    static double niceStep(double raw) {
        if (!(raw > 0)) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * p >= raw) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static void style(JFreeChart chart, String subtitle) {
        chart.getTitle().setFont(TITLE);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setPadding(new RectangleInsets(8, 8, 8, 16));
        if (subtitle != null && !subtitle.isBlank()) {
            TextTitle t = new TextTitle(subtitle, SUBTITLE);
            t.setPaint(new Color(0x444444));
            chart.addSubtitle(t);
        }
        var plot = chart.getPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlineVisible(false);
        if (chart.getLegend() != null) {
            chart.getLegend().setItemFont(LABEL);
            chart.getLegend().setFrame(BlockBorder.NONE);
            chart.getLegend().setPosition(RectangleEdge.BOTTOM);
        }
    }

    private static void styleAxis(org.jfree.chart.axis.Axis axis) {
        axis.setLabelFont(LABEL);
        axis.setTickLabelFont(TICK);
    }

    /**
     * Writes {@code throughput-SCENARIO.png} per scenario and, when there are ratios, {@code ratio.png}.
     *
     * @return the files written
     */
    public static List<Path> writeAll(Path dir, List<ThroughputResult> results, List<Ratio> ratios, String subtitle)
            throws IOException {
        List<Path> files = new ArrayList<>();
        Set<String> scenarios = new LinkedHashSet<>();
        results.forEach(r -> scenarios.add(r.scenario()));
        for (String s : scenarios) {
            Path f = dir.resolve("throughput-" + slug(s) + ".png");
            ChartUtils.saveChartAsPNG(f.toFile(), throughput(results, s, subtitle), WIDTH, HEIGHT);
            files.add(f);
        }
        if (!ratios.isEmpty()) {
            Path f = dir.resolve("ratio.png");
            int rows = (int) ratios.stream().map(r -> r.scenario() + r.batchLabel()).distinct().count();
            ChartUtils.saveChartAsPNG(f.toFile(), ratios(ratios, subtitle), WIDTH, Math.max(360, 160 + rows * 70));
            files.add(f);
        }
        return files;
    }
}
