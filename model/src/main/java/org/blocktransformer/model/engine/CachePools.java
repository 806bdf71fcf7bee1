package org.blocktransformer.model.engine;

import org.blocktransformer.model.cache.CacheGeometry;
import org.blocktransformer.model.cache.CacheTable;
import org.blocktransformer.model.cache.PagePool;

/**
 * A stepper's KV-cache pages: the global pool (paged, sized from the memory budget) and, for block models, one
 * local slot per batch row. Admission reserves a request's whole global need (and its local slot) at once, so a
 * running sequence never waits for memory; the pages come back when it ends.
 */
final class CachePools {
    private final CacheGeometry geometry;
    private final PagePool global;
    /** Block models' token-decoder slots; null for vanilla models. */
    private final PagePool local;

    CachePools(CacheGeometry geometry, PagePool global, PagePool local) {
        this.geometry = geometry;
        this.global = global;
        this.local = local;
    }

    PagePool global() {
        return global;
    }

    /** The local slots, or null (vanilla). */
    PagePool local() {
        return local;
    }

    /** Global positions a request of this shape can ever occupy (the prompt and every token or block fed back). */
    int positionsFor(int promptLength, int maxNewTokens) {
        return geometry.globalPositions(promptLength, maxNewTokens);
    }

    /** Global pages a request of this shape reserves. */
    int pagesFor(int promptLength, int maxNewTokens) {
        return global.pagesFor(positionsFor(promptLength, maxNewTokens));
    }

    /**
     * Reserves everything {@code s} will need and hands it to {@code s}, which starts; false, with nothing taken,
     * when too few pages are free now.
     */
    boolean reserve(Sequence s) {
        int prompt = s.request().promptIds().length;
        CacheTable g = global.newTable();
        if (!g.reserve(positionsFor(prompt, s.request().maxNewTokens()))) {
            return false;
        }
        try {
            CacheTable l = null;
            if (local != null) {
                l = local.newTable();
                if (!l.reserve(local.pageSize())) {
                    g.release();
                    return false;
                }
            }
            s.start(g, l);
            return true;
        } catch (RuntimeException | Error e) {
            g.release();
            throw e;
        }
    }

    /** Returns what {@code s} holds. */
    void release(Sequence s) {
        s.releaseCaches();
    }

    int totalPages() {
        return global.pageCount();
    }

    int freePages() {
        return global.freePages();
    }

    /** Bytes the pools hold: the global pages and the local slots. */
    long bytes() {
        return global.bytes() + (local == null ? 0 : local.bytes());
    }
}
