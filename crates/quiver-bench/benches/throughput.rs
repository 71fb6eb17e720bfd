//! Client-side cost of the driver against a real Neo4j (a harness, not a timed test).
//!
//! `cargo bench -p quiver-bench --bench throughput` (needs `cargo xtask server start neo4j-5`).
//! Reports, over one connection per client: lock-step `RETURN 1` queries/s, client CPU per query
//! (user and system, whole process) and wake-ups per query (voluntary context switches, all
//! threads), for the driver on each runtime adapter — tokio, smol, async-std, blocking — in rounds
//! alternating with the same loop over a raw blocking socket (pre-encoded RUN+PULL, responses only
//! framed, not decoded), so that server warm-up and machine noise hit all alike; then, on tokio,
//! rows/s and CPU per row for a 200,000-row stream, and peak resident memory.
//!
//! Env: QUIVER_BENCH_QUERIES (per round and client), QUIVER_BENCH_ROUNDS, QUIVER_BENCH_STREAMS,
//! QUIVER_BENCH_WARMUP (queries per client before measuring), QUIVER_BENCH_ADAPTERS (comma list,
//! default `tokio,smol,async-std,blocking`), QUIVER_BENCH_RAW (`0`: no raw loop, e.g. to count one
//! adapter's system calls under `strace -f -c`), NEO4J_URI/USER/PASSWORD.
//!
//! The other drivers (Rust, Python, Go, JavaScript, Java), each in its own process, are compared
//! by `cargo xtask bench` (this crate's `quiver-bench` harness).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use quiver_tokio::{AuthToken, Config, Driver, Runtime};

/// User and system CPU time of this process, all threads (from /proc/self/stat, in clock ticks
/// of 10 ms, so measured over long enough runs), and its voluntary context switches.
#[derive(Clone, Copy)]
struct Cpu {
    user: Duration,
    system: Duration,
    /// Voluntary context switches of all threads: each is a thread going to sleep to wait (for
    /// the socket, mostly) and being woken up again.
    wake_ups: u64,
}

impl Cpu {
    fn now() -> Cpu {
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
        Cpu {
            user: Duration::from_millis(ticks(11) * 10),
            system: Duration::from_millis(ticks(12) * 10),
            wake_ups: voluntary_context_switches(),
        }
    }

    fn since(self, start: Cpu) -> Cpu {
        Cpu {
            user: self.user - start.user,
            system: self.system - start.system,
            // (Saturating: a thread that ended meanwhile takes its count with it.)
            wake_ups: self.wake_ups.saturating_sub(start.wake_ups),
        }
    }

    /// "total (user + system), wake-ups" per unit of work.
    fn per(self, units: f64) -> String {
        let us = |d: Duration| d.as_secs_f64() * 1e6 / units;
        format!(
            "{:6.2} µs ({:5.2} user + {:5.2} system), {:4.2} wake-ups",
            us(self.user + self.system),
            us(self.user),
            us(self.system),
            self.wake_ups as f64 / units
        )
    }
}

/// Sum of `voluntary_ctxt_switches` over this process's threads (/proc/self/status has the main
/// thread's only). Threads that ended meanwhile are not counted; the clients here keep theirs.
fn voluntary_context_switches() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
        })
        .sum()
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

/// `queries` lock-step `RETURN 1` queries on `session`, every record read.
async fn lock_step<R: Runtime>(session: &mut quiver_driver::Session<R>, queries: u32) {
    for _ in 0..queries {
        let mut result = session.run("RETURN 1").await.unwrap();
        while let Some(record) = result.next().await {
            record.unwrap();
        }
    }
}

/// A driver on one runtime adapter, with its one session (one pooled connection).
enum Client {
    /// On a current-thread tokio runtime (the stream is registered with that runtime's reactor).
    Tokio(tokio::runtime::Runtime, quiver_tokio::Session),
    /// On `smol::block_on` (async-io's reactor).
    Smol(quiver_smol::Session),
    /// On `async_std::task::block_on` (async-io's reactor too).
    AsyncStd(quiver_async_std::Session),
    /// The blocking API over std::net.
    Blocking(quiver_blocking::Session),
}

