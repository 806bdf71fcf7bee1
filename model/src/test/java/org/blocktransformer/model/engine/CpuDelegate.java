package org.blocktransformer.model.engine;

import java.util.List;
import org.blocktransformer.model.backend.BackendInfo;
import org.blocktransformer.model.backend.BackendProvider;
import org.blocktransformer.model.backend.ComputeBackend;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.backend.LinearExecutor;
import org.blocktransformer.model.backend.StackExecutor;
import org.blocktransformer.model.backend.StackRow;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.cpu.CpuBackend;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.StackWeights;

/**
 * The test backends' common part: the one-thread CPU backend under another name, with a hook before every stack
 * call ({@link #beforeStack}: inject a fault, note the call's size). Subclasses override what their test needs.
 */
class CpuDelegate implements ComputeBackend {
    private final String name;
    private final CpuBackend cpu = new CpuBackend(1);

    CpuDelegate(String name) {
        this.name = name;
    }

    /** Called with each stack call's rows before the CPU runs it. */
    void beforeStack(StackRow[] rows) {
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String device() {
        return "CPU (" + name + ")";
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
                beforeStack(rows);
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
    public long kvStorageBytes(long cacheBytes, KvFormat kv) {
        return cpu.kvStorageBytes(cacheBytes, kv);
    }

    @Override
    public void close() {
        cpu.close();
    }

    /** The providers of such backends: always available, never the one "auto" picks. */
    abstract static class Provider implements BackendProvider {
        private final String name;
        private final List<String> devices;

        Provider(String name, List<String> devices) {
            this.name = name;
            this.devices = devices;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int priority() {
            return -100;
        }

        @Override
        public BackendInfo probe() {
            return new BackendInfo(name, true, "test double", devices);
        }
    }
}
