package org.blocktransformer.spark;

import java.io.Serializable;
import org.blocktransformer.model.generate.SamplingParams;

/**
 * How tokens are chosen, for every row: greedy ({@code temperature == 0}) or seeded sampling. A sampled row's seed
 * is its seed column's value, or {@code seed} plus its row id (see {@link GenerateSpec}); greedy rows need neither.
 *
 * @param temperature 0 = greedy (argmax); otherwise the sampling temperature
 * @param topK        sample among the K most likely tokens; 0 = all
 * @param topP        nucleus: the smallest set whose probability reaches P; 1 = all
 * @param seed        the base seed that row ids are added to ({@code bt generate --seed})
 */
public record SamplingSpec(double temperature, int topK, double topP, long seed) implements Serializable {

    public static final SamplingSpec GREEDY = new SamplingSpec(0, 0, 1, 0);

    public SamplingSpec {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0 (0 = greedy), got "
                    + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 = no limit), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        if (temperature == 0 && (topK != 0 || topP != 1)) {
            throw new IllegalArgumentException("topK and topP need a temperature > 0 (temperature 0 is greedy"
                    + " decoding): set temperature to sample");
        }
    }

    /** Seeded sampling as {@code bt generate --temperature T --top-k K --top-p P --seed S}. */
    public static SamplingSpec sample(double temperature, int topK, double topP, long seed) {
        return new SamplingSpec(temperature, topK, topP, seed);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    /** The engine's parameters for a row whose seed is {@code rowSeed} (unused when greedy). */
    SamplingParams forRow(long rowSeed) {
        return isGreedy() ? SamplingParams.GREEDY : SamplingParams.sample(temperature, topK, topP, rowSeed);
    }
}
