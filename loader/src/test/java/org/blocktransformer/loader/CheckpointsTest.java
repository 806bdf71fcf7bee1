package org.blocktransformer.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import org.blocktransformer.loader.safetensors.DType;
import org.blocktransformer.loader.safetensors.SafetensorsFile;
import org.blocktransformer.loader.safetensors.SafetensorsWriter.Tensor;
import org.blocktransformer.loader.safetensors.SafetensorsWriter;
import org.blocktransformer.model.config.BlockConfig;
import org.blocktransformer.model.config.DecodingStrategy;
import org.blocktransformer.model.config.EmbedderProjection;
import org.blocktransformer.model.config.VanillaConfig;
import org.blocktransformer.model.weights.Bf16Matrix;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.F16Matrix;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.HalfMatrix;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.VanillaWeights;
import org.blocktransformer.model.weights.WeightFormat;

/** The five golden checkpoints, and checkpoints derived from them: re-encoded, sharded, or broken on purpose. */
class CheckpointsTest {

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"bt-prefix-l4", "bt-prefix-l2-r1", "bt-summation-l4", "bt-projection-l4", "vanilla-neox"})
    void goldenModelsLoadWithTheirShapes(String model) {
        ModelWeights w = Checkpoints.load(Golden.path(model), WeightFormat.F32);
        switch (w) {
            case VanillaWeights v -> {
                assertEquals(512, v.embedIn().rows());
                assertEquals(64, v.embedIn().cols());
                assertEquals(2, v.stack().layers().size());
                assertEquals(192, v.stack().layers().getFirst().qkv().outFeatures());
                assertEquals(48, v.stack().layers().getFirst().mlpUp().outFeatures());
                assertNull(v.embedOut().bias());
            }
            case BlockWeights b -> {
                BlockConfig c = b.config();
                assertEquals(512, b.embedTable().rows());
                assertEquals(c.embedder().embedDim(), b.embedTable().cols());
                assertEquals(c.expansionRatio() * 64, b.expansion().outFeatures());
                assertEquals(64, b.expansion().inFeatures());
                assertEquals(c.blockDecoder().numLayers(), b.blockDecoder().layers().size());
                assertEquals(64, b.tokenDecoder().finalNorm().size());
                assertEquals(512, b.tokenEmbedOut().outFeatures());
                if (c.embedder().projection() == EmbedderProjection.PROJECTION_LAYER) {
                    assertEquals(64, b.embedProjection().outFeatures());
                    assertEquals(c.blockLength() * c.embedder().embedDim(), b.embedProjection().inFeatures());
                } else {
                    assertNull(b.embedProjection());
                }
                if (model.startsWith("bt-summation")) {
                    assertEquals(DecodingStrategy.SUMMATION, c.decoding());
                    assertEquals(4, c.expansionRatio());
                }
            }
        }
    }

    @Test
    void vanillaConfigReadFromTransformers5Keys() {
        VanillaConfig c = (VanillaConfig) Checkpoints.config(Golden.path("vanilla-neox"));
        assertEquals(8, c.stack().rotaryDims());
        assertEquals(10000, c.stack().rotaryBase());
    }

    @Test
    void projectionConvIsRearrangedIntoALinear() {
        Path dir = Golden.path("bt-projection-l4");
        BlockWeights b = (BlockWeights) Checkpoints.load(dir, WeightFormat.F32);
        float[] conv;
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            conv = f.floats("embedder.projection_layer.weight", 64, 32, 4);
        }
        for (int d = 0; d < 64; d++) {
            for (int c = 0; c < 32; c++) {
                for (int k = 0; k < 4; k++) {
                    assertEquals(conv[(d * 32 + c) * 4 + k], b.embedProjection().weight().get(d, k * 32 + c));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = WeightFormat.class, names = {"BF16", "F16"})
    void halfFormatsHoldMatricesRoundedAndVectorsExact(WeightFormat format) {
        Path dir = Golden.path("bt-prefix-l4");
        BlockWeights f32 = (BlockWeights) Checkpoints.load(dir, WeightFormat.F32);
        BlockWeights half = (BlockWeights) Checkpoints.load(dir, format);
        HalfMatrix qkv = assertInstanceOf(HalfMatrix.class, half.blockDecoder().layers().get(1).qkv().weight());
        F32Matrix exact = (F32Matrix) f32.blockDecoder().layers().get(1).qkv().weight();
        assertEquals(format, qkv.format());
        assertArrayEquals(format == WeightFormat.BF16 ? Bf16Matrix.of(exact).data() : F16Matrix.of(exact).data(),
                qkv.data());
        assertInstanceOf(HalfMatrix.class, half.tokenEmbedOut().weight());
        assertArrayEquals(f32.tokenDecoder().finalNorm().weight(), half.tokenDecoder().finalNorm().weight());
        assertArrayEquals(f32.expansion().bias(), half.expansion().bias());
    }

    /** A float16 checkpoint (Pythia's own dtype) loads with f16 weights bit for bit: no rounding at all. */
    @Test
    void float16CheckpointsLoadAsTheyAreInF16Format() throws IOException {
        Path golden = Golden.path("bt-projection-l4");
        Path dir = copyWith(golden, "f16", t -> t);
        SafetensorsWriter.write(dir.resolve("model.safetensors"),
                SafetensorsWriter.readAll(golden.resolve("model.safetensors"), DType.F16));
        BlockWeights asF32 = (BlockWeights) Checkpoints.load(dir, WeightFormat.F32);
        BlockWeights asF16 = (BlockWeights) Checkpoints.load(dir, WeightFormat.F16);
        F16Matrix up = assertInstanceOf(F16Matrix.class, asF16.tokenDecoder().layers().get(0).mlpUp().weight());
        float[] widened = WeightLists.floats(up);
        assertArrayEquals(((F32Matrix) asF32.tokenDecoder().layers().get(0).mlpUp().weight()).data(), widened);
    }

    /** Each 16-bit encoding loads to exactly the float32 values rounded to that encoding. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void halfPrecisionCheckpointsLoadEqualToF32(DType dtype) throws IOException {
        Path golden = Golden.path("bt-projection-l4");
        Path dir = copyWith(golden, "half", t -> t);
        SafetensorsWriter.write(dir.resolve("model.safetensors"),
                SafetensorsWriter.readAll(golden.resolve("model.safetensors"), dtype));
        List<float[]> expected = WeightLists.of(Checkpoints.load(golden, WeightFormat.F32));
        List<float[]> actual = WeightLists.of(Checkpoints.load(dir, WeightFormat.F32));
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            float[] rounded = expected.get(i).clone();
            for (int j = 0; j < rounded.length; j++) {
                rounded[j] = dtype == DType.F16 ? Float.float16ToFloat(Float.floatToFloat16(rounded[j]))
                        : Bf16Matrix.toFloat(Bf16Matrix.fromFloat(rounded[j]));
            }
            assertArrayEquals(rounded, actual.get(i), "parameter " + i);
        }
    }

    @Test
    void shardedCheckpointLoadsEqualToUnsharded() throws IOException {
        Path golden = Golden.path("vanilla-neox");
        Map<String, Tensor> all = SafetensorsWriter.readAll(golden.resolve("model.safetensors"), DType.F32);
        Path dir = copyWith(golden, "sharded", t -> t);
        Files.delete(dir.resolve("model.safetensors"));
        Map<String, Tensor> first = new LinkedHashMap<>(), second = new LinkedHashMap<>();
        StringBuilder index = new StringBuilder("{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
        int i = 0;
        for (Map.Entry<String, Tensor> e : all.entrySet()) {
            boolean one = i++ % 2 == 0;
            (one ? first : second).put(e.getKey(), e.getValue());
            index.append(i > 1 ? ", " : "").append('"').append(e.getKey()).append("\": \"model-0000")
                    .append(one ? 1 : 2).append("-of-00002.safetensors\"");
        }
        SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), first);
        SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), second);
        Files.writeString(dir.resolve("model.safetensors.index.json"), index.append("}}").toString());

        List<float[]> expected = WeightLists.of(Checkpoints.load(golden, WeightFormat.F32));
        List<float[]> actual = WeightLists.of(Checkpoints.load(dir, WeightFormat.F32));
        assertEquals(expected.size(), actual.size());
        for (int k = 0; k < expected.size(); k++) {
            assertArrayEquals(expected.get(k), actual.get(k));
        }
    }

    @Test
    void shardMissingATensorTheIndexNames() throws IOException {
        Path golden = Golden.path("vanilla-neox");
        Path dir = copyWith(golden, "badindex", t -> t);
        Files.move(dir.resolve("model.safetensors"), dir.resolve("model-00001-of-00001.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {"
                + "\"embed_out.weight\": \"model-00001-of-00001.safetensors\","
                + "\"gpt_neox.extra.weight\": \"model-00001-of-00001.safetensors\"}}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.load(dir, WeightFormat.F32));
        assertMessage(e, "model-00001-of-00001.safetensors", "'gpt_neox.extra.weight'", "not present in this shard");
    }

    @Test
    void missingTensor() throws IOException {
        Path dir = copyWith(Golden.path("bt-prefix-l4"), "missing", t -> {
            t.remove("token_decoder.gpt_neox.layers.1.mlp.dense_h_to_4h.bias");
            return t;
        });
        assertMessage(load(dir), dir.resolve("model.safetensors").toString(),
                "'token_decoder.gpt_neox.layers.1.mlp.dense_h_to_4h.bias'", "missing (expected shape [48])");
    }

    @Test
    void wrongShape() throws IOException {
        String name = "block_decoder.gpt_neox.layers.0.mlp.dense_h_to_4h.weight";
        Path dir = copyWith(Golden.path("bt-prefix-l4"), "shape", t -> {
            t.put(name, SafetensorsWriter.f32(new float[64 * 48], 64, 48));
            return t;
        });
        assertMessage(load(dir), "model.safetensors", "'" + name + "'", "expected shape [48, 64] but found [64, 48]");
    }

    @Test
    void unexpectedTensor() throws IOException {
        Path dir = copyWith(Golden.path("bt-summation-l4"), "extra", t -> {
            t.put("token_decoder.lm_head.weight", SafetensorsWriter.f32(new float[4], 4));
            t.put("embedder.extra", SafetensorsWriter.f32(new float[1], 1));
            return t;
        });
        assertMessage(load(dir), "model.safetensors", "2 unexpected tensor(s)",
                "embedder.extra, token_decoder.lm_head.weight");
    }

    @Test
    void knownIgnorableTensorsAreAccepted() throws IOException {
        Path dir = copyWith(Golden.path("bt-prefix-l4"), "ignorable", t -> {
            t.put("block_decoder.gpt_neox.embed_in.weight", SafetensorsWriter.f32(new float[512 * 64], 512, 64));
            t.put("block_decoder.gpt_neox.layers.0.attention.bias", SafetensorsWriter.f32(new float[4], 1, 1, 2, 2));
            t.put("token_decoder.gpt_neox.layers.1.attention.masked_bias", SafetensorsWriter.f32(new float[1]));
            t.put("token_decoder.gpt_neox.layers.0.attention.rotary_emb.inv_freq", SafetensorsWriter.f32(new float[4], 4));
            return t;
        });
        assertInstanceOf(BlockWeights.class, Checkpoints.load(dir, WeightFormat.F32));
    }

    @Test
    void missingConfigJson() throws IOException {
        Path dir = copyWith(Golden.path("vanilla-neox"), "noconfig", t -> t);
        Files.delete(dir.resolve("config.json"));
        assertMessage(load(dir), dir.toString(), "no config.json");
    }

    @Test
    void missingWeights() throws IOException {
        Path dir = copyWith(Golden.path("vanilla-neox"), "noweights", t -> t);
        Files.delete(dir.resolve("model.safetensors"));
        assertMessage(load(dir), dir.toString(), "no weights", "model.safetensors");
    }

    @Test
    void missingDirectory() {
        Path dir = tmp.resolve("nowhere");
        assertMessage(load(dir), dir.toString(), "checkpoint directory not found");
    }

    @Test
    void unsupportedHiddenActInCheckpoint() throws IOException {
        Path dir = copyWith(Golden.path("vanilla-neox"), "act", t -> t);
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"gelu\"", "\"relu\""));
        assertMessage(load(dir), config.toString(), "key 'hidden_act' is 'relu'");
    }

    @Test
    void unsupportedRopeTypeInCheckpoint() throws IOException {
        Path dir = copyWith(Golden.path("vanilla-neox"), "rope", t -> t);
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"default\"", "\"yarn\""));
        assertMessage(load(dir), config.toString(), "key 'rope_parameters.rope_type' is 'yarn'");
    }

    @Test
    void weightsMustAgreeWithConfigVocabulary() throws IOException {
        Path dir = copyWith(Golden.path("vanilla-neox"), "vocab", t -> t);
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"vocab_size\": 512", "\"vocab_size\": 500"));
        assertMessage(load(dir), "'embed_out.weight'", "expected shape [500, 64] but found [512, 64]",
                "(and 1 more tensor that does not fit the gpt-neox config)");
    }

    @Test
    void integerTensorWhereAFloatOneBelongs() throws IOException {
        String name = "gpt_neox.final_layer_norm.bias";
        Path dir = copyWith(Golden.path("vanilla-neox"), "dtype", t -> {
            t.put(name, SafetensorsWriter.i64(new long[64], 64));
            return t;
        });
        assertMessage(load(dir), "'" + name + "'", "expected a float tensor (F32, F16 or BF16) but found I64");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bt-prefix-l4", "bt-prefix-l2-r1", "bt-summation-l4", "bt-projection-l4", "vanilla-neox"})
    void checkAcceptsTheGoldenModels(String model) {
        assertEquals(Checkpoints.config(Golden.path(model)), Checkpoints.check(Golden.path(model)));
    }

    /** The header-only check (bt info) refuses what loading refuses, with the same message. */
    @Test
    void checkRefusesWhatLoadRefusesWithTheSameMessage() throws IOException {
        Path missing = copyWith(Golden.path("bt-prefix-l4"), "c-missing", t -> {
            t.remove("block_decoder.gpt_neox.layers.1.attention.dense.weight");
            return t;
        });
        Path shape = copyWith(Golden.path("bt-prefix-l4"), "c-shape", t -> {
            t.put("token_decoder.expansion_layer.bias", SafetensorsWriter.f32(new float[3], 3));
            return t;
        });
        Path extra = copyWith(Golden.path("vanilla-neox"), "c-extra", t -> {
            t.put("lm_head.weight", SafetensorsWriter.f32(new float[2], 2));
            return t;
        });
        Path vocab = copyWith(Golden.path("bt-projection-l4"), "c-vocab", t -> t);
        Path config = vocab.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"vocab_size\": 512", "\"vocab_size\": 513"));
        for (Path dir : List.of(missing, shape, extra, vocab)) {
            CheckpointException checked = assertThrows(CheckpointException.class, () -> Checkpoints.check(dir));
            assertEquals(load(dir).getMessage(), checked.getMessage());
        }
        assertMessage(assertThrows(CheckpointException.class, () -> Checkpoints.check(vocab)),
                "'embedder.embeddings.weight'", "expected shape [513, 32] but found [512, 32]", "and 2 more tensors");
    }

    /**
     * A config naming far more layers than the file holds is refused at once, naming the key, by the check and by
     * loading: the tensor-by-tensor check would otherwise visit a billion layers.
     */
    @Test
    @Timeout(30)
    void moreLayersThanTheCheckpointHoldsAreRefusedAtOnce() throws IOException {
        Path vanilla = TinyCheckpoints.vanilla(tmp.resolve("layers-vanilla"));
        edit(vanilla, "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1000000000");
        Path block = TinyCheckpoints.block(tmp.resolve("layers-block"));
        edit(block, "\"token_decoder\": {\"hidden_size\": 64, \"num_hidden_layers\": 2",
                "\"token_decoder\": {\"hidden_size\": 64, \"num_hidden_layers\": 3");
        assertEquals(load(vanilla).getMessage(), assertThrows(CheckpointException.class,
                () -> Checkpoints.check(vanilla)).getMessage());
        assertMessage(load(vanilla), vanilla.resolve("model.safetensors")
                + ": the config's num_hidden_layers is 1000000000 but this checkpoint holds 2 layers under"
                + " gpt_neox.layers.");
        assertMessage(load(block), "the config's token_decoder.num_hidden_layers is 3 but this checkpoint holds 2"
                + " layers under token_decoder.gpt_neox.layers.");
    }

    private static void edit(Path dir, String from, String to) throws IOException {
        Path config = dir.resolve("config.json");
        String text = Files.readString(config);
        assertTrue(text.contains(from), from);
        Files.writeString(config, text.replace(from, to));
    }

    private CheckpointException load(Path dir) {
        return assertThrows(CheckpointException.class, () -> Checkpoints.load(dir, WeightFormat.F32));
    }

    /** A copy of a golden model directory whose model.safetensors (as F32 tensors) went through {@code edit}. */
    private Path copyWith(Path golden, String name, UnaryOperator<Map<String, Tensor>> edit) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.copy(golden.resolve("config.json"), dir.resolve("config.json"));
        Map<String, Tensor> tensors = SafetensorsWriter.readAll(golden.resolve("model.safetensors"), DType.F32);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), edit.apply(tensors));
        return dir;
    }

    private static void assertMessage(Throwable e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "message \"" + e.getMessage() + "\" lacks \"" + part + "\"");
        }
    }
}
