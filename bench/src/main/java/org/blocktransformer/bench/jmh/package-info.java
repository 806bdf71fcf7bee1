/**
 * JMH benchmarks of the CPU kernels, each read against a limit measured on the same machine: {@link PeakBench}
 * measures the FMA peak (independent vector FMA chains in registers) and memory bandwidth (copy and read of 256 MB
 * arrays); {@link MatmulBench} the matmul at the presets' shapes, {@link LayerStepBench} one decoder layer's step
 * (global attention over a paged cache, and local), {@link NormBench} LayerNorm and GELU. {@link KernelReport} runs
 * them and prints each result as a fraction of the matching limit. Build: {@code bench/target/benchmarks.jar};
 * run: {@code scripts/jmh}.
 */
package org.blocktransformer.bench.jmh;
