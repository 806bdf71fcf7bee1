package org.blocktransformer.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.blocktransformer.model.cpu.VectorKernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The golden generations, and the bits of the vanilla model's logits, are the same on the scalar kernels and at
 * every vector width: in this JVM with each width named, and in forked JVMs whose vectors are capped by
 * {@code -XX:MaxVectorSize} (16 and 32 bytes: what a NEON or SSE machine and an AVX2 machine pick by themselves)
 * or that run without the Vector API module (the plain {@code java -jar} path).
 */
class VectorWidthGoldenTest {
    private static Path golden;
    private static List<String> reference;

    @BeforeAll
    static void referenceRun() {
        golden = Golden.root();
        assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "SKIPPED: the Vector API module is not present in this JVM");
        reference = WidthRun.lines(golden, "scalar");
        // The scalar run is itself the reference's tokens.
        for (String model : Golden.ALL_MODELS) {
            try (var data = Golden.data(model)) {
                for (int i = 0; i < Golden.PROMPTS; i++) {
                    assertEquals(model + " " + i + " " + Arrays.toString(Golden.ints(data, "generated_" + i)),
                            reference.get(1 + Golden.ALL_MODELS.indexOf(model) * Golden.PROMPTS + i));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}-bit kernels in this JVM")
    @ValueSource(ints = {128, 256, 512})
    void everyWidthGivesTheScalarBits(int bits) {
        List<String> got = WidthRun.lines(golden, String.valueOf(bits));
        assertEquals("kernels " + bits, got.getFirst());
        assertEquals(reference.subList(1, reference.size()), got.subList(1, got.size()));
    }

    @Test
    void forkedJvmsPickTheirWidthAndGiveTheSameBits() throws Exception {
        // Only widths this CPU has natively: a cap above the CPU's own width changes nothing.
        int preferred = VectorKernels.preferredBits();
        List<Fork> forks = new ArrayList<>();
        for (int bytes : new int[] {16, 32}) {
            if (bytes * 8 <= preferred) {
                forks.add(new Fork(bytes * 8, List.of("--add-modules", "jdk.incubator.vector",
                        "-XX:MaxVectorSize=" + bytes)));
            }
        }
        forks.add(new Fork(0, List.of()));
        for (Fork f : forks) {
            List<String> got = run(f.options());
            assertEquals("kernels " + f.bits(), got.getFirst(), "forked JVM with " + f.options());
            assertEquals(reference.subList(1, reference.size()), got.subList(1, got.size()),
                    "forked JVM with " + f.options());
        }
    }

    private record Fork(int bits, List<String> options) {
    }

    private static List<String> run(List<String> options) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:+UseSerialGC"));
        command.addAll(options);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), WidthRun.class.getName(),
                golden.toString()));
        Path log = Files.createTempFile("bt-width", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("forked JVM " + options + " did not finish in 120 s");
            }
            if (p.exitValue() != 0) {
                throw new AssertionError("forked JVM " + options + " exited with " + p.exitValue() + ": "
                        + Files.readString(log));
            }
            return out.lines().toList();
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
