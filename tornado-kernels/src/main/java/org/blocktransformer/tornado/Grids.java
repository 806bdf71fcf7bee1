package org.blocktransformer.tornado;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import org.blocktransformer.tornado.kernels.MmaKernels;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid3D;

/**
 * The launch geometry of every task of a plan, keyed by "graph.task". Grids that follow the live token count are
 * resized before each execution (a call of 3 tokens must not pay for the 1,024-token maximum), or, in a plan whose
 * launches are recorded once and replayed (a CUDA graph keeps the geometry it captured), sized once for the most
 * tokens their graph takes ({@link #fix}); the kernels skip the rows past the live count.
 */
final class Grids {
    /** Work-group size of the element-wise kernels (copy, rotary). */
    static final int ELEMENTWISE = 128;

    private final SelectingScheduler scheduler = new SelectingScheduler();
    private final List<Sizing> sized = new ArrayList<>();

    /** How a grid's size follows the token count. */
    private sealed interface Sizing {
        String task();

        void resize(int tokens);
    }

    /** {@code perToken} work items per token, 1D. */
    private record PerToken(String task, WorkerGrid grid, long perToken) implements Sizing {
        public void resize(int tokens) {
            size1D(grid, tokens * perToken);
        }
    }

    /** {@link NeoXKernels#matmul}: one work-group per 64 outputs x 64 tokens x k slice. */
    private record Tiles(String task, WorkerGrid grid, long outputs, int slices) implements Sizing {
        public void resize(int tokens) {
            long lx = grid.getLocalWork()[0];
            long ly = grid.getLocalWork()[1];
            grid.setGlobalWork(blocks(outputs) * lx, blocks(tokens) * ly, slices);
        }

        private static long blocks(long size) {
            return Math.max(1, (size + NeoXKernels.BLOCK - 1) / NeoXKernels.BLOCK);
        }
    }

    /** {@link MmaKernels#linear}: one work-group of 128 items per 128 outputs x 128 tokens x k slice. */
    private record TensorTiles(String task, WorkerGrid grid, long outputs, int slices) implements Sizing {
        public void resize(int tokens) {
            grid.setGlobalWork(blocks(outputs, MmaKernels.TILE_N) * MmaKernels.THREADS,
                    blocks(tokens, MmaKernels.TILE_T), slices);
        }

        private static long blocks(long size, int tile) {
            return Math.max(1, (size + tile - 1) / tile);
        }
    }

    GridScheduler scheduler() {
        return scheduler;
    }

    /**
     * Runs {@code select}, a plan's {@code withGraph} of graph {@code graph}, with the scheduler showing TornadoVM's
     * check there one name of that graph ({@link SelectingScheduler}); every name again afterwards. Launches are
     * unaffected: they look their grids up by name.
     */
    <T> T selecting(String graph, Supplier<T> select) {
        scheduler.selected = scheduler.firstOfGraph.get(graph);
        try {
            return select.get();
        } finally {
            scheduler.selected = null;
        }
    }

    /**
     * The plan's grid scheduler. Every time a graph of a plan is selected, TornadoVM checks that the scheduler names
     * a task of that graph, twice, by comparing every name in {@link #keySet} with every task of the graph, a string
     * concatenated per comparison: with a stack plan's hundreds of grids a quarter of a batch-256 decode step's host
     * time (a flight recording, kernels taking no time). That check is the only use of the key set, and its result
     * is discarded on selection; so while a graph is being selected the key set is the name of that graph's first
     * grid alone, which the check finds at once. Otherwise it is every name.
     */
    private static final class SelectingScheduler extends GridScheduler {
        private final Map<String, Set<String>> firstOfGraph = new HashMap<>();
        private volatile Set<String> selected;

        @Override
        public void addWorkerGrid(String task, WorkerGrid grid) {
            super.addWorkerGrid(task, grid);
            int dot = task.indexOf('.');
            firstOfGraph.putIfAbsent(dot < 0 ? task : task.substring(0, dot), Set.of(task));
        }

        @Override
        public Set<String> keySet() {
            Set<String> s = selected;
            return s != null ? s : super.keySet();
        }
    }

    /** A fixed 1D launch of {@code items} work items (rounded up to whole work-groups). */
    void fixed(String task, int local, long items) {
        size1D(add1D(task, local), items);
    }

    /** A 1D launch of {@code perToken} work items per live token. */
    void perToken(String task, int local, long perToken) {
        sized.add(new PerToken(task, add1D(task, local), perToken));
    }

    /** A {@link NeoXKernels#matmul} launch for {@code outputs} outputs and the live tokens. */
    void tiles(String task, long outputs) {
        tiles(task, outputs, 1);
    }

    /** A {@link NeoXKernels#matmul} launch for {@code outputs} outputs, the live tokens and {@code slices} k slices. */
    void tiles(String task, long outputs, int slices) {
        WorkerGrid3D g = new WorkerGrid3D(NeoXKernels.TILE, NeoXKernels.TILE, slices);
        g.setLocalWork(NeoXKernels.TILE, NeoXKernels.TILE, 1);
        scheduler.addWorkerGrid(task, g);
        sized.add(new Tiles(task, g, outputs, slices));
    }

    /** A {@link MmaKernels#linear} launch for {@code outputs} outputs, the live tokens and {@code slices} k slices. */
    void tensorTiles(String task, long outputs, int slices) {
        WorkerGrid3D g = new WorkerGrid3D(MmaKernels.THREADS, 1, slices);
        g.setLocalWork(MmaKernels.THREADS, 1, 1);
        scheduler.addWorkerGrid(task, g);
        sized.add(new TensorTiles(task, g, outputs, slices));
    }

    void resize(int tokens) {
        for (Sizing s : sized) {
            s.resize(tokens);
        }
    }

    /** Sizes every token-following grid once, for {@code capacity.applyAsInt(task)} tokens. */
    void fix(ToIntFunction<String> capacity) {
        for (Sizing s : sized) {
            s.resize(capacity.applyAsInt(s.task()));
        }
    }

    private WorkerGrid1D add1D(String task, int local) {
        WorkerGrid1D g = new WorkerGrid1D(local);
        g.setLocalWork(local, 1, 1);
        scheduler.addWorkerGrid(task, g);
        return g;
    }

    /** Global size {@code items} rounded up to whole work-groups, at least one. */
    private static void size1D(WorkerGrid g, long items) {
        long local = g.getLocalWork()[0];
        g.setGlobalWork(Math.max(local, (items + local - 1) / local * local), 1, 1);
    }
}
