package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One jar for every machine: the CLI built with the TornadoVM backend ({@code -Ptornado}) runs on the CPU in a plain
 * JVM, with no TornadoVM present. This module's tests run in such a JVM (only the tornado-kernels tests get
 * TornadoVM's argfile), with the backend's classes and TornadoVM's API jar on the class path as in that jar.
 */
class OneJarTest {

    static final String PROVIDER = "org.blocktransformer.tornado.TornadoBackendProvider";

    static boolean onClassPath(String name) {
        try {
            Class.forName(name, false, OneJarTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    @Test
    void theTornadoBuildRunsOnTheCpuInAPlainJvm() throws Exception {
        assumeTrue(onClassPath(PROVIDER),
                "built without the TornadoVM backend (TORNADOVM_HOME unset, so no -Ptornado): nothing to show here");
        assumeFalse(onClassPath("uk.ac.manchester.tornado.runtime.TornadoCoreRuntime"),
                "this JVM has TornadoVM's runtime: not the plain JVM this test is about");
        Path model = GoldenCommandsTest.golden().resolve("vanilla-neox");
        LibraryServices services = new LibraryServices();

        CliRun devices = CliRun.run(services, "devices", "--format", "json");
        assertEquals(0, devices.code(), devices::toString);
        List<JsonNode> backends = GenerateCommandTest.jsonLines(devices.out());
        JsonNode tornado = backends.stream().filter(b -> b.get("name").asText().equals("tornado")).findFirst()
                .orElseThrow(() -> new AssertionError("the TornadoVM backend is not listed: " + devices.out()));
        assertFalse(tornado.get("available").booleanValue(), devices::toString);
        assertTrue(tornado.get("reason").asText().contains("not started with TornadoVM"), devices::toString);

        String[] args = {"generate", "--model", model.toString(), "--prompt-ids", "5,17,300,42,7",
                "--max-new-tokens", "8", "--ignore-eos", "--format", "json"};
        CliRun cpu = CliRun.run(services, GenerateCommandTest.concat(args, "--backend", "cpu"));
        CliRun auto = CliRun.run(services, GenerateCommandTest.concat(args, "--backend", "auto"));
        assertEquals(0, cpu.code(), cpu::toString);
        assertEquals(0, auto.code(), auto::toString);
        JsonNode a = GenerateCommandTest.jsonLines(auto.out()).get(0);
        JsonNode c = GenerateCommandTest.jsonLines(cpu.out()).get(0);
        assertEquals(8, c.get("ids").size(), cpu::toString);
        assertEquals(c.get("ids"), a.get("ids"), "--backend auto falls back to the CPU and gives its tokens");
    }
}
