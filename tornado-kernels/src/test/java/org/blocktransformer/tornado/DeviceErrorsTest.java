package org.blocktransformer.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.blocktransformer.model.backend.DeviceException;
import org.junit.jupiter.api.Test;

class DeviceErrorsTest {
    /** Named like TornadoVM's bailout exception: {@link DeviceErrors} classifies by the simple name. */
    static final class FakeBailoutException extends RuntimeException {
        FakeBailoutException(String message) {
            super(message);
        }
    }

    @Test
    void aBuildFailureKeepsTheReasonAndDropsTornadoVMsStackTrace() {
        RuntimeException e = new FakeBailoutException("Bailout is disabled. \nReason: Unable to compile task linear.matmul"
                + "\nThe internal error is: Error during code compilation with the OpenCL driver\nStacktrace: [a.b(C.java:1),"
                + " d.e(F.java:2)]");
        RuntimeException wrapped = DeviceErrors.wrap("GPU 0", "linear 10x4", e);
        assertInstanceOf(DeviceException.class, wrapped);
        assertEquals("kernel build failed on GPU 0 in task graph 'linear 10x4': Bailout is disabled. Reason: Unable to"
                + " compile task linear.matmul The internal error is: Error during code compilation with the OpenCL"
                + " driver", wrapped.getMessage());
        assertEquals(e, wrapped.getCause());
    }
}
