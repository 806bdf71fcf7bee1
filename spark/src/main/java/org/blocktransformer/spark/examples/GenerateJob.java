package org.blocktransformer.spark.examples;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.blocktransformer.spark.BadPromptException;
import org.blocktransformer.spark.BtGenerator;
import org.blocktransformer.spark.BtSpark;

/**
 * A runnable batch job: prompts from JSON Lines or Parquet, the generated columns to Parquet.
 *
 * <pre>
 * spark-submit --class org.blocktransformer.spark.examples.GenerateJob spark/target/bt-spark.jar \
 *     --input prompts.jsonl --output generated.parquet --model /shared/models/ckpt --max-new-tokens 64
 * </pre>
 *
 * A JSON Lines input holds one object per line with the prompt under {@code --prompt-col} ({@code prompt}): text,
 * or an array of token ids (one kind per file: Spark gives a column one type). Options follow {@code bt generate}'s
 * names; run with {@code --help} for the list. It prints one line: rows, seconds, prompts/s, generated tokens/s.
 */
public final class GenerateJob {

    private static final String USAGE = """
            usage: GenerateJob --input FILE|DIR --output DIR --model DIR|PRESET --max-new-tokens N [options]
              --input-format F     json (JSON Lines, one object per line) or parquet (default: from the name)
              --prompt-col C       the prompt column: text or an array of token ids (prompt)
              --row-id-col C       a stable integer row id: seeds (seed + id) and error messages
              --index-rows         add row_id, each row's 0-based position in the input (one input file)
              --seed-col C         a column of per-row seeds (instead of seed + row id)
              --temperature T      0 = greedy (0); --top-k K (0 = all), --top-p P (1 = all), --seed S (0)
              --ignore-eos         always generate --max-new-tokens tokens
              --partitions N       repartition the input to N partitions first (after --index-rows)
              --batch-size B       each executor's engine batch (32); --cache-memory BYTES (0 = half the heap)
              --weights W          f32, bf16 or f16 (f32); --kv-cache f32|f16; --init-seed S (presets)
              --tokenizer F        tokenizer.json for text (default: the model directory's)
              --backend B          auto, cpu or tornado (auto); --device D; --threads N (0 = all)
              --bad-prompts P      fail (the job fails naming the row) or error-column (fail)
            """;

    private GenerateJob() {
    }

    public static void main(String[] args) {
        Map<String, String> o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (o.containsKey("help")) {
            System.out.print(USAGE);
            return;
        }
        for (String required : List.of("input", "output", "model", "max-new-tokens")) {
            if (!o.containsKey(required)) {
                System.err.println("error: --" + required + " is required");
                System.err.print(USAGE);
                System.exit(2);
            }
        }
        SparkSession spark = SparkSession.builder().appName("bt generate on Spark").getOrCreate();
        String error = null;
        try {
            run(spark, o);
        } catch (Exception e) { // Spark's own SparkException is checked, thrown from Scala undeclared
            error = badInput(e);
            if (error == null) {
                throw e;
            }
        } finally {
            spark.stop();
        }
        if (error != null) {
            System.err.println("error: " + error);
            System.exit(1);
        }
    }

