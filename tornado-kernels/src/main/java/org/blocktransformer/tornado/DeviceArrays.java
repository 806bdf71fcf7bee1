package org.blocktransformer.tornado;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.blocktransformer.model.weights.Linear;
import org.blocktransformer.model.weights.Matrix;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/** Copies between Java arrays and TornadoVM's off-heap arrays. */
final class DeviceArrays {
    private DeviceArrays() {
    }

    static void put(float[] src, int from, FloatArray dst, int count) {
        MemorySegment.copy(src, from, dst.getSegment(), ValueLayout.JAVA_FLOAT, 0, count);
    }

    static void get(FloatArray src, float[] dst, int to, int count) {
        MemorySegment.copy(src.getSegment(), ValueLayout.JAVA_FLOAT, 0, dst, to, count);
    }

    static void put(int[] src, IntArray dst, int count) {
        MemorySegment.copy(src, 0, dst.getSegment(), ValueLayout.JAVA_INT, 0, count);
    }

    /** The matrices of several layers stacked, row-major [layer][rows][cols]. */
    static FloatArray stack(java.util.List<Matrix> layers) {
        long size = 0;
        for (Matrix m : layers) {
            size += (long) m.rows() * m.cols();
        }
        FloatArray out = new FloatArray(checkedSize(size));
        int at = 0;
        float[] row = new float[layers.getFirst().cols()];
        for (Matrix m : layers) {
            for (int r = 0; r < m.rows(); r++) {
                m.copyRow(r, row, 0);
                MemorySegment.copy(row, 0, out.getSegment(), ValueLayout.JAVA_FLOAT, (long) at * Float.BYTES, m.cols());
                at += m.cols();
            }
        }
        return out;
    }

    /** Vectors of several layers stacked; a missing (null) vector counts as zeros. */
    static FloatArray stackVectors(java.util.List<float[]> layers, int width) {
        FloatArray out = new FloatArray(checkedSize((long) layers.size() * width));
        for (int l = 0; l < layers.size(); l++) {
            float[] v = layers.get(l);
            if (v != null) {
                MemorySegment.copy(v, 0, out.getSegment(), ValueLayout.JAVA_FLOAT, (long) l * width * Float.BYTES, width);
            }
        }
        return out;
    }

    static FloatArray bias(Linear linear) {
        return stackVectors(java.util.Collections.singletonList(linear.bias()), linear.outFeatures());
    }

    /**
     * Marks arrays that live only on the device (intermediates, arrays a kernel is handed but does not read) so
     * that closing the plan frees them: TornadoVM frees at close only the arrays a graph transfers, and the others
     * would stay allocated (on PTX also pinned on the host) for the life of the JVM. {@link
     * DataTransferMode#UNDER_DEMAND} never copies anything unless asked.
     */
    static void freedWithPlan(TaskGraph tg, Object... deviceOnly) {
        tg.transferToHost(DataTransferMode.UNDER_DEMAND, deviceOnly);
    }

    static int checkedSize(long size) {
        if (size > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("a device array of " + size + " floats exceeds TornadoVM's int indexing");
        }
        return (int) size;
    }
}
