package org.blocktransformer.cli;

import java.util.List;
import org.blocktransformer.model.backend.BackendInfo;

/**
 * The machine's compute backends, as {@code bt devices} reports them: the one thing the commands take through an
 * interface rather than from the library directly, so that tests can show a device that fails its self-test or a
 * backend this machine lacks. {@link LibraryServices} is the real one. Everything else (models, tokenizers, the
 * engine) the commands use as any client of the library would.
 */
public interface CliServices {

    List<BackendInfo> backends();

    /**
     * Opens backend {@code name} on {@code device} (null: its default) and closes it again; a TornadoVM device runs
     * its self-test on the way. Null when that worked, else why not.
     */
    String checkDevice(String name, String device);
}
