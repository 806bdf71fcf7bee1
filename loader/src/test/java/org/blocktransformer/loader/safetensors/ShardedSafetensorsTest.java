package org.blocktransformer.loader.safetensors;

import static org.blocktransformer.loader.safetensors.SafetensorsFileTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.blocktransformer.loader.CheckpointException;

class ShardedSafetensorsTest {

    @TempDir
    Path tmp;

    @BeforeEach
    void shards() throws IOException {
        SafetensorsWriter.write(tmp.resolve("a.safetensors"), Map.of("x", SafetensorsWriter.f32(new float[] {1, 2}, 2)));
        SafetensorsWriter.write(tmp.resolve("b.safetensors"), Map.of("y", SafetensorsWriter.f32(new float[] {3}, 1),
                "z", SafetensorsWriter.bf16(new float[] {4}, 1)));
    }

    private Path index(String weightMap) throws IOException {
        Path index = tmp.resolve(TensorSource.INDEX_FILE);
        Files.writeString(index, "{\"metadata\": {}, \"weight_map\": {" + weightMap + "}}");
        return index;
    }

    @Test
    void readsTensorsFromTheirShards() throws IOException {
        index("\"x\": \"a.safetensors\", \"y\": \"b.safetensors\", \"z\": \"b.safetensors\"");
        try (TensorSource s = TensorSource.openCheckpoint(tmp)) {
            assertEquals(Set.of("x", "y", "z"), s.names());
            assertArrayEquals(new float[] {1, 2}, s.floats("x", 2));
            assertArrayEquals(new float[] {4}, s.floats("z", 1));
            assertEquals(tmp.resolve("b.safetensors").toAbsolutePath(), s.fileOf("y"));
            assertEquals(List.of("a.safetensors", "b.safetensors"), ((ShardedSafetensors) s).shardFiles().stream()
                    .map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void tensorInAShardButNotInTheIndex() throws IOException {
        Path index = index("\"x\": \"a.safetensors\", \"y\": \"b.safetensors\"");
        assertMessage(assertThrows(CheckpointException.class, () -> ShardedSafetensors.open(index)),
                "b.safetensors", "tensor 'z'", "present in this shard but", "maps it to no shard");
    }

    @Test
    void indexNamesAMissingShard() throws IOException {
        Path index = index("\"x\": \"c.safetensors\"");
        assertMessage(assertThrows(CheckpointException.class, () -> ShardedSafetensors.open(index)),
                "c.safetensors", "file not found");
    }

    @Test
    void shardOutsideTheFolderIsRefused() throws IOException {
        Path index = index("\"x\": \"../a.safetensors\"");
        assertMessage(assertThrows(CheckpointException.class, () -> ShardedSafetensors.open(index)),
                "points outside the checkpoint folder");
    }

    @Test
    void indexWithoutWeightMap() throws IOException {
        Path index = tmp.resolve(TensorSource.INDEX_FILE);
        Files.writeString(index, "{\"metadata\": {}}");
        assertMessage(assertThrows(CheckpointException.class, () -> ShardedSafetensors.open(index)),
                index.toString(), "no \"weight_map\" object");
    }
}
