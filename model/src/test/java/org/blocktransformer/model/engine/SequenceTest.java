package org.blocktransformer.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ExecutionException;
import org.blocktransformer.model.cache.PagePool;
import org.blocktransformer.model.generate.FinishReason;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.generate.SamplingParams;
import org.blocktransformer.model.generate.TokenListener;
import org.junit.jupiter.api.Test;

/** A sequence's transitions: feeding its input, queueing what comes next, finishing, completing, its caches. */
class SequenceTest {

    private static Sequence sequence(int[] prompt, int newTokens, TokenListener listener) {
        return new Sequence(GenerationRequest.greedy(prompt, newTokens), prompt.clone(), listener);
    }

    @Test
    void inputIsFedOnceAndTheNextIsQueuedOnlyAfterIt() {
        Sequence s = sequence(new int[] {5, 6, 7}, 4, TokenListener.NONE);
        assertEquals(3, s.unfedCount());
        assertArrayEquals(new int[] {5, 6}, s.takeInput(2));
        assertThrows(IllegalStateException.class, () -> s.queueInput(new int[] {9}), "one id still pending");
        assertThrows(IllegalArgumentException.class, () -> s.takeInput(2), "only one left");
        assertArrayEquals(new int[] {7}, s.takeInput(1));
        assertFalse(s.hasUnfedInput());
        s.queueInput(new int[] {9});
        assertEquals(1, s.unfedCount());
    }

    @Test
    void itFinishesAtItsLengthAndCompletesWithItsTokens() throws Exception {
        Sequence s = sequence(new int[] {1}, 2, TokenListener.NONE);
        s.accept(3, null, -1);
        assertFalse(s.finished());
        s.accept(4, null, -1);
        assertTrue(s.finished());
        s.complete();
        var r = s.future().get();
        assertArrayEquals(new int[] {3, 4}, r.generatedIds());
        assertEquals(FinishReason.LENGTH, r.finishReason());
    }

    @Test
    void eosEndsItWhenTheRequestStopsThere() throws Exception {
        Sequence ignores = sequence(new int[] {1}, 5, TokenListener.NONE);
        ignores.accept(0, null, 0);
        assertFalse(ignores.finished(), "a greedy request does not stop at EOS");

        var request = new GenerationRequest(new int[] {1}, 5, SamplingParams.GREEDY, true);
        Sequence s = new Sequence(request, new int[] {1}, TokenListener.NONE);
        s.accept(0, null, 0);
        assertTrue(s.finished());
        s.complete();
        assertEquals(FinishReason.EOS, s.future().get().finishReason());
    }

    @Test
    void cancellingStopsItOnceAndNeverOverridesAnotherEnd() throws Exception {
        Sequence s = sequence(new int[] {1}, 5, TokenListener.NONE);
        assertFalse(s.stopIfCancelled(), "not cancelled");
        s.markCancelled();
        assertTrue(s.stopIfCancelled());
        assertFalse(s.stopIfCancelled(), "already finished");
        s.complete();
        assertEquals(FinishReason.CANCELLED, s.future().get().finishReason());

        Sequence done = sequence(new int[] {1}, 1, TokenListener.NONE);
        done.accept(2, null, -1);
        done.markCancelled();
        assertFalse(done.stopIfCancelled());
        done.complete();
        assertEquals(FinishReason.LENGTH, done.future().get().finishReason());
    }

    @Test
    void aThrowingListenerFailsItsOwnFuture() {
        Sequence s = sequence(new int[] {1}, 5, id -> {
            throw new IllegalStateException("boom");
        });
        s.accept(2, null, -1);
        assertTrue(s.finished());
        s.complete();
        var e = assertThrows(ExecutionException.class, () -> s.future().get());
        assertTrue(e.getCause().getMessage().contains("boom"), e.getCause().toString());
    }

    @Test
    void itHoldsOneSetOfCachesAndReleasesThem() {
        PagePool pool = new PagePool(1, 8, 16, 4);
        Sequence s = sequence(new int[] {1}, 3, TokenListener.NONE);
        var table = pool.newTable();
        assertTrue(table.reserve(20));
        s.start(table, null);
        assertTrue(s.holdsCaches());
        assertThrows(IllegalStateException.class, () -> s.start(pool.newTable(), null));
        s.releaseCaches();
        assertFalse(s.holdsCaches());
        assertEquals(4, pool.freePages());
    }
}