impl Client {
    fn connect(adapter: &str, uri: &str, auth: &AuthToken) -> Client {
        let config = || Config::default().with_telemetry(false);
        let unreachable = |e: quiver_tokio::Error| -> ! {
            panic!(
                "cannot reach Neo4j at {uri} ({e}); start it with `cargo xtask server start neo4j-5`"
            )
        };
        match adapter {
            "tokio" => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                let driver = Driver::with_config(uri, auth.clone(), config()).expect("driver");
                runtime
                    .block_on(driver.verify_connectivity())
                    .unwrap_or_else(|e| unreachable(e));
                Client::Tokio(runtime, driver.session())
            }
            "smol" => {
                let driver =
                    quiver_smol::Driver::with_config(uri, auth.clone(), config()).expect("driver");
                smol::block_on(driver.verify_connectivity()).unwrap_or_else(|e| unreachable(e));
                Client::Smol(driver.session())
            }
            "async-std" => {
                let driver = quiver_async_std::Driver::with_config(uri, auth.clone(), config())
                    .expect("driver");
                async_std::task::block_on(driver.verify_connectivity())
                    .unwrap_or_else(|e| unreachable(e));
                Client::AsyncStd(driver.session())
            }
            "blocking" => {
                let driver = quiver_blocking::Driver::with_config(uri, auth.clone(), config())
                    .expect("driver");
                driver
                    .verify_connectivity()
                    .unwrap_or_else(|e| unreachable(e));
                Client::Blocking(driver.session())
            }
            other => panic!(
                "unknown adapter {other:?} in QUIVER_BENCH_ADAPTERS (tokio, smol, async-std, blocking)"
            ),
        }
    }

    fn run(&mut self, queries: u32) {
        match self {
            Client::Tokio(runtime, session) => runtime.block_on(lock_step(session, queries)),
            Client::Smol(session) => smol::block_on(lock_step(session, queries)),
            Client::AsyncStd(session) => async_std::task::block_on(lock_step(session, queries)),
            Client::Blocking(session) => {
                for _ in 0..queries {
                    for record in session.run("RETURN 1").unwrap() {
                        record.unwrap();
                    }
                }
            }
        }
    }
}

/// Wall and CPU time of one client over all rounds.
#[derive(Default)]
struct Totals {
    wall: Duration,
    raw_wall: Duration,
    user: Duration,
    system: Duration,
    wake_ups: u64,
}

