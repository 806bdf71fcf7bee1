package org.blocktransformer.model.cache;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.blocktransformer.model.backend.KvFormat;

/**
 * The pages of one decoder stack's KV cache: which are free, which belong to whom. A sequence owns a
 * {@link CacheTable}; its position {@code p} lives in slot {@code p % pageSize} of page {@code table[p / pageSize]},
 * i.e. at global slot {@code page * pageSize + p % pageSize}.
 *
 * <p>The pool only does the bookkeeping. Each backend keeps the keys and values themselves (host arrays, device
 * buffers) as an attachment of the pool, sized {@code pageCount * pageSize} slots per layer.
 */
public final class PagePool {
    private final int layers;
    private final int width;
    private final int pageSize;
    private final int pageCount;
    private final KvFormat kv;
    private final int rowPositions;
    private final int[] free;
    private int freeCount;
    private final Map<Object, Object> attachments = new IdentityHashMap<>();

    /** A pool whose backends store keys and values as float32. */
    public PagePool(int layers, int width, int pageSize, int pageCount) {
        this(layers, width, pageSize, pageCount, KvFormat.F32);
    }

    /** A pool whose backends store keys and values as {@code kv}. */
    public PagePool(int layers, int width, int pageSize, int pageCount, KvFormat kv) {
        this(layers, width, pageSize, pageCount, kv, Integer.MAX_VALUE);
    }

    /**
     * A pool whose backends store keys and values as {@code kv} and whose rows never hold more than
     * {@code rowPositions} positions (a block model's local slots: one page a row), which lets a backend choose
     * kernels for short contexts.
     */
    public PagePool(int layers, int width, int pageSize, int pageCount, KvFormat kv, int rowPositions) {
        if (layers <= 0 || width <= 0 || pageSize <= 0 || pageCount <= 0) {
            throw new IllegalArgumentException("KV pool needs positive sizes: layers " + layers + ", width " + width
                    + ", page size " + pageSize + ", pages " + pageCount);
        }
        if ((long) pageCount * pageSize * width > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV pool of " + pageCount + " pages x " + pageSize + " positions x "
                    + width + " values exceeds one array per layer; lower the cache memory");
        }
        this.layers = layers;
        this.width = width;
        this.pageSize = pageSize;
        this.pageCount = pageCount;
        this.kv = java.util.Objects.requireNonNull(kv, "kv");
        if (rowPositions <= 0) {
            throw new IllegalArgumentException("a row must be able to hold a position, got " + rowPositions);
        }
        this.rowPositions = rowPositions;
        this.free = new int[pageCount];
        for (int i = 0; i < pageCount; i++) {
            free[i] = pageCount - 1 - i;
        }
        this.freeCount = pageCount;
    }

    /** Bytes one page takes in every layer, keys and values, in float32. */
    public static long pageBytes(int layers, int width, int pageSize) {
        return pageBytes(layers, width, pageSize, KvFormat.F32);
    }

    /** Bytes one page takes in every layer, keys and values, stored as {@code kv}. */
    public static long pageBytes(int layers, int width, int pageSize, KvFormat kv) {
        return 2L * layers * width * pageSize * kv.bytes();
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

    /** Slots per layer: {@code pageCount * pageSize}. */
    public int slots() {
        return pageCount * pageSize;
    }

    public synchronized int freePages() {
        return freeCount;
    }

    public long bytes() {
        return pageBytes(layers, width, pageSize, kv) * pageCount;
    }

    /** The most positions one row holds (Integer.MAX_VALUE when only the stack's positions bound it). */
    public int rowPositions() {
        return rowPositions;
    }

    /** How the backends store this pool's keys and values. */
    public KvFormat kv() {
        return kv;
    }

    /** The storage {@code owner} keeps for this pool, made on first use. */
    @SuppressWarnings("unchecked")
    public synchronized <T> T attachment(Object owner, Supplier<T> create) {
        return (T) attachments.computeIfAbsent(owner, k -> create.get());
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
        return (int) (((long) positions + pageSize - 1) / pageSize);
    }
}
