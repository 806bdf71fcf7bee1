package org.blocktransformer.model.engine;

import java.util.List;
import org.blocktransformer.model.cache.PagePool;

/**
 * Advances every active sequence by one scheduling unit: a token for the vanilla model, a block for the Block
 * Transformer. Sequences only join or leave between units.
 */
sealed interface Stepper permits VanillaStepper, BlockStepper {

    /** The prompt as units the global stack consumes (the block model left-pads it to whole blocks). */
    int[] prepareInput(int[] prompt);

    /** Global-cache positions a request can ever occupy: reserved up front so no sequence runs out mid-way. */
    int globalPositions(int promptLength, int maxNewTokens);

    /** Input ids fed to the global stack per cache position (L_B for blocks, 1 for tokens). */
    int idsPerPosition();

    /** Whether sequences need a local (token decoder) cache slot. */
    boolean usesLocalCache();

    PagePool globalPool();

    PagePool localPool();

    /**
     * One unit for all of {@code active}: feeds pending input (new sequences' prompts in chunks of at most
     * {@code prefillBudget} positions in all) and produces the next token(s) of every sequence whose input is fed.
     */
    void step(List<Sequence> active, int prefillBudget);
}