fn main() {
    let queries: u32 = env("QUIVER_BENCH_QUERIES", "5000").parse().unwrap_or(5000);
    let rounds: u32 = env("QUIVER_BENCH_ROUNDS", "4").parse().unwrap_or(4);
    let streams: u32 = env("QUIVER_BENCH_STREAMS", "3").parse().unwrap_or(3);
    // No lock-step rounds (only the streams): no warm-up either.
    let warmup: u32 = if rounds > 0 {
        env("QUIVER_BENCH_WARMUP", "2000").parse().unwrap_or(2000)
    } else {
        0
    };
    let with_raw = env("QUIVER_BENCH_RAW", "1") != "0";
    let adapters = env("QUIVER_BENCH_ADAPTERS", "tokio,smol,async-std,blocking");
    let adapters: Vec<&str> = adapters
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect();
    let uri = env("NEO4J_URI", "bolt://127.0.0.1:7687");
    let user = env("NEO4J_USER", "neo4j");
    let password = env("NEO4J_PASSWORD", "quiver-test-password");
    let auth = AuthToken::basic(&user, &password);

    let mut raw = with_raw.then(|| RawLoop::connect(&uri, &user, &password));
    let mut clients: Vec<(&str, Client, Totals)> = adapters
        .iter()
        .map(|&adapter| {
            (
                adapter,
                Client::connect(adapter, &uri, &auth),
                Totals::default(),
            )
        })
        .collect();
    // Warm up every client and the server's JIT before measuring anything.
    if let Some(raw) = &mut raw {
        raw.run(warmup);
    }
    for (_, client, _) in &mut clients {
        client.run(warmup);
    }

    // The raw loop, then each client, every round; the clients' order rotates from round to
    // round so that none always runs right after the raw loop.
    let n = f64::from(queries);
    for round in 1..=rounds {
        let raw_wall = raw.as_mut().map(|raw| {
            let (wall, cpu) = raw.run(queries);
            println!(
                "round {round}: raw       RETURN 1 lock-step {:>6.0} q/s, client CPU {}/query",
                n / wall.as_secs_f64(),
                cpu.per(n)
            );
            wall
        });
        let count = clients.len();
        for i in 0..count {
            let Some((adapter, client, totals)) = clients.get_mut((i + round as usize) % count)
            else {
                continue;
            };
            let (wall, cpu) = (Instant::now(), Cpu::now());
            client.run(queries);
            let (wall, cpu) = (wall.elapsed(), Cpu::now().since(cpu));
            let of_raw = raw_wall
                .map(|raw| {
                    format!(
                        ", {:.0}% of raw",
                        100.0 * raw.as_secs_f64() / wall.as_secs_f64()
                    )
                })
                .unwrap_or_default();
            println!(
                "round {round}: {adapter:<9} RETURN 1 lock-step {:>6.0} q/s, client CPU {}/query ({queries} queries{of_raw})",
                n / wall.as_secs_f64(),
                cpu.per(n),
            );
            totals.wall += wall;
            totals.raw_wall += raw_wall.unwrap_or_default();
            totals.user += cpu.user;
            totals.system += cpu.system;
            totals.wake_ups += cpu.wake_ups;
        }
    }
    let all = f64::from(queries * rounds);
    for (adapter, _, totals) in clients.iter().filter(|_| rounds > 0) {
        let of_raw = if with_raw {
            format!(
                ", throughput {:.1}% of the raw socket loop",
                100.0 * totals.raw_wall.as_secs_f64() / totals.wall.as_secs_f64()
            )
        } else {
            String::new()
        };
        let cpu = Cpu {
            user: totals.user,
            system: totals.system,
            wake_ups: totals.wake_ups,
        };
        println!(
            "all rounds: {adapter:<9} {:>6.0} q/s, client CPU {}/query{of_raw}",
            all / totals.wall.as_secs_f64(),
            cpu.per(all)
        );
    }

    if let Some((_, Client::Tokio(runtime, session), _)) = clients
        .iter_mut()
        .find(|(_, client, _)| matches!(client, Client::Tokio(..)))
    {
        runtime.block_on(async {
            for _ in 0..streams {
                if let Some(raw) = &mut raw {
                    let (rows, raw_wall, raw_cpu) = raw.stream();
                    assert_eq!(rows, 200_000);
                    println!(
                        "raw   200k-row stream: {:>8.0} rows/s, client CPU {}/row",
                        rows as f64 / raw_wall.as_secs_f64(),
                        raw_cpu.per(rows as f64)
                    );
                }
                let (wall, cpu) = (Instant::now(), Cpu::now());
                let mut result = session.run(STREAM).await.unwrap();
                let mut rows = 0u64;
                let mut checksum = 0i64;
                while let Some(record) = result.next().await {
                    let record = record.unwrap();
                    checksum += record.get_at::<i64>(0).unwrap();
                    rows += 1;
                }
                let (wall, cpu) = (wall.elapsed(), Cpu::now().since(cpu));
                assert_eq!(rows, 200_000);
                assert_eq!(checksum, 200_000 * 200_001 / 2);
                println!(
                    "tokio 200k-row stream: {:>8.0} rows/s, client CPU {}/row",
                    rows as f64 / wall.as_secs_f64(),
                    cpu.per(rows as f64)
                );
            }
        });
    }
    println!(
        "memory (all clients): peak RSS {}, now {}",
        memory("VmHWM"),
        memory("VmRSS")
    );
}