    /**
     * The one-line message of a failure caused by the input or the options (a bad prompt row, anywhere in Spark's
     * wrapping of a task failure; an option or parameter refused as the job is defined), else null: anything else
     * keeps its stack trace.
     */
    public static String badInput(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BadPromptException) {
                return t.getMessage();
            }
        }
        return e instanceof IllegalArgumentException ? e.getMessage() : null;
    }

    public static void run(SparkSession spark, Map<String, String> o) {
        String input = require(o, "input");
        String output = require(o, "output");
        String format = o.getOrDefault("input-format", input.endsWith(".parquet") ? "parquet" : "json");
        Dataset<Row> prompts = switch (format) {
            case "json", "jsonl" -> spark.read().json(input);
            case "parquet" -> spark.read().parquet(input);
            default -> throw new IllegalArgumentException("--input-format must be json or parquet, got " + format);
        };
        String rowIdCol = o.getOrDefault("row-id-col", "");
        if (o.containsKey("index-rows")) {
            prompts = BtSpark.withRowIndex(prompts, "row_id");
            rowIdCol = "row_id";
        }
        if (o.containsKey("partitions")) {
            prompts = prompts.repartition(intOpt(o, "partitions", "1"));
        }
        BtGenerator gen = new BtGenerator()
                .setModel(require(o, "model"))
                .setMaxNewTokens(intOpt(o, "max-new-tokens", require(o, "max-new-tokens")))
                .setInputCol(o.getOrDefault("prompt-col", "prompt"))
                .setRowIdCol(rowIdCol)
                .setSeedCol(o.getOrDefault("seed-col", ""))
                .setTemperature(doubleOpt(o, "temperature", "0"))
                .setTopK(intOpt(o, "top-k", "0"))
                .setTopP(doubleOpt(o, "top-p", "1"))
                .setSeed(longOpt(o, "seed", "0"))
                .setIgnoreEos(o.containsKey("ignore-eos"))
                .setBatchSize(intOpt(o, "batch-size", "32"))
                .setCacheMemory(longOpt(o, "cache-memory", "0"))
                .setWeights(o.getOrDefault("weights", "f32"))
                .setKvCache(o.getOrDefault("kv-cache", "f32"))
                .setInitSeed(longOpt(o, "init-seed", "0"))
                .setTokenizer(o.getOrDefault("tokenizer", ""))
                .setBackend(o.getOrDefault("backend", "auto"))
                .setDevice(o.getOrDefault("device", ""))
                .setThreads(intOpt(o, "threads", "0"))
                .setBadPrompts(o.getOrDefault("bad-prompts", "fail"));
        long t0 = System.nanoTime();
        gen.transform(prompts).write().mode("overwrite").parquet(output);
        double secs = (System.nanoTime() - t0) / 1e9;
        Row totals = spark.read().parquet(output)
                .agg(functions.count(functions.lit(1)), functions.sum("generated_tokens")).first();
        long rows = totals.getLong(0);
        long tokens = totals.isNullAt(1) ? 0 : totals.getLong(1);
        System.out.printf(Locale.ROOT, "%d prompts, %d new tokens in %.2f s: %.1f prompts/s, %.1f tok/s -> %s%n",
                rows, tokens, secs, rows / secs, tokens / secs, output);
    }

    /** {@code --name value} pairs, and the flags {@code --index-rows}, {@code --ignore-eos}, {@code --help}. */
    public static Map<String, String> parse(String[] args) {
        List<String> flags = List.of("index-rows", "ignore-eos", "help");
        Map<String, String> o = new HashMap<>();
        List<String> rest = new ArrayList<>(List.of(args));
        while (!rest.isEmpty()) {
            String a = rest.removeFirst();
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'");
            }
            String name = a.substring(2);
            if (flags.contains(name)) {
                o.put(name, "true");
            } else if (!USAGE.contains("--" + name + " ")) {
                throw new IllegalArgumentException("unknown option --" + name);
            } else if (rest.isEmpty()) {
                throw new IllegalArgumentException("--" + name + " needs a value");
            } else {
                o.put(name, rest.removeFirst());
            }
        }
        return o;
    }

    private static int intOpt(Map<String, String> o, String name, String dflt) {
        return parsed(o, name, dflt, Integer::parseInt, "an integer");
    }

    private static long longOpt(Map<String, String> o, String name, String dflt) {
        return parsed(o, name, dflt, Long::parseLong, "an integer");
    }

    private static double doubleOpt(Map<String, String> o, String name, String dflt) {
        return parsed(o, name, dflt, Double::parseDouble, "a number");
    }

    /** Option {@code name} (or {@code dflt}) parsed, or a one-line error saying what it must be. */
    private static <T> T parsed(Map<String, String> o, String name, String dflt,
                                java.util.function.Function<String, T> parse, String what) {
        String v = o.getOrDefault(name, dflt);
        try {
            return parse.apply(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be " + what + ", got '" + v + "'");
        }
    }

    private static String require(Map<String, String> o, String name) {
        String v = o.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }
}
