//! Client-side cost of the driver against a real Neo4j (a harness, not a timed test).
//!
//! `cargo bench -p quiver-tokio --bench throughput` (needs `cargo xtask server start neo4j-5`).
//! Reports, over one connection: lock-step `RETURN 1` queries/s and client CPU per query, the same
//! loop over a raw socket (pre-encoded RUN+PULL, responses only framed, not decoded) for
//! comparison, and rows/s and CPU per row for a 200,000-row stream; then peak resident memory.
//! `benches/python_compare.py` measures the official Python driver the same way.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use quiver_tokio::{AuthToken, Config, Driver};

/// User + system CPU time of this process (from /proc/self/stat, in clock ticks of 10 ms… so
/// measured over long enough runs).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the name.
    let total = ticks(11) + ticks(12);
    Duration::from_millis(total * 10)
}

fn memory(key: &str) -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

const STREAM: &str =
    "UNWIND range(1, 200000) AS i RETURN i, 'name-' + toString(i) AS s, [i, i] AS l";

fn main() {
    let queries: u32 = env("QUIVER_BENCH_QUERIES", "20000")
        .parse()
        .unwrap_or(20000);
    let uri = env("NEO4J_URI", "bolt://127.0.0.1:7687");
    let user = env("NEO4J_USER", "neo4j");
    let password = env("NEO4J_PASSWORD", "quiver-test-password");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    runtime.block_on(async {
        let driver = Driver::with_config(&uri, AuthToken::basic(&user, &password), Config::default().with_telemetry(false))
            .expect("driver");
        driver.verify_connectivity().await.unwrap_or_else(|e| {
            panic!("cannot reach Neo4j at {uri} ({e}); start it with `cargo xtask server start neo4j-5`")
        });
        let mut session = driver.session();
        for _ in 0..1000 {
            session.run("RETURN 1").await.unwrap().consume().await.unwrap();
        }
        let (wall, cpu) = (Instant::now(), cpu_time());
        for _ in 0..queries {
            let mut result = session.run("RETURN 1").await.unwrap();
            while let Some(record) = result.next().await {
                record.unwrap();
            }
        }
        let (wall, cpu) = (wall.elapsed(), cpu_time() - cpu);
        println!(
            "quiver   RETURN 1 lock-step: {:>8.0} q/s, client CPU {:>6.1} µs/query ({queries} queries)",
            f64::from(queries) / wall.as_secs_f64(),
            cpu.as_secs_f64() * 1e6 / f64::from(queries)
        );

        let streams: u32 = env("QUIVER_BENCH_STREAMS", "3").parse().unwrap_or(3);
        for _ in 0..streams {
            let (wall, cpu) = (Instant::now(), cpu_time());
            let mut result = session.run(STREAM).await.unwrap();
            let mut rows = 0u64;
            let mut checksum = 0i64;
            while let Some(record) = result.next().await {
                let record = record.unwrap();
                checksum += record.get_at::<i64>(0).unwrap();
                rows += 1;
            }
            let (wall, cpu) = (wall.elapsed(), cpu_time() - cpu);
            assert_eq!(rows, 200_000);
            assert_eq!(checksum, 200_000 * 200_001 / 2);
            println!(
                "quiver   200k-row stream:    {:>8.0} rows/s, client CPU {:>6.2} µs/row",
                rows as f64 / wall.as_secs_f64(),
                cpu.as_secs_f64() * 1e6 / rows as f64
            );
        }
    });
    println!(
        "quiver   memory: peak RSS {}, now {}",
        memory("VmHWM"),
        memory("VmRSS")
    );
    raw_loop(&uri, &user, &password, queries);
}

/// The same `RETURN 1` loop with the least possible client work: the request bytes are encoded
/// once (by quiver-bolt) and replayed; responses are only framed.
fn raw_loop(uri: &str, user: &str, password: &str, queries: u32) {
    use quiver_bolt::{AuthToken as BoltAuth, Connection, ConnectionConfig, Event, Hello, Request};
    let address = uri.trim_start_matches("bolt://");
    let mut socket = TcpStream::connect(address).expect("connect");
    socket.set_nodelay(true).expect("nodelay");
    let now = Instant::now();
    let mut bolt = Connection::new(ConnectionConfig::default(), now);
    bolt.send(Request::Hello(Hello::new(BoltAuth::basic(user, password))))
        .expect("hello");
    let mut buf = vec![0u8; 65536];
    'ready: loop {
        while let Some(out) = bolt.poll_transmit() {
            socket.write_all(&out).expect("write");
        }
        let n = socket.read(&mut buf).expect("read");
        assert!(n > 0, "server closed");
        bolt.handle_input(&buf[..n], Instant::now()).expect("bolt");
        while let Some(event) = bolt.poll_event() {
            match event {
                Event::Ready { .. } => break 'ready,
                Event::Failure { failure, .. } => panic!("{failure:?}"),
                _ => {}
            }
        }
    }
    bolt.send(Request::run("RETURN 1", Default::default()))
        .expect("run");
    bolt.send(Request::pull_all()).expect("pull");
    let request = bolt.poll_transmit().expect("bytes");
    let mut frame = |socket: &mut TcpStream| {
        // SUCCESS, RECORD, SUCCESS: three messages, each ended by an empty chunk.
        let mut messages = 0;
        let mut pending: Vec<u8> = Vec::new();
        while messages < 3 {
            let n = socket.read(&mut buf).expect("read");
            assert!(n > 0, "server closed");
            pending.extend_from_slice(&buf[..n]);
            let mut at = 0;
            while at + 2 <= pending.len() {
                let len = usize::from(u16::from_be_bytes([pending[at], pending[at + 1]]));
                if at + 2 + len > pending.len() {
                    break;
                }
                at += 2 + len;
                if len == 0 {
                    messages += 1;
                }
            }
            pending.drain(..at);
        }
    };
    for _ in 0..1000 {
        socket.write_all(&request).expect("write");
        frame(&mut socket);
    }
    let (wall, cpu) = (Instant::now(), cpu_time());
    for _ in 0..queries {
        socket.write_all(&request).expect("write");
        frame(&mut socket);
    }
    let (wall, cpu) = (wall.elapsed(), cpu_time() - cpu);
    println!(
        "raw      RETURN 1 lock-step: {:>8.0} q/s, client CPU {:>6.1} µs/query",
        f64::from(queries) / wall.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / f64::from(queries)
    );
}
