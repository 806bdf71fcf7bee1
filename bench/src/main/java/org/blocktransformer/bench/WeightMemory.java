package org.blocktransformer.bench;

import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.model.cpu.PackedMatrix;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.LayerNormWeights;
import org.blocktransformer.model.weights.LayerWeights;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.Matrix;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.StackWeights;
import org.blocktransformer.model.weights.VanillaWeights;

/**
 * Weight memory a running model holds, from the shapes (no heap measurement).
 *
 * <p>{@code loaded}: every matrix, bias and LayerNorm vector as loaded (float32 or 16-bit matrices, row-major or in
 * panels; vectors always float32). {@code packed}: the CPU backend's own panel copy ({@link PackedMatrix}: rows
 * padded to a multiple of {@link PackedMatrix#PANEL}) of every Linear layer's matrix that was loaded row-major, made
 * when an engine opens; matrices loaded in panels ({@code MatrixLayout.PANELS}, the default for the CPU) and the
 * embedding tables are read in place and have no copy. The engine keeps the loaded weights too, so a CPU run of
 * row-major weights holds both.
 */
public record WeightMemory(long loaded, long packed) {

    public long total() {
        return loaded + packed;
    }

    /** For a backend: the CPU one holds packed copies; another one (a GPU) keeps its copies off the heap. */
    public long heldBy(String backend) {
        return "cpu".equals(backend) ? total() : loaded;
    }

    public static WeightMemory of(ModelWeights weights) {
        List<Matrix> tables = new ArrayList<>();
        List<Linear> linears = new ArrayList<>();
        List<float[]> vectors = new ArrayList<>();
        switch (weights) {
            case VanillaWeights v -> {
                tables.add(v.embedIn());
                stack(v.stack(), linears, vectors);
                linears.add(v.embedOut());
            }
            case BlockWeights b -> {
                tables.add(b.embedTable());
                tables.add(b.tokenEmbedIn());
                if (b.embedProjection() != null) {
                    linears.add(b.embedProjection());
                }
                stack(b.blockDecoder(), linears, vectors);
                linears.add(b.expansion());
                stack(b.tokenDecoder(), linears, vectors);
                linears.add(b.tokenEmbedOut());
            }
        }
        long loaded = 0;
        long packed = 0;
        for (Matrix m : tables) {
            loaded += m.bytes();
        }
        for (Linear l : linears) {
            Matrix m = l.weight();
            loaded += m.bytes();
            if (l.bias() != null) {
                loaded += 4L * l.bias().length;
            }
            if (PackedMatrix.copies(m)) {
                long elementBytes = m.bytes() / ((long) m.rows() * m.cols());
                long paddedRows = (long) ((m.rows() + PackedMatrix.PANEL - 1) / PackedMatrix.PANEL)
                        * PackedMatrix.PANEL;
                packed += paddedRows * m.cols() * elementBytes;
            }
        }
        for (float[] v : vectors) {
            loaded += 4L * v.length;
        }
        return new WeightMemory(loaded, packed);
    }

    private static void stack(StackWeights s, List<Linear> linears, List<float[]> vectors) {
        for (LayerWeights l : s.layers()) {
            linears.add(l.qkv());
            linears.add(l.attentionOut());
            linears.add(l.mlpUp());
            linears.add(l.mlpDown());
            norm(l.inputNorm(), vectors);
            norm(l.postAttentionNorm(), vectors);
        }
        norm(s.finalNorm(), vectors);
    }

    private static void norm(LayerNormWeights n, List<float[]> vectors) {
        vectors.add(n.weight());
        vectors.add(n.bias());
    }
}
