package org.blocktransformer.model.cpu;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector kernels of each width, made on first use: a hidden copy of {@link VectorTemplate} per width, with that
 * width's species as the copy's class data (see the template for why). Each copy is made once per JVM and kept.
 */
final class VectorWidths {
    /** The widths the kernels are written for: 4, 8 and 16 float lanes. */
    static final int[] BITS = {128, 256, 512};
    private static final VectorKernels[] MADE = new VectorKernels[BITS.length];

    private VectorWidths() {
    }

    /** The machine's preferred width, capped at 512 bits; 0 when it is below 128 (no useful vectors). */
    static int preferredBits() {
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        return bits < 128 ? 0 : Math.min(bits, 512);
    }

    /** Kernels of {@code bits} (128, 256 or 512) bits, whatever the machine prefers (wider ones are emulated). */
    static synchronized VectorKernels get(int bits) {
        int i = switch (bits) {
            case 128 -> 0;
            case 256 -> 1;
            case 512 -> 2;
            default -> throw new IllegalArgumentException("vector kernels are 128, 256 or 512 bits, not " + bits);
        };
        if (MADE[i] == null) {
            MADE[i] = new VectorKernels(define(VectorSpecies.of(float.class, VectorShape.forBitSize(bits))));
        }
        return MADE[i];
    }

    private static VectorBody define(VectorSpecies<Float> species) {
        byte[] bytes;
        try (InputStream in = VectorTemplate.class.getResourceAsStream(VectorTemplate.class.getSimpleName() + ".class")) {
            if (in == null) {
                throw new IllegalStateException("the class file of " + VectorTemplate.class.getName() + " is missing");
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the class file of " + VectorTemplate.class.getName(), e);
        }
        try {
            MethodHandles.Lookup copy = MethodHandles.lookup().defineHiddenClassWithClassData(bytes, species, true);
            return (VectorBody) copy.findConstructor(copy.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot define the " + species.vectorBitSize() + "-bit kernels", e);
        }
    }
}
