package org.blocktransformer.model.engine;

/**
 * Counters of an engine's scheduler.
 *
 * @param waitsForPages times a waiting request could not be admitted because too few cache pages were free
 * @param peakBatch     the most sequences that ran together
 */
public record SchedulerStats(long waitsForPages, int peakBatch) {
}
