package org.blocktransformer.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The files of a benchmark run: {@code results.csv} (one row per run), {@code ratios.csv}, {@code results.json}
 * (the machine, the command, every run and every ratio) and the PNG charts.
 */
public final class ResultFiles {

    static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private static final ObjectMapper LINE = JsonMapper.builder().build();

    private ResultFiles() {
    }

    /**
     * Writes everything into {@code dir} (created if needed).
     *
     * @param meta    what to record about the run (command, date, ...); the machine's facts are added
     * @param charts  whether to render the PNG charts
     * @return the files written
     */
    public static List<Path> write(Path dir, Map<String, Object> meta, List<ThroughputResult> results,
                                   List<Ratio> ratios, boolean charts) throws IOException {
        Files.createDirectories(dir);
        List<Path> files = new ArrayList<>();
        Path csv = dir.resolve("results.csv");
        Files.writeString(csv, csv(results.stream().map(ThroughputResult::fields).toList()));
        files.add(csv);
        if (!ratios.isEmpty()) {
            Path rcsv = dir.resolve("ratios.csv");
            Files.writeString(rcsv, csv(ratios.stream().map(Ratio::fields).toList()));
            files.add(rcsv);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        Map<String, Object> m = new LinkedHashMap<>(meta);
        m.put("machine", Hardware.facts());
        doc.put("meta", m);
        doc.put("runs", results.stream().map(ThroughputResult::fields).toList());
        doc.put("ratios", ratios.stream().map(Ratio::fields).toList());
        Path json = dir.resolve("results.json");
        Files.writeString(json, JSON.writeValueAsString(doc) + "\n");
        files.add(json);
        if (charts && !results.isEmpty()) {
            try {
                files.addAll(Charts.writeAll(dir, results, ratios, subtitle(results)));
            } catch (RuntimeException | LinkageError e) {
                // Rendering needs fonts (java.desktop and a font configuration); the numbers are already written.
                throw new ChartException("charts not drawn (" + e + "); the CSV and JSON files are written, and"
                        + " 'bt bench --replot " + json + "' draws the charts on a machine with fonts", e, files);
            }
        }
        return files;
    }

    /** Charts could not be drawn; {@link #written()} lists the files that were. */
    public static final class ChartException extends IOException {
        private final transient List<Path> written;

        ChartException(String message, Throwable cause, List<Path> written) {
            super(message, cause);
            this.written = List.copyOf(written);
        }

        public List<Path> written() {
            return written;
        }
    }

    /** Runs and pairs read back from a {@code results.json} this class wrote. */
    public record Saved(Map<String, Object> meta, List<ThroughputResult> runs, List<ModelPair> pairs) {
    }

    @SuppressWarnings("unchecked")
    public static Saved read(Path json) throws IOException {
        Map<String, Object> doc = JSON.readValue(json.toFile(), Map.class);
        Object runs = doc.get("runs");
        if (!(runs instanceof List<?> list)) {
            throw new IOException(json + " holds no \"runs\" list (not a results.json of bt bench)");
        }
        List<ThroughputResult> results = new ArrayList<>();
        for (Object o : list) {
            try {
                results.add(ThroughputResult.fromFields((Map<String, ?>) o));
            } catch (RuntimeException e) {
                throw new IOException(json + ": " + e.getMessage(), e);
            }
        }
        Map<String, Object> meta = doc.get("meta") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        List<ModelPair> pairs = new ArrayList<>();
        if (meta.get("pairs") instanceof List<?> ps) {
            for (Object p : ps) {
                pairs.add(ModelPair.parse(String.valueOf(p)));
            }
        }
        return new Saved(meta, results, pairs);
    }

    /** The chart subtitle: backend and device of the runs, e.g. "cpu: AMD EPYC, CPU (Vector API ...)". */
    public static String subtitle(List<ThroughputResult> results) {
        ThroughputResult first = results.get(0);
        return first.backend() + ": " + first.device() + "; " + first.weights() + " weights, " + first.batching()
                + " batching" + (first.sampling().equals("greedy") ? "" : ", " + first.sampling());
    }

    /** One compact JSON object on one line. */
    public static String jsonLine(Map<String, Object> fields) {
        try {
            return LINE.writeValueAsString(fields);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** CSV with a header from the first row's keys; fields quoted when they hold a comma, quote or newline. */
    static String csv(List<Map<String, Object>> rows) {
        StringBuilder sb = new StringBuilder();
        if (rows.isEmpty()) {
            return "";
        }
        sb.append(String.join(",", rows.get(0).keySet())).append('\n');
        for (Map<String, Object> row : rows) {
            boolean first = true;
            for (Object v : row.values()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                sb.append(csvField(v == null ? "" : String.valueOf(v)));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static String csvField(String s) {
        if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }
}
