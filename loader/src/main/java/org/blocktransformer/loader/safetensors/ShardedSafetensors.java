package org.blocktransformer.loader.safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import org.blocktransformer.loader.CheckpointException;
import org.blocktransformer.loader.JsonSyntax;
import org.blocktransformer.model.weights.PanelMatrix;
import org.blocktransformer.model.weights.WeightFormat;

/**
 * A checkpoint split over several safetensors files, described by a Hugging Face index
 * ({@code model.safetensors.index.json}: {@code {"metadata": {...}, "weight_map": {tensor: shard file name}}}).
 * Shards are opened (and validated) up front; the index and the shards must agree exactly, since a tensor that is in a
 * shard but not in the index, or the other way round, means the files come from different saves.
 */
public final class ShardedSafetensors implements TensorSource {

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path index;
    private final Map<String, SafetensorsFile> shardOf;
    private final List<SafetensorsFile> shards;

    private ShardedSafetensors(Path index, Map<String, SafetensorsFile> shardOf, List<SafetensorsFile> shards) {
        this.index = index;
        this.shardOf = shardOf;
        this.shards = shards;
    }

    /** Opens the index file and every shard it names (shards are resolved next to the index). */
    public static ShardedSafetensors open(Path indexFile) {
        return open(indexFile, name -> false);
    }

    /** As {@link #open(Path)}, leaving out the tensors {@code skip} names, in the index and in the shards. */
    public static ShardedSafetensors open(Path indexFile, Predicate<String> skip) {
        Map<String, String> weightMap = readWeightMap(indexFile);
        weightMap.keySet().removeIf(skip);
        Map<String, SafetensorsFile> byFileName = new LinkedHashMap<>();
        try {
            Map<String, SafetensorsFile> shardOf = new TreeMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                SafetensorsFile shard = byFileName.get(e.getValue());
                if (shard == null) {
                    shard = SafetensorsFile.open(resolveShard(indexFile, e.getValue()), skip);
                    byFileName.put(e.getValue(), shard);
                }
                if (!shard.has(e.getKey())) {
                    throw CheckpointException.inTensor(shard.path(), e.getKey(), "listed in " + indexFile.getFileName()
                            + " but not present in this shard");
                }
                shardOf.put(e.getKey(), shard);
            }
            for (SafetensorsFile shard : byFileName.values()) {
                for (String name : shard.names()) {
                    if (shardOf.get(name) != shard) {
                        throw CheckpointException.inTensor(shard.path(), name, "present in this shard but "
                                + indexFile.getFileName() + " maps it to "
                                + (weightMap.containsKey(name) ? weightMap.get(name) : "no shard"));
                    }
                }
            }
            return new ShardedSafetensors(indexFile, shardOf, new ArrayList<>(byFileName.values()));
        } catch (RuntimeException e) {
            byFileName.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static Map<String, String> readWeightMap(Path indexFile) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(indexFile));
        } catch (NoSuchFileException e) {
            throw CheckpointException.inFile(indexFile, "file not found");
        } catch (JsonProcessingException e) {
            throw new CheckpointException(JsonSyntax.inFile(indexFile, e), e);
        } catch (IOException e) {
            throw new CheckpointException(indexFile + ": cannot read or parse the index: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw CheckpointException.inFile(indexFile, "no \"weight_map\" object");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) {
                throw CheckpointException.inFile(indexFile, "weight_map entry '" + e.getKey()
                        + "' must name a shard file");
            }
            weightMap.put(e.getKey(), e.getValue().asText());
        }
        if (weightMap.isEmpty()) {
            throw CheckpointException.inFile(indexFile, "weight_map is empty");
        }
        return weightMap;
    }

    /** Shards must sit in the index's folder: a name that climbs out of it is refused rather than followed. */
    private static Path resolveShard(Path indexFile, String shardName) {
        Path dir = indexFile.toAbsolutePath().getParent();
        Path shard = dir.resolve(shardName).normalize();
        if (!shard.startsWith(dir) || shardName.isBlank()) {
            throw CheckpointException.inFile(indexFile, "shard file name '" + shardName
                    + "' points outside the checkpoint folder");
        }
        return shard;
    }

    /** The shard files in the order the index first names them. */
    public List<Path> shardFiles() {
        return shards.stream().map(SafetensorsFile::path).toList();
    }

    @Override
    public SortedSet<String> names() {
        return new TreeSet<>(shardOf.keySet());
    }

    @Override
    public boolean has(String name) {
        return shardOf.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return shard(name).info(name);
    }

    @Override
    public Path fileOf(String name) {
        return shard(name).path();
    }

    @Override
    public float[] floats(String name) {
        return shard(name).floats(name);
    }

    @Override
    public float[] floats(String name, int... expectedShape) {
        return shard(name).floats(name, expectedShape);
    }

    @Override
    public short[] bf16(String name, int... expectedShape) {
        return shard(name).bf16(name, expectedShape);
    }

    @Override
    public short[] f16(String name, int... expectedShape) {
        return shard(name).f16(name, expectedShape);
    }

    @Override
    public PanelMatrix panels(String name, int rows, int cols, WeightFormat format) {
        return shard(name).panels(name, rows, cols, format);
    }

    @Override
    public long[] longs(String name, int... expectedShape) {
        return shard(name).longs(name, expectedShape);
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }

    private SafetensorsFile shard(String name) {
        SafetensorsFile shard = shardOf.get(name);
        if (shard == null) {
            throw CheckpointException.inTensor(index, name, "no such tensor in the index");
        }
        return shard;
    }
}
