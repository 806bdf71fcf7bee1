package org.blocktransformer.model.eval;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.blocktransformer.model.backend.Backends;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.CacheGeometry;
import org.blocktransformer.model.cache.CacheTable;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.ModelConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.generate.NonFiniteLogitsException;
import org.blocktransformer.model.runtime.BlockRunner;
import org.blocktransformer.model.runtime.VanillaRunner;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.VanillaWeights;

/**
 * Perplexity of a model on token ids, by teacher forcing: every token of a window is scored given the tokens before
 * it in that window, {@code ppl = exp(sum NLL / predicted tokens)} with natural-log NLL of a float64 log-softmax of
 * the model's float32 logits.
 *
 * <p><b>Windows.</b> A document longer than the window is split into consecutive non-overlapping windows, each
 * scored independently; the first token of each window has no context and is not predicted. This follows the
 * reference repository's long-text evaluation (itsnamgyu/block-transformer {@code util/perplexity.py},
 * {@code compute_loss_by_position_over_chunks}: non-overlapping chunks of {@code context_length}, loss on
 * {@code labels[:, 1:]}), except that a shorter last window is scored rather than dropped. The default window is the
 * longest the model's positions allow.
 *
 * <p><b>Vanilla models</b>: logits at position t predict token t+1, so a window of n tokens predicts n - 1.
 *
 * <p><b>Block models</b>: by default ({@link BlockPadding#REFERENCE}) the window is left-padded with L_B - 1 pad ids
 * as the reference's evaluation harness does, so every token but the first is predicted, exactly as for a vanilla
 * model and comparable with it; the last block is right-padded and the pads' predictions ignored. The computation
 * is the reference forward pass ({@link BlockRunner#teacherForced}): the block decoder over all blocks of the window,
 * then the token decoder for each block n >= 1 from the context of block n - 1; the token decoder runs over chunks of
 * target blocks so long windows need little memory.
 *
 * <p>Not thread-safe: one caller at a time. Close it to stop its worker threads.
 */
public final class PerplexityEvaluator implements AutoCloseable {

    /**
     * How to evaluate.
     *
     * @param window         tokens per window; 0 = the longest the model allows ({@link #maxWindow})
     * @param padding        block models: the layout of a window in blocks (ignored for vanilla models)
     * @param threads        CPU threads, 0 = all available processors
     * @param chunkPositions positions per forward call (bounds the logits held at once: chunk x vocabulary floats)
     * @param backend        "auto", "cpu" or "tornado" ({@link Backends#open})
     * @param device         the backend's device (index or name fragment), "" = its default
     */
    public record Options(int window, BlockPadding padding, int threads, int chunkPositions, String backend,
                          String device) {
        public Options {
            if (window < 0) {
                throw new IllegalArgumentException("window must be >= 0 (0 = the model's longest), got " + window);
            }
            if (threads < 0) {
                throw new IllegalArgumentException("threads must be >= 0, got " + threads);
            }
            if (chunkPositions < 1) {
                throw new IllegalArgumentException("chunk positions must be >= 1, got " + chunkPositions);
            }
            if (padding == null) {
                throw new IllegalArgumentException("padding must be given");
            }
            backend = backend == null || backend.isBlank() ? "auto" : backend;
            device = device == null ? "" : device;
        }

        public static Options defaults() {
            return new Options(0, BlockPadding.REFERENCE, 0, 256, "auto", "");
        }

        public Options withWindow(int w) {
            return new Options(w, padding, threads, chunkPositions, backend, device);
        }

        public Options withPadding(BlockPadding p) {
            return new Options(window, p, threads, chunkPositions, backend, device);
        }

        public Options withThreads(int t) {
            return new Options(window, padding, t, chunkPositions, backend, device);
        }

        public Options withChunkPositions(int c) {
            return new Options(window, padding, threads, c, backend, device);
        }

        public Options withBackend(String name, String deviceSelector) {
            return new Options(window, padding, threads, chunkPositions, name, deviceSelector);
        }
    }

