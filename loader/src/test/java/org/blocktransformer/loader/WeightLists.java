package org.blocktransformer.loader;

import java.util.ArrayList;
import java.util.List;

import org.blocktransformer.model.weights.HalfMatrix;
import org.blocktransformer.model.weights.BlockWeights;
import org.blocktransformer.model.weights.F32Matrix;
import org.blocktransformer.model.weights.LayerNormWeights;
import org.blocktransformer.model.weights.LayerWeights;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.Matrix;
import org.blocktransformer.model.weights.ModelWeights;
import org.blocktransformer.model.weights.PanelMatrix;
import org.blocktransformer.model.weights.StackWeights;
import org.blocktransformer.model.weights.VanillaWeights;

/** Every parameter of a model as float arrays, in a fixed order, for comparing two loads. */
final class WeightLists {

    private WeightLists() {
    }

    static List<float[]> of(ModelWeights weights) {
        List<float[]> out = new ArrayList<>();
        switch (weights) {
            case VanillaWeights v -> {
                out.add(floats(v.embedIn()));
                stack(v.stack(), out);
                linear(v.embedOut(), out);
            }
            case BlockWeights b -> {
                out.add(floats(b.embedTable()));
                if (b.embedProjection() != null) {
                    linear(b.embedProjection(), out);
                }
                stack(b.blockDecoder(), out);
                linear(b.expansion(), out);
                out.add(floats(b.tokenEmbedIn()));
                stack(b.tokenDecoder(), out);
                linear(b.tokenEmbedOut(), out);
            }
        }
        return out;
    }

    static long count(ModelWeights weights) {
        return of(weights).stream().mapToLong(a -> a.length).sum();
    }

    static float[] floats(Matrix m) {
        return switch (m) {
            case F32Matrix f -> f.data();
            case HalfMatrix h -> rowMajor(h);
            case PanelMatrix p -> rowMajor(p);
        };
    }

    /** Every element, row-major, through {@link Matrix#get}. */
    static float[] rowMajor(Matrix m) {
        float[] out = new float[m.rows() * m.cols()];
        for (int i = 0; i < out.length; i++) {
            out[i] = m.get(i / m.cols(), i % m.cols());
        }
        return out;
    }

    private static void stack(StackWeights s, List<float[]> out) {
        for (LayerWeights l : s.layers()) {
            norm(l.inputNorm(), out);
            norm(l.postAttentionNorm(), out);
            linear(l.qkv(), out);
            linear(l.attentionOut(), out);
            linear(l.mlpUp(), out);
            linear(l.mlpDown(), out);
        }
        norm(s.finalNorm(), out);
    }

    private static void norm(LayerNormWeights n, List<float[]> out) {
        out.add(n.weight());
        out.add(n.bias());
    }

    private static void linear(Linear l, List<float[]> out) {
        out.add(floats(l.weight()));
        if (l.bias() != null) {
            out.add(l.bias());
        }
    }
}
