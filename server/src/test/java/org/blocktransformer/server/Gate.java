package org.blocktransformer.server;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.blocktransformer.model.backend.BackendInfo;
import org.blocktransformer.model.backend.BackendOptions;
import org.blocktransformer.model.backend.BackendProvider;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.LinearExecutor;
import org.blocktransformer.model.backend.StackExecutor;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.cpu.CpuBackend;
import org.blocktransformer.model.engine.Batching;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.StackWeights;

/**
 * A gate the engine thread passes at every stack call, held by a test: while it is closed the engine waits inside
 * its step (the batch admitted, nothing finishing), and the test lets it take steps one at a time or opens it. So
 * a test decides when requests run, wait and finish, however busy the machine is, instead of relying on a model
 * being slow enough. An engine finds its gate through {@link #engineOptions}: the backend "gated-test" (the CPU
 * backend behind the gate, registered for this module's tests) with the gate's name as its device.
 */
final class Gate {
    private static final Map<String, Gate> GATES = new ConcurrentHashMap<>();
    /** How long a test waits for the engine before it fails (a bound for a broken test, not a timing). */
    private static final long TIMEOUT_NANOS = 60_000_000_000L;

    private final String name;
    private boolean open;
    private int permits;
    private int waiting;
    private long arrivals;

    private Gate(String name) {
        this.name = name;
    }

    /** A closed gate, replacing any of the same name. */
    static Gate closed(String name) {
        Gate g = new Gate(name);
        GATES.put(name, g);
        return g;
    }

    /** Options of an engine behind this gate: {@code batch} rows, continuous batching, 64 MiB of cache. */
    EngineOptions engineOptions(int batch) {
        return new EngineOptions(batch, Batching.CONTINUOUS, 64L << 20, 2).withBackend(Provider.NAME, name);
    }

    /** On the engine thread, at every stack call: waits while the gate is closed and no step is allowed. */
    private synchronized void pass() {
        arrivals++;
        waiting++;
        notifyAll();
        try {
            while (!open && permits == 0) {
                wait();
            }
            if (!open) {
                permits--;
            }
        } catch (InterruptedException e) {
            // The engine is closing.
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted at the test's gate", e);
        } finally {
            waiting--;
        }
    }

    /** Waits until the engine thread waits at the gate: inside a step, with its batch admitted. */
    synchronized void awaitEngine() throws InterruptedException {
        await("the engine reaches the gate", () -> waiting > 0);
    }

    /** Lets the waiting engine finish its step, and waits until it waits in the next one. */
    synchronized void step() throws InterruptedException {
        awaitEngine();
        long next = arrivals + 1;
        permits++;
        notifyAll();
        await("the engine takes a step and reaches the gate again", () -> arrivals >= next);
    }

    /** Takes steps until {@code condition} holds (at most {@code most}). */
    void stepUntil(String what, int most, BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; !condition.getAsBoolean(); i++) {
            if (i == most) {
                throw new AssertionError("not after " + most + " steps: " + what);
            }
            step();
        }
    }

    /** Lets the engine run freely from now on. */
    synchronized void open() {
        open = true;
        notifyAll();
    }

    private void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (!condition.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("timed out waiting until " + what);
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /** The CPU backend whose stacks pass the gate named by the device before every call. */
    public static final class Provider implements BackendProvider {
        static final String NAME = "gated-test";

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return -100;
        }

        @Override
        public BackendInfo probe() {
            return new BackendInfo(NAME, true, "test double", List.of("a gate's name"));
        }

        @Override
        public ComputeBackend open(BackendOptions options) {
            Gate gate = GATES.get(options.device());
            if (gate == null) {
                throw new IllegalArgumentException("no gate named '" + options.device() + "'");
            }
            return new Gated(new CpuBackend(options.threads()), gate);
        }
    }

    private record Gated(CpuBackend cpu, Gate gate) implements ComputeBackend {
        @Override
        public String name() {
            return Provider.NAME;
        }

        @Override
        public String device() {
            return "CPU behind the gate '" + gate.name + "'";
        }

        @Override
        public StackExecutor stack(NeoXConfig config, StackWeights weights) {
            StackExecutor inner = cpu.stack(config, weights);
            return new StackExecutor() {
                @Override
                public NeoXConfig config() {
                    return inner.config();
                }

                @Override
                public void forward(float[] x, StackRow[] rows) {
                    gate.pass();
                    inner.forward(x, rows);
                }

                @Override
                public void attach(PagePool pool) {
                    inner.attach(pool);
                }
            };
        }

        @Override
        public LinearExecutor linear(Linear layer) {
            return cpu.linear(layer);
        }

        @Override
        public void close() {
            cpu.close();
        }
    }
}
