package org.blocktransformer.cli;

import java.util.List;
import org.blocktransformer.model.backend.BackendInfo;
import org.blocktransformer.model.backend.Backends;
import org.blocktransformer.model.backend.ComputeBackend;

/** The real backends, as the engine finds them. */
public final class LibraryServices implements CliServices {

    @Override
    public List<BackendInfo> backends() {
        return Backends.list();
    }

    @Override
    public String checkDevice(String name, String device) {
        try (ComputeBackend b = Backends.open(name, device, 1)) {
            return null;
        } catch (RuntimeException e) {
            return e.getMessage() != null ? e.getMessage() : e.toString();
        }
    }
}
