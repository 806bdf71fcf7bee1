package org.blocktransformer.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.blocktransformer.loader.safetensors.DType;
import org.blocktransformer.loader.safetensors.SafetensorsFile;
import org.blocktransformer.loader.safetensors.SafetensorsWriter;
import org.blocktransformer.loader.safetensors.SafetensorsWriter.Tensor;
import org.blocktransformer.loader.text.GenerateOptions;
import org.blocktransformer.loader.text.TextEngine;
import org.blocktransformer.model.engine.EngineOptions;
import org.blocktransformer.model.engine.InferenceEngine;
import org.blocktransformer.model.generate.GenerationRequest;
import org.blocktransformer.model.weights.MatrixLayout;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.PanelMatrix;
import org.blocktransformer.model.weights.VanillaWeights;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * A Pythia checkpoint directory as Hugging Face exports it, built here from the golden GPT-NeoX model: float16
 * {@code model.safetensors} with the non-parameter buffers older transformers save ({@code attention.bias} as BOOL
 * and U8 causal masks of 2048 x 2048, {@code masked_bias}, {@code rotary_emb.inv_freq}), a transformers 4.x
 * {@code config.json} and {@code tokenizer.json}. It must load to exactly the weights of the same float16 values in
 * the golden layout, and generate the golden tokens.
 */
class PythiaLayoutTest {
    private static final int LAYERS = 2;
    private static final int MAX_POSITIONS = 2048;

    @TempDir
    Path tmp;
    private Path golden;
    private Path pythia;
    private Path plain;

    /** transformers 4.x writes these keys for Pythia (rotary_pct, rotary_emb_base, torch_dtype). */
    private static final String CONFIG_4X = """
            {
              "architectures": ["GPTNeoXForCausalLM"],
              "bos_token_id": 0,
              "eos_token_id": 0,
              "hidden_act": "gelu",
              "hidden_size": 64,
              "initializer_range": 0.02,
              "intermediate_size": 48,
              "layer_norm_eps": 1e-05,
              "max_position_embeddings": 2048,
              "model_type": "gpt_neox",
              "num_attention_heads": 2,
              "num_hidden_layers": 2,
              "rotary_emb_base": 10000,
              "rotary_pct": 0.25,
              "tie_word_embeddings": false,
              "torch_dtype": "float16",
              "transformers_version": "4.24.0",
              "use_cache": true,
              "use_parallel_residual": true,
              "vocab_size": 512
            }
            """;

    @BeforeEach
    void build() throws IOException {
        golden = Golden.path("vanilla-neox");
        Map<String, Tensor> f16 = SafetensorsWriter.readAll(golden.resolve("model.safetensors"), DType.F16);
        // The same float16 values in the golden layout: what the Pythia directory must load to.
        plain = Files.createDirectories(tmp.resolve("plain"));
        Files.copy(golden.resolve("config.json"), plain.resolve("config.json"));
        SafetensorsWriter.write(plain.resolve("model.safetensors"), f16);

        pythia = Files.createDirectories(tmp.resolve("pythia-70m-like"));
        Files.writeString(pythia.resolve("config.json"), CONFIG_4X);
        Files.copy(Golden.path("tokenizer").resolve("tokenizer.json"), pythia.resolve("tokenizer.json"));
        Map<String, Tensor> tensors = new TreeMap<>(f16);
        byte[] causal = new byte[MAX_POSITIONS * MAX_POSITIONS];
        for (int i = 0; i < MAX_POSITIONS; i++) {
            for (int j = 0; j <= i; j++) {
                causal[i * MAX_POSITIONS + j] = 1;
            }
        }
        for (int layer = 0; layer < LAYERS; layer++) {
            String p = "gpt_neox.layers." + layer + ".attention.";
            tensors.put(p + "bias", SafetensorsWriter.raw(layer == 0 ? "BOOL" : "U8", causal, 1, 1, MAX_POSITIONS,
                    MAX_POSITIONS));
            tensors.put(p + "masked_bias", SafetensorsWriter.f32(new float[] {-1e9f}));
            tensors.put(p + "rotary_emb.inv_freq", SafetensorsWriter.f32(new float[4], 4));
        }
        SafetensorsWriter.write(pythia.resolve("model.safetensors"), tensors);
    }

