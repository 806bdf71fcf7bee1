/**
 * Getting a model into memory: checkpoints, configs, presets and the tokenizer.
 *
 * <ul>
 *   <li>{@link org.blocktransformer.loader.Checkpoints}: a checkpoint directory ({@code config.json} plus
 *       {@code model.safetensors} or shards) into {@link org.blocktransformer.model.weights.ModelWeights}, strictly
 *       checked against the reference state_dict names and shapes;</li>
 *   <li>{@link org.blocktransformer.loader.Presets}: the paper's model shapes with seeded random weights;</li>
 *   <li>{@link org.blocktransformer.loader.ModelSources}: "preset name or directory", as users type it;</li>
 *   <li>{@code safetensors}: the validated, memory-mapped file reader; {@code config}: config.json parsing;
 *       {@code assemble}: the state_dict layout shared by loading and random init; {@code tokenizer}: tokenizer.json
 *       through DJL.</li>
 * </ul>
 * Every problem with a file is a {@link org.blocktransformer.loader.CheckpointException} whose message names the file
 * and the tensor or key.
 */
package org.blocktransformer.loader;
