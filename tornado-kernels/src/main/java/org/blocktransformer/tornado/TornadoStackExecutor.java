package org.blocktransformer.tornado;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.blocktransformer.model.backend.StackExecutor;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.CacheTable;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.weights.StackWeights;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/**
 * One GPT-NeoX stack on a TornadoVM device. For each page pool it drives a {@link StackPlan}: weights and the KV
 * cache stay on the device; per call only the new positions' activations, their slots and the rows' page tables
 * go in, and the final hidden states come out.
 */
final class TornadoStackExecutor implements StackExecutor {
    private final NeoXConfig config;
    private final StackWeights weights;
    private final TornadoDevice device;
    private final int maxTokens;
    private final boolean recorded;
    private final boolean tensorCores;
    private final Map<PagePool, StackPlan> plans = new IdentityHashMap<>();

    TornadoStackExecutor(NeoXConfig config, StackWeights weights, TornadoDevice device, int maxTokens,
                         boolean recorded, boolean tensorCores) {
        if (weights.layers().size() != config.numLayers()) {
            throw new IllegalArgumentException("config has " + config.numLayers() + " layers but weights have "
                    + weights.layers().size());
        }
        if (config.maxPositions() > NeoXKernels.MAX_SPAN) {
            throw new IllegalArgumentException("the TornadoVM attention kernel holds at most " + NeoXKernels.MAX_SPAN
                    + " positions; this stack allows " + config.maxPositions());
        }
        this.config = config;
        this.weights = weights;
        this.device = device;
        this.maxTokens = maxTokens;
        this.recorded = recorded;
        this.tensorCores = tensorCores;
    }

    @Override
    public NeoXConfig config() {
        return config;
    }

    @Override
    public synchronized void attach(PagePool pool) {
        plan(pool);
    }

    private StackPlan plan(PagePool pool) {
        if (pool.width() != config.hiddenSize() || pool.layers() != config.numLayers()) {
            throw new IllegalArgumentException("page pool of " + pool.layers() + " layers x " + pool.width()
                    + " does not fit this stack (" + config.numLayers() + " x " + config.hiddenSize() + ")");
        }
        return plans.computeIfAbsent(pool, p -> new StackPlan(config, weights, p, device, maxTokens, recorded,
                tensorCores));
    }

    @Override
    public synchronized void forward(float[] x, StackRow[] rows) {
        int d = config.hiddenSize();
        StackRow.checkAll(rows, config.maxPositions());
        // Calls larger than the device buffers run as consecutive chunks: a row's positions split across chunks
        // attend exactly as in one call, since each chunk's keys are in the cache before the next runs.
        List<StackRow> chunk = new ArrayList<>();
        int chunkTokens = 0;
        int chunkStart = 0;
        for (StackRow r : rows) {
            int left = r.count();
            while (left > 0) {
                int take = Math.min(left, maxTokens - chunkTokens);
                chunk.add(new StackRow(r.cache(), take));
                chunkTokens += take;
                left -= take;
                if (chunkTokens == maxTokens) {
                    run(x, chunkStart, chunk, chunkTokens);
                    chunkStart += chunkTokens * d;
                    chunk.clear();
                    chunkTokens = 0;
                }
            }
        }
        if (chunkTokens > 0) {
            run(x, chunkStart, chunk, chunkTokens);
        }
    }

    private void run(float[] x, int xOffset, List<StackRow> rows, int tokens) {
        PagePool pool = rows.getFirst().cache().pool();
        for (StackRow r : rows) {
            if (r.cache().pool() != pool) {
                throw new IllegalArgumentException("all rows of a stack call must use one page pool");
            }
        }
        StackPlan plan = plan(pool);
        plan.run(x, xOffset, rows, tokens);
        for (StackRow r : rows) {
            CacheTable c = r.cache();
            c.setLength(c.length() + r.count());
        }
    }

    synchronized void close() {
        for (StackPlan p : plans.values()) {
            p.close();
        }
        plans.clear();
    }
}
