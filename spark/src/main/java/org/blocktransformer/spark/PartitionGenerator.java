package org.blocktransformer.spark;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;
import org.blocktransformer.loader.tokenizer.BtTokenizer;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.immutable.ArraySeq;

/**
 * Generates one partition on its executor's shared engine: every row is checked first, then all good rows are
 * submitted together ({@link InferenceEngine#submitAll}) so the engine's continuous batching keeps its batch full
 * (other tasks of the executor join the same batch), and rows come out in input order with the output columns.
 */
final class PartitionGenerator implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(PartitionGenerator.class);

    private final GenerateSpec spec;
    private final boolean textPrompts;
    private final int promptIndex;
    private final int seedIndex;
    private final int rowIdIndex;
    private final int outputs;

    PartitionGenerator(GenerateSpec spec, StructType input) {
        this.spec = spec;
        this.textPrompts = OutputColumns.promptKind(input, spec.inputCol());
        this.promptIndex = input.fieldIndex(spec.inputCol());
        this.seedIndex = spec.seedCol() == null ? -1 : input.fieldIndex(spec.seedCol());
        this.rowIdIndex = spec.rowIdCol() == null ? -1 : input.fieldIndex(spec.rowIdCol());
        this.outputs = OutputColumns.fields(spec).size();
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        List<Row> rows = new ArrayList<>();
        input.forEachRemaining(rows::add);
        if (rows.isEmpty()) {
            return Collections.emptyIterator();
        }
        SharedEngine shared = ExecutorEngines.get(spec.engine());
        TaskContext task = TaskContext.get();
        int partition = task == null ? -1 : task.partitionId();

        List<GenerationRequest> requests = new ArrayList<>(rows.size());
        String[] errors = new String[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            try {
                requests.add(request(rows.get(i), shared));
            } catch (IllegalArgumentException e) { // BadPromptException, and the engine's own checks
                if (spec.onBadPrompt() == BadPromptPolicy.FAIL) {
                    throw new BadPromptException("bad prompt in " + PromptRows.label(rows.get(i), promptIndex,
                            rowIdIndex, spec.rowIdCol(), partition, i) + ": " + e.getMessage());
                }
                // The reason only: the row itself is at hand, and its partition and position would make the
                // output depend on the partitioning.
                errors[i] = e.getMessage();
                requests.add(null);
            }
        }
        long t0 = System.nanoTime();
        List<GenerationRequest> good = requests.stream().filter(r -> r != null).toList();
        List<CompletableFuture<GenerationResult>> futures = shared.engine().submitAll(good);
        if (task != null) {
            // A killed or failed task (speculation, a lost job) leaves the engine's batch at its next step.
            task.addTaskCompletionListener((TaskCompletionListener) ctx -> futures.forEach(f -> f.cancel(false)));
        }
        List<Row> out = new ArrayList<>(rows.size());
        long newTokens = 0;
        int next = 0;
        for (int i = 0; i < rows.size(); i++) {
            GenerationResult r = requests.get(i) == null ? null : await(futures.get(next++), futures);
            out.add(outputRow(rows.get(i), r, errors[i], shared.tokenizer()));
            newTokens += r == null ? 0 : r.generatedIds().length;
        }
        LOG.info("partition {}: {} prompts ({} bad), {} new tokens in {} ms", partition, rows.size(),
                rows.size() - good.size(), newTokens, (System.nanoTime() - t0) / 1_000_000);
        return out.iterator();
    }

    /** The row's request: its prompt, its seed (sampling only), checked against the model. */
    private GenerationRequest request(Row row, SharedEngine shared) {
        int[] ids = PromptRows.promptIds(row, promptIndex, textPrompts, shared.tokenizer(), spec.inputCol(),
                spec.engine().model());
        long seed = 0;
        if (!spec.sampling().isGreedy()) {
            long seedValue = seedIndex >= 0 ? PromptRows.longValue(row, seedIndex, "seed column", spec.seedCol()) : 0;
            long rowId = seedIndex < 0 ? PromptRows.longValue(row, rowIdIndex, "row-id column", spec.rowIdCol()) : 0;
            seed = spec.rowSeed(seedValue, rowId);
        }
        // bt generate's limit (prompt plus new tokens within the model's context), which is one token stricter
        // than the engine's own check: the same rows are refused here as there.
        int limit = shared.config().maxSequenceTokens();
        if ((long) ids.length + spec.maxNewTokens() > limit) {
            throw new BadPromptException(ids.length + " tokens of prompt + " + spec.maxNewTokens()
                    + " new exceed the model's limit of " + limit + " tokens");
        }
        GenerationRequest request = new GenerationRequest(ids, spec.maxNewTokens(), spec.sampling().forRow(seed),
                !spec.ignoreEos());
        shared.engine().validate(request);
        return request;
    }

    private static GenerationResult await(CompletableFuture<GenerationResult> f,
                                          List<CompletableFuture<GenerationResult>> all) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            all.forEach(x -> x.cancel(false));
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while generating", e);
        } catch (ExecutionException e) {
            all.forEach(x -> x.cancel(false));
            Throwable c = e.getCause();
            throw new IllegalStateException("generation failed: " + (c.getMessage() != null ? c.getMessage() : c), c);
        }
    }

    private Row outputRow(Row in, GenerationResult r, String error, BtTokenizer tok) {
        int width = in.length();
        Object[] v = new Object[width + outputs];
        for (int i = 0; i < width; i++) {
            v[i] = in.get(i);
        }
        if (r != null) {
            int[] ids = r.generatedIds();
            Integer[] boxed = new Integer[ids.length];
            for (int k = 0; k < ids.length; k++) {
                boxed[k] = ids[k];
            }
            // The row encoder takes a Scala Seq for an array column (not a java.util.List).
            v[width] = ArraySeq.unsafeWrapArray(boxed);
            v[width + 1] = tok == null ? null : tok.decode(ids);
            v[width + 2] = r.finishReason() == null ? null : r.finishReason().name().toLowerCase(Locale.ROOT);
            v[width + 3] = r.promptIds().length;
            v[width + 4] = ids.length;
            v[width + 5] = millis(r.queuedNanos());
            v[width + 6] = millis(r.firstTokenNanos());
            v[width + 7] = millis(r.totalNanos());
        }
        if (spec.onBadPrompt() == BadPromptPolicy.ERROR_COLUMN) {
            v[width + 8] = error;
        }
        return RowFactory.create(v);
    }

    /** Milliseconds to the microsecond, as bt generate's JSON prints them. */
    private static double millis(long nanos) {
        return Math.round(nanos / 1e3) / 1e3;
    }
}
