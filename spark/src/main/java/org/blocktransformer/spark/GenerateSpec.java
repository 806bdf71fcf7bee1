package org.blocktransformer.spark;

import java.io.Serializable;

/**
 * One generation pass over a dataset: what {@link BtGenerator}'s parameters amount to, and what
 * {@link BtSpark#generate} takes.
 *
 * <p><b>Row seeds</b> (sampling only; greedy rows need none), chosen so that a row's output never depends on the
 * partition or executor it lands in:
 * <ul>
 *   <li>{@code seedCol} set: the row's seed is that column's value. The row then gives what
 *       {@code bt generate --seed V} gives for that one prompt, and what {@code bt serve} gives for a request with
 *       {@code "seed": V}.</li>
 *   <li>else {@code rowIdCol} set: the seed is {@code sampling.seed() + rowId}. {@code bt generate --seed S} seeds
 *       prompt i (from 0) with S + i, so a row whose id is its 0-based line among a prompts file's non-blank lines
 *       gives exactly what {@code bt generate --seed S --prompts-file} gives for that line.
 *       {@link BtSpark#withRowIndex} adds such an id.</li>
 *   <li>neither: sampling is refused before any work starts (a seed from the row's position in its partition
 *       would change with the partitioning).</li>
 * </ul>
 *
 * @param engine       the engine each executor opens
 * @param inputCol     the prompts: a string column (text; needs a tokenizer) or an array of integer token ids
 * @param outputPrefix put before every output column's name (to keep clear of the input's columns)
 * @param maxNewTokens tokens to generate per row, at most
 * @param ignoreEos    do not stop at the end-of-sequence token
 * @param sampling     greedy or seeded sampling
 * @param seedCol      a column of per-row seeds (integral), or null
 * @param rowIdCol     a column of stable row ids (integral), or null; also names rows in error messages
 * @param onBadPrompt  fail the job (default) or report bad rows in an error column
 */
public record GenerateSpec(EngineSpec engine, String inputCol, String outputPrefix, int maxNewTokens,
                           boolean ignoreEos, SamplingSpec sampling, String seedCol, String rowIdCol,
                           BadPromptPolicy onBadPrompt) implements Serializable {

    public GenerateSpec {
        if (engine == null) {
            throw new IllegalArgumentException("no engine given (model, weights, batch size)");
        }
        if (inputCol == null || inputCol.isBlank()) {
            throw new IllegalArgumentException("no input column given: name the column of prompts");
        }
        outputPrefix = outputPrefix == null ? "" : outputPrefix;
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be at least 1, got " + maxNewTokens);
        }
        sampling = sampling == null ? SamplingSpec.GREEDY : sampling;
        seedCol = blankToNull(seedCol);
        rowIdCol = blankToNull(rowIdCol);
        onBadPrompt = onBadPrompt == null ? BadPromptPolicy.FAIL : onBadPrompt;
        if (!sampling.isGreedy() && seedCol == null && rowIdCol == null) {
            throw new IllegalArgumentException("sampling needs a seed per row that does not depend on partitioning:"
                    + " set seedCol (a column of seeds) or rowIdCol (seed + a stable row id; BtSpark.withRowIndex"
                    + " adds one)");
        }
    }

    /** Greedy, {@code maxNewTokens} per row, prompts in column {@code prompt}, bad rows fail the job. */
    public static GenerateSpec of(EngineSpec engine, int maxNewTokens) {
        return new GenerateSpec(engine, "prompt", "", maxNewTokens, false, SamplingSpec.GREEDY, null, null,
                BadPromptPolicy.FAIL);
    }

    public GenerateSpec withInputCol(String col) {
        return new GenerateSpec(engine, col, outputPrefix, maxNewTokens, ignoreEos, sampling, seedCol, rowIdCol,
                onBadPrompt);
    }

    public GenerateSpec withOutputPrefix(String prefix) {
        return new GenerateSpec(engine, inputCol, prefix, maxNewTokens, ignoreEos, sampling, seedCol, rowIdCol,
                onBadPrompt);
    }

    public GenerateSpec withIgnoreEos(boolean ignore) {
        return new GenerateSpec(engine, inputCol, outputPrefix, maxNewTokens, ignore, sampling, seedCol, rowIdCol,
                onBadPrompt);
    }

    /** Sampling with a seed column or a row-id column (set one first, or in the same chain before building). */
    public GenerateSpec withSampling(SamplingSpec s, String seedColumn, String rowIdColumn) {
        return new GenerateSpec(engine, inputCol, outputPrefix, maxNewTokens, ignoreEos, s, seedColumn, rowIdColumn,
                onBadPrompt);
    }

    public GenerateSpec withRowIdCol(String col) {
        return new GenerateSpec(engine, inputCol, outputPrefix, maxNewTokens, ignoreEos, sampling, seedCol, col,
                onBadPrompt);
    }

    public GenerateSpec withBadPrompts(BadPromptPolicy policy) {
        return new GenerateSpec(engine, inputCol, outputPrefix, maxNewTokens, ignoreEos, sampling, seedCol, rowIdCol,
                policy);
    }

    /** The seed of a sampled row, from its seed column's value or its row id (whichever this spec uses). */
    long rowSeed(long seedColumnValue, long rowId) {
        return seedCol != null ? seedColumnValue : sampling.seed() + rowId;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
