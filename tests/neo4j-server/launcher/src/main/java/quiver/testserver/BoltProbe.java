package quiver.testserver;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A deliberately tiny Bolt client used only to prove that a freshly started server accepts a real
 * query over the network with the test password (plain and TLS) before the launcher prints its
 * ready line. It needs no driver, so the same code works against every Neo4j line we start.
 *
 * <p>It offers Bolt 5.0 and 4.4 (both carry the credentials in HELLO), sends HELLO, RUN "RETURN 1 AS n",
 * PULL, and checks that the server answers SUCCESS, RECORD [1], SUCCESS.
 */
final class BoltProbe {
    private static final byte SUCCESS = 0x70;
    private static final byte RECORD = 0x71;
    private static final byte FAILURE = 0x7F;

    private BoltProbe() {}

    /** Runs the probe over a plain socket; returns the negotiated Bolt version, e.g. "5.0". */
    static String plain(String host, int port, String user, String password) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 5000);
            socket.setSoTimeout(15000);
            return converse(socket.getInputStream(), socket.getOutputStream(), user, password);
        }
    }

    /**
     * Runs the probe over TLS, trusting only {@code context}'s certificates and checking that the
     * certificate matches {@code host} (as a strict driver would for bolt+s).
     */
    static String tls(SSLContext context, String host, int port, String user, String password)
            throws IOException {
        try (Socket raw = new Socket()) {
            raw.connect(new InetSocketAddress(host, port), 5000);
            raw.setSoTimeout(15000);
            try (SSLSocket socket =
                    (SSLSocket) context.getSocketFactory().createSocket(raw, host, port, true)) {
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(parameters);
                socket.startHandshake();
                return converse(socket.getInputStream(), socket.getOutputStream(), user, password);
            }
        }
    }

    private static String converse(InputStream rawIn, OutputStream out, String user, String password)
            throws IOException {
        DataInputStream in = new DataInputStream(rawIn);
        // Magic preamble, then four proposals (big-endian: 0, range, minor, major): 5.0, 4.4.
        out.write(new byte[] {0x60, 0x60, (byte) 0xB0, 0x17, 0, 0, 0, 5, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0});
        out.flush();
        byte[] agreed = new byte[4];
        in.readFully(agreed);
        if (agreed[3] == 0) {
            throw new IOException("server accepted none of the offered Bolt versions 5.0 and 4.4");
        }
        String version = agreed[3] + "." + agreed[2];

        Map<String, String> hello = new LinkedHashMap<>();
        hello.put("user_agent", "quiver-test-launcher/1");
        hello.put("scheme", "basic");
        hello.put("principal", user);
        hello.put("credentials", password);
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        message.write(0xB1);
        message.write(0x01);
        writeStringMap(message, hello);
        sendMessage(out, message.toByteArray());
        out.flush();
        expect(in, SUCCESS, "HELLO");

        message.reset();
        message.write(0xB3);
        message.write(0x10);
        writeString(message, "RETURN 1 AS n");
        message.write(0xA0); // no parameters
        message.write(0xA0); // no extra
        sendMessage(out, message.toByteArray());
        // PULL {n: -1}
        message.reset();
        message.write(0xB1);
        message.write(0x3F);
        message.write(0xA1);
        writeString(message, "n");
        message.write(0xFF);
        sendMessage(out, message.toByteArray());
        out.flush();
        expect(in, SUCCESS, "RUN");
        byte[] record = expect(in, RECORD, "PULL");
        // RECORD with one field: the list [1].
        if (!Arrays.equals(record, new byte[] {(byte) 0xB1, RECORD, (byte) 0x91, 0x01})) {
            throw new IOException("RETURN 1 came back as unexpected bytes " + Arrays.toString(record));
        }
        expect(in, SUCCESS, "PULL");
        sendMessage(out, new byte[] {(byte) 0xB0, 0x02}); // GOODBYE
        out.flush();
        return version;
    }

    private static byte[] expect(DataInputStream in, byte signature, String request) throws IOException {
        byte[] message = readMessage(in);
        if (message.length < 2 || (message[0] & 0xF0) != 0xB0) {
            throw new IOException("malformed reply to " + request);
        }
        if (message[1] == FAILURE) {
            throw new IOException(
                    request + " failed: " + new String(message, StandardCharsets.UTF_8).replaceAll("[^\\x20-\\x7e]", " "));
        }
        if (message[1] != signature) {
            throw new IOException(request + " got message 0x" + Integer.toHexString(message[1] & 0xFF));
        }
        return message;
    }

    private static void sendMessage(OutputStream out, byte[] body) throws IOException {
        out.write(body.length >> 8);
        out.write(body.length);
        out.write(body);
        out.write(0);
        out.write(0);
    }

    private static byte[] readMessage(DataInputStream in) throws IOException {
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        while (true) {
            int size = in.readUnsignedShort();
            if (size == 0) {
                if (message.size() == 0) {
                    continue; // NOOP keep-alive chunk
                }
                return message.toByteArray();
            }
            byte[] chunk = new byte[size];
            in.readFully(chunk);
            message.write(chunk);
        }
    }

    private static void writeStringMap(ByteArrayOutputStream out, Map<String, String> map) throws IOException {
        out.write(0xA0 | map.size());
        for (Map.Entry<String, String> entry : map.entrySet()) {
            writeString(out, entry.getKey());
            writeString(out, entry.getValue());
        }
    }

    private static void writeString(ByteArrayOutputStream out, String value) throws IOException {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length < 16) {
            out.write(0x80 | bytes.length);
        } else if (bytes.length < 256) {
            out.write(0xD0);
            out.write(bytes.length);
        } else {
            throw new IOException("probe strings are short; got " + bytes.length + " bytes");
        }
        out.write(bytes);
    }
}
