package quiver.testserver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Makes the self-signed certificate the test servers present on their TLS listener, using the JDK's own
 * {@code keytool} (no extra dependency), and writes it as PEM files Neo4j and the tests can read:
 * {@code public.crt} (what tests trust) and {@code private.key} (PKCS#8).
 */
final class Tls {
    static final String CERTIFICATE = "public.crt";
    static final String PRIVATE_KEY = "private.key";
    private static final char[] STORE_PASSWORD = "quiver-test-keystore".toCharArray();

    private Tls() {}

    /** Creates the certificate in {@code dir} unless it is already there (it is reused across starts). */
    static void ensureCertificate(Path dir) throws IOException, GeneralSecurityException, InterruptedException {
        Path certificate = dir.resolve(CERTIFICATE);
        Path privateKey = dir.resolve(PRIVATE_KEY);
        Files.createDirectories(dir.resolve("trusted"));
        Files.createDirectories(dir.resolve("revoked"));
        if (Files.exists(certificate) && Files.exists(privateKey)) {
            return;
        }
        Path keystore = dir.resolve("keystore.p12");
        Files.deleteIfExists(keystore);
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process process = new ProcessBuilder(
                        keytool.toString(), "-genkeypair", "-alias", "quiver", "-keyalg", "RSA", "-keysize", "2048",
                        "-validity", "3650", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                        "-keystore", keystore.toString(), "-storetype", "PKCS12",
                        "-storepass", new String(STORE_PASSWORD), "-keypass", new String(STORE_PASSWORD))
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException("keytool could not make the test certificate: " + output);
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            store.load(in, STORE_PASSWORD);
        }
        Key key = store.getKey("quiver", STORE_PASSWORD);
        Certificate cert = store.getCertificate("quiver");
        Files.writeString(privateKey, pem("PRIVATE KEY", key.getEncoded()));
        Files.writeString(certificate, pem("CERTIFICATE", cert.getEncoded()));
        Files.deleteIfExists(keystore);
    }

    /** An SSL context that trusts exactly the certificate in {@code dir} (as tests do with NEO4J_TLS_CA). */
    static SSLContext trustingOnly(Path dir) throws IOException, GeneralSecurityException {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        Certificate cert;
        try (InputStream in = new ByteArrayInputStream(Files.readAllBytes(dir.resolve(CERTIFICATE)))) {
            cert = factory.generateCertificate(in);
        }
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("quiver", cert);
        TrustManagerFactory managers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        managers.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, managers.getTrustManagers(), null);
        return context;
    }

    private static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }
}
