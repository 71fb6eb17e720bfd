package quiver.testserver;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A transparent TCP relay from 127.0.0.1:{@code listenPort} to 127.0.0.1:{@code targetPort}. Used where
 * Neo4j cannot listen on a second Bolt address (4.4): TLS still runs end to end between the client and
 * Neo4j, the relay only copies bytes.
 */
final class TcpRelay {
    private TcpRelay() {}

    /** Opens the listening socket now and serves connections on daemon threads. */
    static void start(int listenPort, int targetPort) throws IOException {
        ServerSocket server = new ServerSocket(listenPort, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (true) {
                try {
                    Socket client = server.accept();
                    Socket upstream;
                    try {
                        upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                    } catch (IOException notUpYet) {
                        client.close();
                        continue;
                    }
                    client.setTcpNoDelay(true);
                    upstream.setTcpNoDelay(true);
                    pump(client, upstream);
                    pump(upstream, client);
                } catch (IOException acceptFailed) {
                    return;
                }
            }
        }, "quiver-tls-relay");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private static void pump(Socket from, Socket to) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int read;
                while ((read = in.read(buffer)) != -1) {
                    out.write(buffer, 0, read);
                    out.flush();
                }
            } catch (IOException closed) {
                // One side went away; closing both ends below ends the other pump too.
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // Nothing left to do with a socket that will not close.
                }
            }
        }, "quiver-tls-relay-pump");
        thread.setDaemon(true);
        thread.start();
    }
}
