package org.blocktransformer.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.io.AbstractEndPoint;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;

/**
 * Notices a client that hangs up while its request is being worked on. Jetty does not read an HTTP/1.1 connection
 * while a request is handled, so a closed socket would only show at the next write: for a queued or non-streaming
 * request that is after all its tokens were computed. Once the request body is read, this registers interest in the
 * connection's input: end of stream (or a read error) means the client has gone, and the request is cancelled. The
 * interest is withdrawn before the response completes, so Jetty reads the next request of the connection as usual.
 *
 * <p>A byte that arrives instead (a pipelined next request) is consumed: the connection is then closed after this
 * response ({@link #mustClose()}). HTTP/1.1 pipelining is therefore not supported; no common client uses it.
 */
final class DisconnectWatch implements Callback {
    private final EndPoint endPoint;
    private final Runnable onDisconnect;
    private volatile boolean stopped;
    private volatile boolean mustClose;

    private DisconnectWatch(EndPoint endPoint, Runnable onDisconnect) {
        this.endPoint = endPoint;
        this.onDisconnect = onDisconnect;
    }

    /** Starts watching the request's connection; {@code onDisconnect} runs at most once, on some Jetty thread. */
    static DisconnectWatch start(Request request, Runnable onDisconnect) {
        DisconnectWatch w = new DisconnectWatch(request.getConnectionMetaData().getConnection().getEndPoint(),
                onDisconnect);
        w.endPoint.tryFillInterested(w);
        return w;
    }

    @Override
    public void succeeded() {
        if (stopped) {
            return;
        }
        try {
            ByteBuffer one = BufferUtil.allocate(1);
            int n = endPoint.fill(one);
            if (n < 0) {
                disconnected();
            } else if (n == 0) {
                endPoint.tryFillInterested(this);
            } else {
                mustClose = true;
            }
        } catch (IOException e) {
            disconnected();
        }
    }

    @Override
    public void failed(Throwable x) {
        // Our own withdrawal and Jetty's idle timeout are not the client leaving.
        if (!stopped && !(x instanceof CancellationException) && !(x instanceof TimeoutException)) {
            disconnected();
        }
    }

    private void disconnected() {
        if (!stopped) {
            stopped = true;
            onDisconnect.run();
        }
    }

    /** Withdraws the read interest; call before the response's last write. */
    void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        if (endPoint instanceof AbstractEndPoint a) {
            a.getFillInterest().onFail(new CancellationException("the response is complete"));
        }
    }

    boolean mustClose() {
        return mustClose;
    }
}