    /** Told after each window: tokens of all documents done so far and in all. */
    @FunctionalInterface
    public interface Progress {
        void update(long tokensDone, long tokensTotal);

        Progress NONE = (done, total) -> { };
    }

    private final ModelConfig config;
    private final Options options;
    private final ComputeBackend backend;
    private final boolean ownsBackend;
    private final VanillaRunner vanilla;
    private final BlockRunner block;
    private final int window;
    /**
     * The caches every window reuses, sized for the longest: a backend keeps storage per pool (a device also a copy
     * of the weights and compiled kernels), so a pool per window would add one each window.
     */
    private final PagePool globalPool;
    /** Block models: the token decoder's slots, one table per target block of a chunk; null for vanilla models. */
    private final CacheTable[] localTables;

    private PerplexityEvaluator(ModelWeights weights, Options options, ComputeBackend given) {
        this.config = weights.config();
        this.options = options;
        int max = maxWindow(config, options.padding());
        int w = options.window() == 0 ? max : options.window();
        if (w > max) {
            throw new IllegalArgumentException("window of " + w + " tokens is longer than the model allows (" + max
                    + " tokens)");
        }
        if (config instanceof BlockConfig b && options.padding() == BlockPadding.NONE) {
            w -= w % b.blockLength();
            if (w < 2 * b.blockLength()) {
                throw new IllegalArgumentException("without block padding a window needs at least two blocks ("
                        + 2 * b.blockLength() + " tokens), got " + options.window());
            }
        }
        if (w < 2) {
            throw new IllegalArgumentException("a window needs at least 2 tokens, got " + w);
        }
        this.window = w;
        this.ownsBackend = given == null;
        this.backend = given != null ? given : Backends.open(options.backend(), options.device(), options.threads());
        try {
            switch (weights) {
                case VanillaWeights v -> {
                    this.vanilla = new VanillaRunner(v, backend);
                    this.block = null;
                    this.globalPool = vanilla.newPool(CacheGeometry.PAGE_SIZE, (int) CacheGeometry.pagesFor(w));
                    this.localTables = null;
                }
                case BlockWeights b -> {
                    this.vanilla = null;
                    this.block = new BlockRunner(b, backend);
                    int lb = b.config().blockLength();
                    int blocks = ((options.padding() == BlockPadding.REFERENCE ? lb - 1 : 0) + w + lb - 1) / lb;
                    this.globalPool = block.newGlobalPool(CacheGeometry.PAGE_SIZE,
                            (int) CacheGeometry.pagesFor(blocks));
                    int positions = b.config().localCacheLength();
                    PagePool local = block.newLocalPool(chunkBlocks(blocks, positions));
                    this.localTables = new CacheTable[local.pageCount()];
                    for (int i = 0; i < localTables.length; i++) {
                        localTables[i] = local.newTable();
                        localTables[i].reserve(positions);
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** An evaluator on the backend {@code options} names (opened here and closed with the evaluator). */
    public static PerplexityEvaluator open(ModelWeights weights, Options options) {
        return new PerplexityEvaluator(weights, options, null);
    }

    /** An evaluator on a backend the caller owns ({@code options}' backend, device and threads are not used). */
    public static PerplexityEvaluator open(ModelWeights weights, Options options, ComputeBackend backend) {
        return new PerplexityEvaluator(weights, options, Objects.requireNonNull(backend, "backend"));
    }

    /** The longest window the model's positions allow, in tokens. */
    public static int maxWindow(ModelConfig config, BlockPadding padding) {
        return switch (config) {
            case VanillaConfig v -> v.stack().maxPositions();
            case BlockConfig b -> {
                int lb = b.blockLength();
                int tokens = b.blockDecoder().maxPositions() * lb;
                yield padding == BlockPadding.REFERENCE ? tokens - (lb - 1) : tokens;
            }
        };
    }

    /** Tokens per window. */
    public int window() {
        return window;
    }

    public Options options() {
        return options;
    }

    /** The backend and its device in words, e.g. "cpu: CPU (Vector API ..., 2 threads)". */
    public String describeBackend() {
        return backend.name() + ": " + backend.device();
    }

    public String backendName() {
        return backend.name();
    }

    /** Scores one document (split into windows). */
    public PerplexityResult score(int[] document) {
        return score(List.of(document), Progress.NONE);
    }

    /** Scores documents independently and sums them (no window spans two documents). */
    public PerplexityResult score(List<int[]> documents, Progress progress) {
        long total = 0;
        for (int d = 0; d < documents.size(); d++) {
            check(documents.get(d), d);
            total += documents.get(d).length;
        }
        PerplexityResult sum = PerplexityResult.EMPTY;
        long done = 0;
        for (int d = 0; d < documents.size(); d++) {
            int[] doc = documents.get(d);
            for (int from = 0; from < doc.length; from += window) {
                int to = Math.min(doc.length, from + window);
                double[] nll;
                try {
                    nll = tokenNll(Arrays.copyOfRange(doc, from, to));
                } catch (NonFiniteLogitsException e) {
                    throw new NonFiniteLogitsException(e.getMessage() + " of the window of tokens " + from + ".."
                            + (to - 1) + (documents.size() > 1 ? " of document " + (d + 1) : ""));
                }
                double s = 0;
                long n = 0;
                for (double v : nll) {
                    if (!Double.isNaN(v)) {
                        s += v;
                        n++;
                    }
                }
                sum = sum.plus(new PerplexityResult(s, n, to - from, 1));
                done += to - from;
                progress.update(done, total);
            }
        }
        return sum;
    }

    private void check(int[] ids, int document) {
        int vocab = config.vocabSize();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("token " + i + (document > 0 ? " of document " + (document + 1) : "")
                        + " has id " + ids[i] + ", outside the vocabulary [0, " + vocab + ")");
            }
        }
    }

    /**
     * Negative log-likelihood of each token of one window given the tokens before it in the window; NaN for tokens
     * that are not predicted (the first, or for {@link BlockPadding#NONE} the whole first block). Logits holding a
     * NaN or an infinity are a {@link NonFiniteLogitsException} naming the token they predict.
     */
    public double[] tokenNll(int[] ids) {
        if (ids.length > window) {
            throw new IllegalArgumentException("window of " + ids.length + " tokens is longer than " + window);
        }
        check(ids, 0);
        double[] nll = new double[ids.length];
        Arrays.fill(nll, Double.NaN);
        if (ids.length < 2) {
            return nll;
        }
        if (vanilla != null) {
            vanillaNll(ids, nll);
        } else {
            blockNll(ids, nll);
        }
        return nll;
    }

    private void vanillaNll(int[] ids, double[] nll) {
        int n = ids.length;
        int vocab = config.vocabSize();
        CacheTable table = globalPool.newTable();
        table.reserve(n);
        try {
            // The last token is only predicted, never fed.
            for (int c0 = 0; c0 < n - 1; c0 += options.chunkPositions()) {
                int c1 = Math.min(n - 1, c0 + options.chunkPositions());
                float[] logits = vanilla.run(Arrays.copyOfRange(ids, c0, c1),
                        new StackRow[] {new StackRow(table, c1 - c0)}, true);
                for (int i = 0; i < c1 - c0; i++) {
                    nll[c0 + i + 1] = finite(negativeLogSoftmax(logits, i, vocab, ids[c0 + i + 1]), c0 + i + 1);
                }
            }
        } finally {
            table.release();
        }
    }

    private void blockNll(int[] ids, double[] nll) {
        BlockConfig c = block.config();
        int lb = c.blockLength();
        int pad = options.padding() == BlockPadding.REFERENCE ? lb - 1 : 0;
        int nb = (pad + ids.length + lb - 1) / lb;
        if (nb < 2) {
            return;
        }
        int[] padded = new int[nb * lb];
        Arrays.fill(padded, c.padTokenId());
        System.arraycopy(ids, 0, padded, pad, ids.length);

        CacheTable globalTable = globalPool.newTable();
        globalTable.reserve(nb);
        try {
            float[] contexts = block.embedBlocks(padded, 0, nb);
            block.decodeBlocks(contexts, new StackRow[] {new StackRow(globalTable, nb)});
            decodeTargets(ids, padded, pad, nb, contexts, nll);
        } finally {
            globalTable.release();
        }
    }

    /** Target blocks of a window of {@code nb} blocks per token-decoder call: a chunk's positions' worth, >= 1. */
    private int chunkBlocks(int nb, int positions) {
        return Math.max(1, Math.min(nb - 1, options.chunkPositions() / positions));
    }

    /** The token decoder over every block n >= 1 of a window from the context of block n - 1, in chunks. */
    private void decodeTargets(int[] ids, int[] padded, int pad, int nb, float[] contexts, double[] nll) {
        BlockConfig c = block.config();
        int lb = c.blockLength();
        int d = c.blockDecoder().hiddenSize();
        int dt = c.tokenDecoder().hiddenSize();
        int r = c.expansionRatio();
        int vocab = c.vocabSize();
        int positions = c.localCacheLength();
        // Prefix: outputs at positions R-1 .. R+L_B-2 predict the block's tokens; summation: all L_B outputs.
        int first = c.decoding() == DecodingStrategy.PREFIX ? r - 1 : 0;
        int chunkBlocks = chunkBlocks(nb, positions);
        for (int n0 = 1; n0 < nb; n0 += chunkBlocks) {
            int m = Math.min(chunkBlocks, nb - n0);
            // Block n is decoded from the context of block n - 1.
            float[] expanded = block.expand(Arrays.copyOfRange(contexts, (n0 - 1) * d, (n0 - 1 + m) * d), m);
            float[] inputs = new float[m * positions * dt];
            StackRow[] rows = new StackRow[m];
            for (int row = 0; row < m; row++) {
                int at = row * positions * dt;
                int previous = c.bosTokenId();
                // Step j feeds token j-1; the block's last token is only predicted.
                for (int step = 0; step < lb; step++) {
                    at += block.localInput(step, expanded, row * r * dt, previous, inputs, at) * dt;
                    previous = padded[(n0 + row) * lb + step];
                }
                localTables[row].reset();
                rows[row] = new StackRow(localTables[row], positions);
            }
            float[] logits = block.decodeTokens(inputs, rows, true);
            for (int row = 0; row < m; row++) {
                for (int j = 0; j < lb; j++) {
                    int token = (n0 + row) * lb + j - pad;
                    if (token >= 0 && token < ids.length) {
                        nll[token] = finite(negativeLogSoftmax(logits, row * positions + first + j, vocab,
                                ids[token]), token);
                    }
                }
            }
        }
    }

    /** A predicted token's NLL; NaN (non-finite logits) would otherwise read as "not predicted". */
    private static double finite(double nll, int token) {
        if (!Double.isFinite(nll)) {
            throw new NonFiniteLogitsException("non-finite logits (NaN or infinity) predicting token " + token);
        }
        return nll;
    }

    /** {@code -ln softmax(logits[row])[target]}, in double; NaN when the row holds a NaN or an infinity. */
    public static double negativeLogSoftmax(float[] logits, int row, int vocab, int target) {
        int o = row * vocab;
        float max = Float.NEGATIVE_INFINITY;
        boolean finite = true;
        for (int i = 0; i < vocab; i++) {
            float v = logits[o + i];
            finite &= Float.isFinite(v);
            max = Math.max(max, v);
        }
        if (!finite) {
            return Double.NaN;
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp((double) logits[o + i] - max);
        }
        return max + Math.log(sum) - logits[o + target];
    }

    @Override
    public void close() {
        if (ownsBackend && backend != null) {
            backend.close();
        }
    }
}
