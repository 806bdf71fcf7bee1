package org.blocktransformer.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.ChartUtils;

/**
 * The portability report's chart: tok/s of every compute path at batch 1 and at the larger batch, each labelled with
 * its check (same tokens as the CPU's float32 path, or not). {@code scripts/portability} writes the rows, one JSON
 * object per line, and runs this to draw {@code portability.png} beside its table.
 *
 * <pre>java -cp bt.jar org.blocktransformer.bench.PortabilityChart portability.jsonl portability.png [subtitle]</pre>
 */
public final class PortabilityChart {

    /** One compute path's row: its label, the check's verdict, tok/s at batch 1 and at the larger batch (or null). */
    public record Row(String path, String check, Double batch1, Double batchN) {
    }

    private PortabilityChart() {
    }

    /** Reads the rows: objects with backend, device, check and, where measured, tok_s_b1 and tok_s_bN. */
    public static List<Row> read(Path jsonl) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Row> rows = new ArrayList<>();
        int n = 0;
        for (String line : Files.readAllLines(jsonl)) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode o;
            try {
                o = json.readTree(line);
            } catch (IOException e) {
                throw new IOException("line " + n + " of " + jsonl + ": not a JSON object", e);
            }
            if (o == null || !o.isObject() || !o.hasNonNull("backend") || !o.hasNonNull("check")) {
                throw new IOException("line " + n + " of " + jsonl + ": expected an object with backend and check");
            }
            String path = o.get("backend").asText() + " " + o.path("device").asText("");
            rows.add(new Row(path.strip(), o.get("check").asText(), number(o, "tok_s_b1"), number(o, "tok_s_bN")));
        }
        return rows;
    }

    private static Double number(JsonNode o, String key) {
        return o.hasNonNull(key) && o.get(key).isNumber() ? o.get(key).doubleValue() : null;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: PortabilityChart ROWS.jsonl OUT.png [subtitle]");
            System.exit(2);
        }
        try {
            List<Row> rows = read(Path.of(args[0]));
            int height = Math.max(360, 170 + rows.size() * 60);
            ChartUtils.saveChartAsPNG(Path.of(args[1]).toFile(),
                    Charts.portability(rows, args.length == 3 ? args[2] : ""), Charts.WIDTH, height);
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }
}
