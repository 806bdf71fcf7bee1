package org.blocktransformer.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The machine a benchmark ran on, for its report. */
public final class Hardware {
    private Hardware() {
    }

    /** The processor's name ({@code /proc/cpuinfo} "model name" on Linux), else the OS architecture. */
    public static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    int colon = line.indexOf(':');
                    if (colon > 0) {
                        return line.substring(colon + 1).trim().replaceAll("\\s+", " ");
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or not readable: fall through
        }
        return System.getProperty("os.arch", "unknown") + " CPU";
    }

    /** SIMD extensions the kernels care about, from {@code /proc/cpuinfo} flags (empty elsewhere). */
    public static String simdFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    List<String> flags = List.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
                    StringBuilder sb = new StringBuilder();
                    for (String f : new String[] {"avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16"}) {
                        if (flags.contains(f)) {
                            sb.append(sb.isEmpty() ? "" : " ").append(f);
                        }
                    }
                    return sb.toString();
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return "";
    }

    /** Physical memory in bytes, from {@code /proc/meminfo} (0 if unknown). */
    public static long memoryBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    String[] parts = line.trim().split("\\s+");
                    return Long.parseLong(parts[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return 0;
    }

    /** The 1-minute load average, or -1 when the platform does not say. */
    public static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /** A one-line description: processor, logical cores, memory, SIMD flags. */
    public static String describe() {
        long mem = memoryBytes();
        String simd = simdFlags();
        return cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " logical cores"
                + (mem > 0 ? String.format(Locale.ROOT, ", %.1f GiB RAM", mem / (double) (1L << 30)) : "")
                + (simd.isEmpty() ? "" : " (" + simd + ")");
    }

    /** Machine and runtime facts for a results file. */
    public static Map<String, Object> facts() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", cpuModel());
        m.put("logical_cores", Runtime.getRuntime().availableProcessors());
        m.put("memory_bytes", memoryBytes());
        m.put("simd", simdFlags());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        m.put("java", Runtime.version().toString() + " (" + System.getProperty("java.vendor") + ")");
        m.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
        m.put("load_average_1m", loadAverage());
        return m;
    }
}
