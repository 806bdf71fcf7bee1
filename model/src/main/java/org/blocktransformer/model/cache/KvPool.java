package org.blocktransformer.model.cache;

/**
 * Keys and values of one decoder stack, for all layers, in fixed-size pages. A sequence owns a {@link CacheTable}
 * of pages; a position {@code p} of it lives in slot {@code p % pageSize} of page {@code table[p / pageSize]}.
 * Storage per layer is one array laid out {@code [page][slot][hidden]}, so a head's key is contiguous.
 */
public final class KvPool {
    private final int layers;
    private final int width;
    private final int pageSize;
    private final int pageCount;
    private final float[][] keys;
    private final float[][] values;
    private final int[] free;
    private int freeCount;

    public KvPool(int layers, int width, int pageSize, int pageCount) {
        if (layers <= 0 || width <= 0 || pageSize <= 0 || pageCount <= 0) {
            throw new IllegalArgumentException("KV pool needs positive sizes: layers " + layers + ", width " + width
                    + ", page size " + pageSize + ", pages " + pageCount);
        }
        long perLayer = (long) pageCount * pageSize * width;
        if (perLayer > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV pool of " + pageCount + " pages x " + pageSize + " positions x "
                    + width + " values exceeds one array per layer; lower the cache memory");
        }
        this.layers = layers;
        this.width = width;
        this.pageSize = pageSize;
        this.pageCount = pageCount;
        this.keys = new float[layers][(int) perLayer];
        this.values = new float[layers][(int) perLayer];
        this.free = new int[pageCount];
        for (int i = 0; i < pageCount; i++) {
            free[i] = pageCount - 1 - i;
        }
        this.freeCount = pageCount;
    }

    /** Bytes one page takes in every layer, keys and values. */
    public static long pageBytes(int layers, int width, int pageSize) {
        return 2L * layers * width * pageSize * Float.BYTES;
    }

    public int layers() {
        return layers;
    }

    public int width() {
        return width;
    }

    public int pageSize() {
        return pageSize;
    }

    public int pageCount() {
        return pageCount;
    }

    public synchronized int freePages() {
        return freeCount;
    }

    public long bytes() {
        return pageBytes(layers, width, pageSize) * pageCount;
    }

    /** Keys of one layer, indexed {@code slot * width + hidden}. */
    public float[] keys(int layer) {
        return keys[layer];
    }

    public float[] values(int layer) {
        return values[layer];
    }

    /** Takes {@code n} pages, or none if fewer are free. */
    synchronized int[] allocate(int n) {
        if (n > freeCount) {
            return null;
        }
        int[] pages = new int[n];
        for (int i = 0; i < n; i++) {
            pages[i] = free[--freeCount];
        }
        return pages;
    }

    synchronized void release(int[] pages, int n) {
        for (int i = 0; i < n; i++) {
            if (freeCount == pageCount) {
                throw new IllegalStateException("KV pool: page " + pages[i] + " released twice");
            }
            free[freeCount++] = pages[i];
        }
    }

    public CacheTable newTable() {
        return new CacheTable(this);
    }

    /** Pages needed to hold {@code positions} positions. */
    public int pagesFor(int positions) {
        return (positions + pageSize - 1) / pageSize;
    }
}
