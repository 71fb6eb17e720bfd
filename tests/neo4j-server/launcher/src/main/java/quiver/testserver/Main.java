package quiver.testserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilder;
import org.neo4j.harness.Neo4jBuilders;

/**
 * Starts an in-process Neo4j for Quiver's tests and keeps it running until SIGTERM (or, with
 * {@code --exit-on-stdin-eof}, until its standard input closes, so it dies with the process that owns it).
 *
 * <p>Usage: {@code Main --bolt-port 7687 --tls-port 7688 --password P --work-dir DIR --tls-dir DIR
 * [--data-dir DIR] [--exit-on-stdin-eof]}. With {@code --data-dir} the databases and their transaction
 * logs live there instead of in a fresh folder under the work dir, so a later start on the same data dir
 * recovers them (after a crash, from the transaction logs) as a restarted Neo4j server would. Prints {@code QUIVER-NEO4J-READY ...} only after a real Bolt query with the
 * password succeeded over the plain port and over TLS; the version-specific settings live in
 * {@code ServerSettings} (one per Neo4j line, next to each Maven project).
 */
public final class Main {
    static final String USER = "neo4j";

    private Main() {}

    public static void main(String[] args) throws Exception {
        try {
            run(args);
        } catch (Throwable failure) {
            // Neo4j's threads would keep the JVM alive after the main thread died: exit, so that
            // whoever started us sees the failure at once instead of waiting for a ready line.
            failure.printStackTrace();
            System.out.flush();
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        long started = System.nanoTime();
        Options options = Options.parse(args);
        Tls.ensureCertificate(options.tlsDir);
        Files.createDirectories(options.workDir);

        Neo4jBuilder builder = Neo4jBuilders.newInProcessBuilder(options.workDir).withDisabledServer();
        if (options.dataDir != null) {
            Files.createDirectories(options.dataDir);
            builder = builder.withConfig(GraphDatabaseSettings.data_directory, options.dataDir);
        }
        Neo4j neo4j = ServerSettings.apply(builder, options).build();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            neo4j.close();
            System.out.println("QUIVER-NEO4J-STOPPED");
            System.out.flush();
        }, "quiver-shutdown"));

        // Auth is on, so the built-in user starts with password "neo4j" and "change required";
        // the embedded API is not subject to auth, which lets us set the real password here. A
        // restart on kept data finds it set already (and Neo4j refuses to set the same password).
        var system = neo4j.databaseManagementService().database("system");
        boolean changeRequired = system.executeTransactionally(
                "SHOW USERS YIELD user, passwordChangeRequired WHERE user = $user RETURN passwordChangeRequired",
                Map.of("user", USER),
                result -> !result.hasNext() || Boolean.TRUE.equals(result.next().get("passwordChangeRequired")));
        if (changeRequired) {
            system.executeTransactionally(
                    "ALTER USER " + USER + " SET PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("password", options.password));
        }
        String version = neo4j.defaultDatabaseService()
                .executeTransactionally(
                        "CALL dbms.components() YIELD versions RETURN versions[0] AS version",
                        Map.of(),
                        result -> String.valueOf(result.next().get("version")));

        String plainBolt = BoltProbe.plain("127.0.0.1", options.boltPort, USER, options.password);
        String tlsBolt = BoltProbe.tls(
                Tls.trustingOnly(options.tlsDir), "localhost", options.tlsPort, USER, options.password);
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.println("QUIVER-NEO4J-READY bolt://127.0.0.1:" + options.boltPort
                + " bolt+s://localhost:" + options.tlsPort
                + " neo4j=" + version
                + " probe-bolt=" + plainBolt + " probe-tls-bolt=" + tlsBolt
                + " ca=" + options.tlsDir.resolve(Tls.CERTIFICATE)
                + " startup-ms=" + millis);
        System.out.flush();

        if (options.exitOnStdinEof) {
            while (System.in.read() != -1) {
                // Ignore input; only the end of it matters.
            }
            System.exit(0); // runs the shutdown hook
        }
        new CountDownLatch(1).await();
    }

    /** Command-line options of the launcher. */
    static final class Options {
        int boltPort = 7687;
        int tlsPort = 7688;
        String password;
        Path workDir;
        Path tlsDir;
        Path dataDir;
        boolean exitOnStdinEof;

        static Options parse(String[] args) throws IOException {
            Options options = new Options();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                if (arg.equals("--exit-on-stdin-eof")) {
                    options.exitOnStdinEof = true;
                    continue;
                }
                if (i + 1 >= args.length) {
                    throw new IOException("option " + arg + " needs a value");
                }
                String value = args[++i];
                switch (arg) {
                    case "--bolt-port" -> options.boltPort = Integer.parseInt(value);
                    case "--tls-port" -> options.tlsPort = Integer.parseInt(value);
                    case "--password" -> options.password = value;
                    case "--work-dir" -> options.workDir = Path.of(value).toAbsolutePath();
                    case "--tls-dir" -> options.tlsDir = Path.of(value).toAbsolutePath();
                    case "--data-dir" -> options.dataDir = Path.of(value).toAbsolutePath();
                    default -> throw new IOException("unknown option " + arg);
                }
            }
            if (options.password == null || options.workDir == null || options.tlsDir == null) {
                throw new IOException("--password, --work-dir and --tls-dir are required");
            }
            return options;
        }
    }
}