/// The same `RETURN 1` loop with the least possible client work: blocking `std::net`, the request
/// bytes encoded once (by quiver-bolt) and replayed, responses only framed, not decoded.
struct RawLoop {
    socket: TcpStream,
    request: Vec<u8>,
    stream_request: Vec<u8>,
    buf: Vec<u8>,
    pending: Vec<u8>,
}

impl RawLoop {
    fn connect(uri: &str, user: &str, password: &str) -> RawLoop {
        use quiver_bolt::{
            AuthToken as BoltAuth, Connection, ConnectionConfig, Event, Hello, Request,
        };
        let address = uri.trim_start_matches("bolt://");
        let mut socket = TcpStream::connect(address).expect("connect");
        socket.set_nodelay(true).expect("nodelay");
        let mut bolt = Connection::new(ConnectionConfig::default(), Instant::now());
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
        let request = bolt.poll_transmit().expect("bytes").to_vec();
        // RUN {STREAM} {} {} + PULL {n: -1}, encoded by hand (the core above would refuse a second
        // RUN: it never sees the answers of the replayed first one).
        let query = STREAM.as_bytes();
        let mut run = vec![
            0xB3,
            0x10,
            0xD0,
            u8::try_from(query.len()).expect("short query"),
        ];
        run.extend_from_slice(query);
        run.extend_from_slice(&[0xA0, 0xA0]);
        let mut wire = bytes::BytesMut::new();
        quiver_bolt::chunk::write_chunked(&run, &mut wire);
        quiver_bolt::chunk::write_chunked(&[0xB1, 0x3F, 0xA1, 0x81, b'n', 0xFF], &mut wire);
        let stream_request = wire.to_vec();
        RawLoop {
            socket,
            request,
            stream_request,
            buf,
            pending: Vec::new(),
        }
    }

    /// The 200,000-row stream, framed only (messages counted, nothing decoded): rows, wall and CPU.
    fn stream(&mut self) -> (u64, Duration, Cpu) {
        let (wall, cpu) = (Instant::now(), Cpu::now());
        self.socket.write_all(&self.stream_request).expect("write");
        // RUN's SUCCESS, the RECORDs, PULL's SUCCESS.
        let (mut successes, mut records) = (0, 0u64);
        let mut message_start = true;
        while successes < 2 {
            let n = self.socket.read(&mut self.buf).expect("read");
            assert!(n > 0, "server closed");
            self.pending.extend_from_slice(&self.buf[..n]);
            let mut at = 0;
            while at + 2 <= self.pending.len() {
                let len = usize::from(u16::from_be_bytes([self.pending[at], self.pending[at + 1]]));
                if at + 2 + len > self.pending.len() {
                    break;
                }
                if len == 0 {
                    message_start = true;
                } else if message_start {
                    message_start = false;
                    match self.pending.get(at + 3) {
                        Some(0x71) => records += 1,
                        Some(0x70) => successes += 1,
                        other => panic!("unexpected message {other:?}"),
                    }
                }
                at += 2 + len;
            }
            self.pending.drain(..at);
        }
        (records, wall.elapsed(), Cpu::now().since(cpu))
    }

    /// `queries` lock-step round trips; wall time and CPU time.
    fn run(&mut self, queries: u32) -> (Duration, Cpu) {
        let (wall, cpu) = (Instant::now(), Cpu::now());
        for _ in 0..queries {
            self.socket.write_all(&self.request).expect("write");
            // SUCCESS, RECORD, SUCCESS: three messages, each ended by an empty chunk.
            let mut messages = 0;
            while messages < 3 {
                let n = self.socket.read(&mut self.buf).expect("read");
                assert!(n > 0, "server closed");
                self.pending.extend_from_slice(&self.buf[..n]);
                let mut at = 0;
                while at + 2 <= self.pending.len() {
                    let len =
                        usize::from(u16::from_be_bytes([self.pending[at], self.pending[at + 1]]));
                    if at + 2 + len > self.pending.len() {
                        break;
                    }
                    at += 2 + len;
                    if len == 0 {
                        messages += 1;
                    }
                }
                self.pending.drain(..at);
            }
        }
        (wall.elapsed(), Cpu::now().since(cpu))
    }
}
