package org.blocktransformer.model.cache;

import java.util.Arrays;

/** The pages of one sequence in a {@link PagePool}, and how many positions it holds. */
public final class CacheTable {
    private final PagePool pool;
    private int[] pages = new int[0];
    private int length;

    CacheTable(PagePool pool) {
        this.pool = pool;
    }

    public PagePool pool() {
        return pool;
    }

    /** Positions written so far. */
    public int length() {
        return length;
    }

    public int capacity() {
        return pages.length * pool.pageSize();
    }

    /** Makes room for {@code positions} positions in all; false (and nothing taken) if the pool is short of pages. */
    public boolean reserve(int positions) {
        int need = pool.pagesFor(positions) - pages.length;
        if (need <= 0) {
            return true;
        }
        int[] got = pool.allocate(need);
        if (got == null) {
            return false;
        }
        int old = pages.length;
        pages = Arrays.copyOf(pages, old + need);
        System.arraycopy(got, 0, pages, old, need);
        return true;
    }

    /** Slot index of position {@code p} in the pool's per-layer arrays (multiply by width for the offset). */
    public int slot(int p) {
        int size = pool.pageSize();
        return pages[p / size] * size + p % size;
    }

    /** Records that positions up to {@code newLength} are written. */
    public void setLength(int newLength) {
        if (newLength > capacity()) {
            throw new IllegalStateException("cache table holds " + capacity() + " positions, asked for " + newLength);
        }
        length = newLength;
    }

    /** Forgets the contents but keeps the pages (the token decoder's local cache, every block). */
    public void reset() {
        length = 0;
    }

    /** Returns every page to the pool. */
    public void release() {
        pool.release(pages, pages.length);
        pages = new int[0];
        length = 0;
    }

    /** Page {@code i} of this sequence. */
    public int page(int i) {
        return pages[i];
    }

    public int pagesHeld() {
        return pages.length;
    }
}
