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
 *
 * <p>A plan holds its own device copy of the weights and compiles its own kernels (TornadoVM shares device buffers
 * only among the graphs of one plan), so a new pool takes over the plan of a pool that holds no pages when its
 * KV storage fits: nothing there is read again. Pools used one after the other (perplexity windows, teacher-forced
 * calls) thus cost one copy of the weights; only pools in use at once have a plan each.
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
        StackPlan plan = plans.get(pool);
        if (plan == null) {
            PagePool idle = null;
            for (Map.Entry<PagePool, StackPlan> e : plans.entrySet()) {
                PagePool p = e.getKey();
                if (p.freePages() == p.pageCount() && e.getValue().fits(pool)) {
                    idle = p;
                    break;
                }
            }
            plan = idle != null ? plans.remove(idle)
                    : new StackPlan(config, weights, pool, device, maxTokens, recorded, tensorCores);
            plans.put(pool, plan);
        }
        return plan;
    }

    /** Device memory TornadoVM counts for this stack's plans. */
    synchronized long deviceMemoryBytes() {
        long bytes = 0;
        for (StackPlan p : plans.values()) {
            bytes += p.deviceMemoryBytes();
        }
        return bytes;
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
