package quiver.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.neo4j.driver.Record;
import org.neo4j.driver.Result;
import org.neo4j.driver.Session;

/**
 * The official Java driver in the cross-driver benchmark (protocol: ../src/peer.rs).
 *
 * <p>{@code java -cp … quiver.bench.Peer <workload> <count> <warmup> <concurrency> <persons>}. The
 * concurrent transaction functions are platform threads, each with its own session. The harness
 * gives this peer a longer warm-up than the others, so that the JIT compilers have compiled the
 * hot paths before the measured phase.
 */
public final class Peer {
    static final String RETURN_1 = "RETURN 1";
    static final String STREAM =
            "UNWIND range(1, $rows) AS i RETURN i, 'name-' + toString(i) AS s, {id: i, tag: 'row'} AS m";
    static final String READ_PERSON =
            "MATCH (p:QuiverBenchPerson {id: $id}) RETURN p.name AS name, p.age AS age";
    static final String WRITE_PERSON =
            "MATCH (p:QuiverBenchPerson {id: $id}) SET p.score = p.score + 1 RETURN p.score AS score";

    static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? fallback : v;
    }

    /** User + system CPU of the whole process, µs (clock_gettime(CLOCK_PROCESS_CPUTIME_ID)). */
    static long cpuMicros() {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return os.getProcessCpuTime() / 1000;
    }

    static long peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.split("\\s+")[1]);
                }
            }
        } catch (Exception e) {
            // no /proc: report 0
        }
        return 0;
    }

    static void report(long units, long wallNs, long cpuStart) {
        System.out.printf("QUIVER-BENCH units=%d wall_ns=%d cpu_start_us=%d cpu_end_us=%d hwm_kb=%d%n",
                units, wallNs, cpuStart, cpuMicros(), peakRss());
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }

    static Driver driver() {
        return GraphDatabase.driver(env("NEO4J_URI", "bolt://127.0.0.1:7687"),
                AuthTokens.basic(env("NEO4J_USER", "neo4j"), env("NEO4J_PASSWORD", "quiver-test-password")));
    }

    static void return1(Session session) {
        session.run(RETURN_1).list();
    }

    public static void main(String[] args) throws Exception {
        String workload = args[0];
        long count = Long.parseLong(args[1]);
        long warmup = Long.parseLong(args[2]);
        int concurrency = Integer.parseInt(args[3]);
        long persons = Long.parseLong(args[4]);
        if (workload.equals("connect")) {
            long cpuStart = cpuMicros(), wall = System.nanoTime();
            Driver driver = driver();
            return1(driver.session());
            report(1, System.nanoTime() - wall, cpuStart);
        }
        Driver driver = driver();
        driver.verifyConnectivity();
        switch (workload) {
            case "return1" -> {
                Session session = driver.session();
                for (long i = 0; i < warmup; i++) return1(session);
                long cpuStart = cpuMicros(), wall = System.nanoTime();
                for (long i = 0; i < count; i++) return1(session);
                report(count, System.nanoTime() - wall, cpuStart);
            }
            case "stream" -> {
                Session session = driver.session();
                for (long i = 0; i < warmup; i++) stream(session, count);
                long cpuStart = cpuMicros(), wall = System.nanoTime();
                long rows = stream(session, count);
                report(rows, System.nanoTime() - wall, cpuStart);
            }
            case "tx-read", "tx-write" -> {
                boolean write = workload.equals("tx-write");
                phase(driver, write, 1000, warmup, concurrency, persons);
                long cpuStart = cpuMicros(), wall = System.nanoTime();
                long units = phase(driver, write, 2000, count, concurrency, persons);
                report(units, System.nanoTime() - wall, cpuStart);
            }
            default -> {
                System.err.println("unknown workload " + workload);
                System.exit(2);
            }
        }
    }

    static long checksum;

    static long stream(Session session, long count) {
        Result result = session.run(STREAM, Map.of("rows", count));
        long rows = 0, sum = 0;
        while (result.hasNext()) {
            Record record = result.next();
            sum += record.get("i").asLong() + record.get("s").asString().length()
                    + record.get("m").get("id").asLong();
            rows++;
        }
        if (rows != count) throw new IllegalStateException(rows + " rows, expected " + count);
        checksum += sum;
        return rows;
    }

    static long phase(Driver driver, boolean write, long seed, long millis, int concurrency, long persons)
            throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        AtomicLong done = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < concurrency; w++) {
            SplittableRandom ids = new SplittableRandom(seed + w);
            Thread thread = new Thread(() -> {
                try (Session session = driver.session()) {
                    while (System.nanoTime() < deadline) {
                        long id = ids.nextLong(persons);
                        if (write) {
                            session.executeWrite(tx -> tx.run(WRITE_PERSON, Map.of("id", id)).single().get("score").asLong());
                        } else {
                            session.executeRead(tx -> tx.run(READ_PERSON, Map.of("id", id)).single().get("name").asString());
                        }
                        done.incrementAndGet();
                    }
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) thread.join();
        return done.get();
    }
}
