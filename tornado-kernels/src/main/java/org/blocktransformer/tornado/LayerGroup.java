package org.blocktransformer.tornado;

import java.util.ArrayList;
import java.util.List;
import org.blocktransformer.model.backend.KvFormat;
import org.blocktransformer.model.weights.LayerWeights;
import org.blocktransformer.tornado.kernels.NeoXKernels;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;

/**
 * The device-resident arrays of a group of consecutive layers: their weights stacked layer by layer, their KV
 * cache ({@code [layer][slot][hidden]}: float32 in {@code keys}/{@code values}, or float16 bits four to a word in
 * {@code keysPacked}/{@code valuesPacked} ({@link NeoXKernels#kvIndex}), the others one-element placeholders;
 * {@code kvFormat} says which) and each
 * layer's index within the group (a one-element array, so every layer's tasks are compiled with the same code and
 * read their layer at run time).
 */
record LayerGroup(FloatArray ln1w, FloatArray ln1b, FloatArray ln2w, FloatArray ln2b, DeviceMatrix qkvW,
                  FloatArray qkvB, DeviceMatrix outW, FloatArray outB, DeviceMatrix upW, FloatArray upB,
                  DeviceMatrix downW, FloatArray downB, FloatArray keys, FloatArray values, LongArray keysPacked,
                  LongArray valuesPacked, int kvFormat, IntArray[] layerOf) {

    /** With {@code tensor}, float16 weights are also packed for the tensor-core kernel (see {@link DeviceMatrix}). */
    static LayerGroup of(List<LayerWeights> ls, int heads, int hd, int inter, int slots, KvFormat kv,
                         boolean tensor) {
        int d = heads * hd;
        boolean half = kv == KvFormat.F16;
        int size = DeviceArrays.checkedSize((long) ls.size() * slots * heads * (half ? NeoXKernels.halfWords(hd) : hd));
        IntArray[] layerOf = new IntArray[ls.size()];
        for (int l = 0; l < layerOf.length; l++) {
            layerOf[l] = IntArray.fromElements(l);
        }
        return new LayerGroup(
                DeviceArrays.stackVectors(ls.stream().map(l -> l.inputNorm().weight()).toList(), d),
                DeviceArrays.stackVectors(ls.stream().map(l -> l.inputNorm().bias()).toList(), d),
                DeviceArrays.stackVectors(ls.stream().map(l -> l.postAttentionNorm().weight()).toList(), d),
                DeviceArrays.stackVectors(ls.stream().map(l -> l.postAttentionNorm().bias()).toList(), d),
                DeviceMatrix.stack(ls.stream().map(l -> l.qkv().weight()).toList(), tensor),
                DeviceArrays.stackVectors(ls.stream().map(l -> l.qkv().bias()).toList(), 3 * d),
                DeviceMatrix.stack(ls.stream().map(l -> l.attentionOut().weight()).toList(), tensor),
                DeviceArrays.stackVectors(ls.stream().map(l -> l.attentionOut().bias()).toList(), d),
                DeviceMatrix.stack(ls.stream().map(l -> l.mlpUp().weight()).toList(), tensor),
                DeviceArrays.stackVectors(ls.stream().map(l -> l.mlpUp().bias()).toList(), inter),
                DeviceMatrix.stack(ls.stream().map(l -> l.mlpDown().weight()).toList(), tensor),
                DeviceArrays.stackVectors(ls.stream().map(l -> l.mlpDown().bias()).toList(), d),
                new FloatArray(half ? 1 : size), new FloatArray(half ? 1 : size),
                new LongArray(half ? size : 1), new LongArray(half ? size : 1),
                half ? NeoXKernels.F16 : NeoXKernels.F32, layerOf);
    }

    int layers() {
        return layerOf.length;
    }

    /** Whether every matrix has its packed copy for the tensor-core kernel. */
    boolean tensorReady() {
        return qkvW.hasTensor() && outW.hasTensor() && upW.hasTensor() && downW.hasTensor();
    }

    /** Everything the few-token graphs send once and keep (the per-layer indices included). */
    Object[] resident() {
        List<Object> all = new ArrayList<>(List.of(ln1w, ln1b, ln2w, ln2b, qkvB, outB, upB, downB, keys, values,
                keysPacked, valuesPacked));
        for (DeviceMatrix m : List.of(qkvW, outW, upW, downW)) {
            all.addAll(List.of(m.arrays()));
        }
        all.addAll(List.of(layerOf));
        return all.toArray();
    }
}
