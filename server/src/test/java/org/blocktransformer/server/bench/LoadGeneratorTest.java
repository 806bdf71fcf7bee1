package org.blocktransformer.server.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.blocktransformer.loader.Presets;
import org.blocktransformer.model.config.NeoXConfig;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.engine.Batching;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.weights.WeightFormat;
import org.blocktransformer.server.BtServer;
import org.blocktransformer.server.ServedModel;
import org.blocktransformer.server.ServerOptions;
import org.junit.jupiter.api.Test;

class LoadGeneratorTest {

    @Test
    void countsEveryTokenOfAClosedAndAnOpenLoop() throws Exception {
        var config = new VanillaConfig(512, NeoXConfig.pythia(64, 2, 2, 128, 512), 0, 0, 0);
        var weights = Presets.randomInit("tiny", config, 1, WeightFormat.F32);
        try (var engine = InferenceEngine.open(weights, new EngineOptions(8, Batching.CONTINUOUS, 32L << 20, 2));
             var server = BtServer.start(new ServedModel(engine, null, null),
                     ServerOptions.defaults("tiny").withPort(0).withShutdownGrace(Duration.ofSeconds(1)))) {
            for (double rate : new double[] {0, 200}) {
                LoadResult r = new LoadGenerator(new LoadConfig(server.baseUrl(), 4, 12, rate, 8, 6, 3, 2)).run();
                assertEquals(12, r.completed());
                assertEquals(0, r.failed());
                assertEquals(12 * 6, r.outputTokens());
                assertTrue(r.ttftP50() > 0 && r.ttftP50() <= r.ttftP99() && r.ttftP99() <= r.latencyP99());
                assertTrue(r.itlP50() > 0 && r.itlP50() <= r.itlP99());
                assertTrue(r.outputTokensPerSecond() > 0 && r.requestsPerSecond() > 0);
                assertEquals(r.outputTokens() / r.seconds(), r.outputTokensPerSecond(), 1e-9);
            }
        }
        assertEquals(2.0, LoadGenerator.percentile(List.of(4.0, 1.0, 2.0, 3.0), 50));
        assertEquals(4.0, LoadGenerator.percentile(List.of(4.0, 1.0, 2.0, 3.0), 99));
    }
}