    @Test
    void loadsTheSameWeightsAsTheGoldenLayout() {
        for (WeightFormat format : WeightFormat.values()) {
            List<float[]> want = WeightLists.of(Checkpoints.load(plain, format));
            for (MatrixLayout layout : MatrixLayout.values()) {
                ModelWeights loaded = Checkpoints.load(pythia, format, layout, LoadProgress.NONE);
                List<float[]> got = WeightLists.of(loaded);
                assertEquals(want.size(), got.size());
                for (int i = 0; i < want.size(); i++) {
                    assertArrayEquals(want.get(i), got.get(i), format + " " + layout + " parameter " + i);
                }
                var qkv = ((VanillaWeights) loaded).stack().layers().getFirst().qkv().weight();
                assertEquals(layout == MatrixLayout.PANELS, qkv instanceof PanelMatrix, layout + ": " + qkv.getClass());
                assertEquals(format.name().toLowerCase(), qkv.dtype());
            }
        }
    }

    @Test
    void generatesTheGoldenTokens() {
        try (var data = SafetensorsFile.open(golden.resolve("golden.safetensors"))) {
            for (WeightFormat format : new WeightFormat[] {WeightFormat.F32, WeightFormat.F16}) {
                ModelWeights weights = Checkpoints.load(pythia, format, MatrixLayout.PANELS, LoadProgress.NONE);
                try (var engine = InferenceEngine.open(weights, EngineOptions.defaults().withMaxBatchSize(4)
                        .withCacheMemoryBytes(16L << 20).withThreads(2))) {
                    List<GenerationRequest> requests = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        String prompt = "prompt_" + i;
                        requests.add(GenerationRequest.greedy(ints(data.longs(prompt, shape(data, prompt))), 24));
                    }
                    var results = engine.generateAll(requests);
                    for (int i = 0; i < 4; i++) {
                        String name = "generated_" + i;
                        assertArrayEquals(ints(data.longs(name, shape(data, name))), results.get(i).generatedIds(),
                                format + " prompt " + i);
                    }
                }
            }
        }
    }

    @Test
    void textInTextOutWithTheTokenizerInTheDirectory() {
        try (var bt = TextEngine.open(pythia, EngineOptions.defaults().withThreads(2))) {
            var r = bt.generate("Once upon a time", GenerateOptions.greedy(8).ignoringEos());
            assertEquals(8, r.ids().length);
            assertTrue(r.text() != null && !r.text().isEmpty(), r.text());
        }
    }

    @Test
    void unknownTensorsAreStillRefusedWhateverTheirDtype() throws IOException {
        Map<String, Tensor> tensors = new TreeMap<>(SafetensorsWriter.readAll(golden.resolve("model.safetensors"),
                DType.F16));
        tensors.put("gpt_neox.layers.0.attention.mask", SafetensorsWriter.raw("BOOL", new byte[4], 2, 2));
        SafetensorsWriter.write(pythia.resolve("model.safetensors"), tensors);
        var e = assertThrows(CheckpointException.class, () -> Checkpoints.load(pythia, WeightFormat.F32));
        assertTrue(e.getMessage().contains("gpt_neox.layers.0.attention.mask")
                && e.getMessage().contains("dtype BOOL is not supported"), e.getMessage());
    }

    @Test
    void aPytorchOnlyDirectorySaysHowToConvert() throws IOException {
        Files.delete(pythia.resolve("model.safetensors"));
        Files.write(pythia.resolve("pytorch_model.bin"), new byte[16]);
        var e = assertThrows(CheckpointException.class, () -> Checkpoints.load(pythia, WeightFormat.F32));
        assertTrue(e.getMessage().contains("pytorch_model.bin") && e.getMessage().contains("safe_serialization=True")
                && e.getMessage().contains(pythia.toString()), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), "one line");
    }

    private static int[] shape(SafetensorsFile f, String name) {
        return SafetensorsWriter.ints(f.info(name).shape());
    }

    private static int[] ints(long[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.toIntExact(v[i]);
        }
        return out;
    }
}
