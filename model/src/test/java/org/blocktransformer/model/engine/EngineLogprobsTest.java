package org.blocktransformer.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.blocktransformer.model.TinyModels;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.GenerationResult;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.generate.TokenListener;
import org.blocktransformer.model.generate.TokenLogprobs;
import org.blocktransformer.model.weights.ModelWeights;
import org.junit.jupiter.api.Test;

/** Per-token log-probabilities: they never change the tokens, and they are a log-softmax with the top ids. */
class EngineLogprobsTest {

    @Test
    void logprobsLeaveTokensUnchangedVanillaAndBlock() throws Exception {
        check(TinyModels.vanilla(31));
        check(TinyModels.block(32, DecodingStrategy.PREFIX, 4, 2));
    }

    private static void check(ModelWeights weights) throws Exception {
        List<GenerationRequest> requests = EngineStressTest.randomRequests(12, 5, 30, 14);
        List<int[]> expected = EngineStressTest.alone(weights, requests);
        try (var engine = InferenceEngine.open(weights, new EngineOptions(8, Batching.CONTINUOUS, 0, 1))) {
            List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
            List<List<TokenLogprobs>> seen = new ArrayList<>();
            List<List<Integer>> ids = new ArrayList<>();
            for (int i = 0; i < requests.size(); i++) {
                // Every other request asks for log-probabilities, so rows with and without share batches.
                GenerationRequest r = i % 2 == 0 ? requests.get(i).withLogprobs(i % 6) : requests.get(i);
                List<TokenLogprobs> lps = Collections.synchronizedList(new ArrayList<>());
                List<Integer> got = Collections.synchronizedList(new ArrayList<>());
                seen.add(lps);
                ids.add(got);
                futures.add(engine.submit(r, new TokenListener() {
                    @Override
                    public void onToken(int tokenId) {
                        throw new AssertionError("the two-argument form is called");
                    }

                    @Override
                    public void onToken(int tokenId, TokenLogprobs logprobs) {
                        got.add(tokenId);
                        lps.add(logprobs);
                    }
                }));
            }
            for (int i = 0; i < requests.size(); i++) {
                int[] out = futures.get(i).get().generatedIds();
                assertArrayEquals(expected.get(i), out, "request " + i);
                assertArrayEquals(out, ids.get(i).stream().mapToInt(Integer::intValue).toArray());
                for (int t = 0; t < out.length; t++) {
                    TokenLogprobs lp = seen.get(i).get(t);
                    if (i % 2 != 0) {
                        assertNull(lp, "request " + i + " did not ask");
                        continue;
                    }
                    assertEquals(i % 6, lp.topIds().length);
                    assertTrue(lp.logprob() <= 0, "a log-probability");
                    for (int k = 1; k < lp.topIds().length; k++) {
                        assertTrue(lp.topLogprobs()[k] <= lp.topLogprobs()[k - 1], "most probable first");
                    }
                    if (requests.get(i).sampling().isGreedy() && lp.topIds().length > 0) {
                        assertEquals(out[t], lp.topIds()[0], "greedy picks the most probable");
                        assertEquals(lp.topLogprobs()[0], lp.logprob());
                    }
                }
            }
            assertEquals(0, engine.runningCount());
            assertEquals(0, engine.waitingCount());
        }
    }

    @Test
    void logSoftmaxAndTopIdsMatchANaiveComputation() {
        SplittableRandom r = new SplittableRandom(3);
        float[] row = new float[300];
        for (int i = 0; i < row.length; i++) {
            row[i] = (float) (r.nextGaussian() * 3);
        }
        row[17] = row[250] = 9f; // a tie for the top: the lower id comes first
        float[] padded = new float[row.length + 10];
        System.arraycopy(row, 0, padded, 5, row.length);
        TokenLogprobs lp = TokenLogprobs.of(padded, 5, row.length, 42, 7);
        double z = 0;
        for (float v : row) {
            z += Math.exp(v);
        }
        assertEquals(row[42] - Math.log(z), lp.logprob(), 1e-9);
        Integer[] order = new Integer[row.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(row[b], row[a])); // stable: ties keep the lower id first
        for (int k = 0; k < 7; k++) {
            assertEquals(order[k], lp.topIds()[k], "rank " + k);
            assertEquals(row[order[k]] - Math.log(z), lp.topLogprobs()[k], 1e-9);
        }
        assertEquals(17, lp.topIds()[0]);
        assertEquals(250, lp.topIds()[1]);
        assertEquals(0, TokenLogprobs.of(row, 0, row.length, 3, 0).topIds().length);
        assertThrows(IllegalArgumentException.class,
                () -> GenerationRequest.greedy(new int[] {1}, 2).withLogprobs(GenerationRequest.MAX_LOGPROBS + 1));
    }

    /**
     * Six requests for two batch rows: while the first step runs (held there by the first request's listener, on
     * the engine thread, until the counts are read) two run and four wait; at the end none does.
     */
    @Test
    void countsShowQueuedAndRunningRequests() throws Exception {
        ModelWeights weights = TinyModels.vanilla(33);
        try (var engine = InferenceEngine.open(weights, new EngineOptions(2, Batching.CONTINUOUS, 0, 1))) {
            CountDownLatch holding = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            TokenListener holder = id -> {
                if (holding.getCount() > 0) {
                    holding.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            List<GenerationRequest> requests = new ArrayList<>();
            List<TokenListener> listeners = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                requests.add(GenerationRequest.greedy(new int[] {1 + i, 2, 3}, 40));
                listeners.add(i == 0 ? holder : TokenListener.NONE);
            }
            List<CompletableFuture<GenerationResult>> futures = engine.submitAll(requests, listeners);
            assertTrue(holding.await(60, TimeUnit.SECONDS), "the first token reaches its listener");
            int running = engine.runningCount();
            int waiting = engine.waitingCount();
            release.countDown();
            assertEquals(2, running, "the batch is full while six wait for two rows");
            assertEquals(4, waiting, "the other four wait");
            for (CompletableFuture<GenerationResult> f : futures) {
                assertEquals(40, f.get(60, TimeUnit.SECONDS).generatedIds().length);
            }
            assertEquals(0, engine.runningCount());
            assertEquals(0, engine.waitingCount());
        }
    }
}
