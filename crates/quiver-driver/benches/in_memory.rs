//! The driver's own CPU cost per query and per row, with the server replaced by an in-memory
//! Bolt 5.4 responder: no sockets, no kernel, no server process sharing the CPU. A harness, not a
//! timed test: `cargo bench -p quiver-driver --bench in_memory`.
//!
//! Against a real Neo4j (quiver-tokio's `throughput` bench) the client's CPU per lock-step query is
//! dominated by the kernel's TCP round trip and by running cache-cold after each wake-up: there,
//! a raw socket loop that does no Bolt work at all already costs tens of µs per query. This bench
//! measures the part Quiver controls — the whole public-API path (`Session::run`, pool, RUN+PULL
//! encoding, chunking, state machine, decoding, records, summary, bookmarks) — over the same
//! `Runtime`/`futures-io` interfaces every adapter uses.
//!
//! Cases: auto-commit `session.run` (µs/query for `RETURN 1`, µs/row for a 200,000-row stream);
//! the transaction path: an explicit transaction per `RETURN 1` (BEGIN + RUN/PULL + COMMIT,
//! µs/transaction), a transaction function (`execute_write`) with one query (µs/call), the stream
//! inside an explicit transaction (µs/row), and two results of one transaction read interleaved
//! (µs/row); and routed against direct (`routed`): the same lock-step `RETURN 1` on database
//! `neo4j` through a routing driver (`neo4j://`, its routing table fresh) and a direct one
//! (`bolt://`), in alternating rounds — the routed path's extra client CPU per query, the ratio,
//! and the writes (round trips) per query of each, which must be equal (no ROUTE while the table
//! is fresh).
//!
//! Env: QUIVER_BENCH_QUERIES (default 200000), QUIVER_BENCH_TRANSACTIONS (default 100000),
//! QUIVER_BENCH_ROWS (default 200000), QUIVER_BENCH_ONLY (a comma-separated list of the cases to
//! run, of `autocommit`, `explicit`, `managed`, `stream`, `tx-stream`, `interleaved`, `routed`; default
//! all), e.g. to alternate two builds case by case.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use futures_io::{AsyncRead, AsyncWrite};
use quiver_bolt::chunk::write_chunked;
use quiver_bolt::server::{ServerConfig, ServerConnection, ServerEvent};
use quiver_bolt::value::{Map, Value};
use quiver_bolt::{ClientMessage, ServerState, VersionRange};
use quiver_driver::{AuthToken, Config, ConnectTarget, Driver, Runtime, Session, SessionConfig};
use quiver_packstream::encode;

/// CPU time of this thread, in ns (`/proc/thread-self/schedstat`), if the platform has it.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        stat.split_whitespace().next()?.parse().ok()?,
    ))
}

/// The in-memory server runs on the driver's thread, so the thread's CPU time includes it. To
/// report the driver's share, each case records the bytes the driver writes for one more
/// operation and replays them into a separate server, timed alone ([`server_cpu`]).
static RECORDING: AtomicBool = AtomicBool::new(false);
static RECORDED: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
/// The writes that brought the first connection to READY (handshake, HELLO, LOGON).
static SETUP: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
/// ROUTE requests answered (by every responder).
static ROUTES: AtomicUsize = AtomicUsize::new(0);

/// Runs `op` once, recording what the driver writes.
async fn record<T>(op: impl Future<Output = T>) -> Vec<Vec<u8>> {
    RECORDED.lock().expect("lock").clear();
    RECORDING.store(true, Ordering::Relaxed);
    op.await;
    RECORDING.store(false, Ordering::Relaxed);
    std::mem::take(&mut *RECORDED.lock().expect("lock"))
}

/// The in-memory server's CPU time per replay of `writes` (one operation's requests), measured
/// alone: replayed until it has used at least 200 ms of CPU (the thread's CPU clock advances in
/// scheduler ticks, so shorter spans read as nothing).
fn server_cpu(result: &Arc<Mutex<Arc<Rows>>>, writes: &[Vec<u8>]) -> Duration {
    let mut server = Responder::new(result.clone());
    for write in SETUP.lock().expect("lock").iter() {
        server.receive(write);
    }
    server.output.clear();
    let start = thread_cpu().unwrap_or_default();
    // Batches that double, so that reading the clock (a file read) costs next to nothing.
    let (mut reps, mut batch) = (0u32, 1u32);
    let mut used = Duration::ZERO;
    while used < Duration::from_millis(200) {
        for _ in 0..batch {
            for write in writes {
                server.receive(write);
            }
            std::hint::black_box(&server.output);
            server.output.clear();
        }
        reps += batch;
        batch = batch.saturating_mul(2);
        used = thread_cpu().unwrap_or_default() - start;
    }
    used / reps
}

/// Prints one case: total CPU per operation, the server's share, the driver's.
fn report(what: &str, unit: &str, total: Duration, count: usize, server: Duration, rate: f64) {
    let units = if unit == "query" {
        "queries"
    } else {
        &format!("{unit}s")
    };
    let total = total.as_secs_f64() * 1e6 / count as f64;
    let server = server.as_secs_f64() * 1e6;
    let rate = if rate > 0.0 {
        format!(", {rate:.0} {units}/s")
    } else {
        String::new()
    };
    println!(
        "in-memory {what}: driver CPU {:.3} µs/{unit} ({total:.3} with the in-memory server's \
         {server:.3}; {count} {units}{rate})",
        total - server
    );
}

/// Runs a future that never waits for anything external to completion (the in-memory server
/// answers every request at once), without any executor.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

#[derive(Clone)]
struct InMemory {
    /// The records a RUN returns, chunked, encoded once up front (so that answering a PULL is a
    /// copy, as a kernel's would be), with where each one ends.
    result: Arc<Mutex<Arc<Rows>>>,
}

struct Rows {
    wire: Vec<u8>,
    ends: Vec<usize>,
}

impl Rows {
    fn new(count: usize) -> Rows {
        let (mut wire, mut ends, mut record) = (BytesMut::new(), Vec::new(), BytesMut::new());
        for i in 1..=count as i64 {
            row(i, &mut record);
            write_chunked(&record, &mut wire);
            ends.push(wire.len());
        }
        Rows {
            wire: wire.to_vec(),
            ends,
        }
    }
}

impl Runtime for InMemory {
    type Stream = Responder;

    async fn connect(&self, _target: &ConnectTarget) -> io::Result<Responder> {
        static FIRST: AtomicBool = AtomicBool::new(true);
        let mut responder = Responder::new(self.result.clone());
        responder.records_setup = FIRST.swap(false, Ordering::Relaxed);
        Ok(responder)
    }

    async fn sleep_until(&self, _deadline: Instant) {
        std::future::pending::<()>().await;
    }
}

/// A result the responder is streaming: its records and how many were sent.
struct OpenResult {
    /// The `qid` its RUN was answered with (0 outside a transaction, where it is not announced).
    qid: i64,
    rows: Arc<Rows>,
    sent: usize,
}

/// A Bolt 5.4 server in memory, on the Bolt core's server role: answers each request as it is
/// written. Inside an explicit transaction (BEGIN … COMMIT/ROLLBACK) each RUN gets a `qid`, and
/// PULL/DISCARD address a result by it (−1: the last one), as a server does, so several results
/// can be open at once. Records go out pre-encoded (a copy, as a kernel's would be); everything
/// else through the server role, which decodes the requests and tracks the state.
struct Responder {
    result: Arc<Mutex<Arc<Rows>>>,
    server: ServerConnection,
    /// The results not yet fully pulled or discarded, in RUN order.
    open: Vec<OpenResult>,
    in_transaction: bool,
    next_qid: i64,
    /// Answers not yet read, from `read` on.
    output: Vec<u8>,
    read: usize,
    /// The SUCCESS metadata it sends, built once.
    replies: Replies,
    /// The time handed to the server role (it has no timer here).
    epoch: Instant,
    /// Whether this connection's setup writes go to [`SETUP`] (the first connection's do).
    records_setup: bool,
}

struct Replies {
    empty: Map,
    /// ROUTE's: this server routes, reads and writes `neo4j`, for a ttl that outlasts the run.
    route: Map,
    hello: Map,
    commit: Map,
    run: Map,
    has_more: Map,
    /// A result's last SUCCESS: `{type: "r", t_last: 0, db: "neo4j"}`, plus the bookmark outside
    /// a transaction (inside one, the bookmark comes with COMMIT's SUCCESS).
    end_in_transaction: Map,
    end_auto_commit: Map,
}

fn map<const N: usize>(entries: [(&str, Value); N]) -> Map {
    entries.into_iter().collect()
}

impl Replies {
    fn new() -> Replies {
        let end = || {
            map([
                ("type", Value::from("r")),
                ("t_last", Value::Integer(0)),
                ("db", Value::from("neo4j")),
            ])
        };
        let mut end_auto_commit = end();
        end_auto_commit.insert("bookmark", "FB:kcwQ+a:1");
        let mut rt = Map::new();
        rt.insert("ttl", Value::Integer(1_000_000));
        rt.insert("db", "neo4j");
        let servers = ["ROUTE", "READ", "WRITE"]
            .into_iter()
            .map(|role| {
                Value::Map(map([
                    (
                        "addresses",
                        Value::List(vec![Value::from("in-memory:7687")]),
                    ),
                    ("role", Value::from(role)),
                ]))
            })
            .collect();
        rt.insert("servers", Value::List(servers));
        Replies {
            empty: Map::new(),
            route: map([("rt", Value::Map(rt))]),
            hello: map([
                ("server", Value::from("Neo4j/5.26.0")),
                ("connection_id", Value::from("bolt-1")),
            ]),
            commit: map([("bookmark", Value::from("FB:kcwQ+a:2"))]),
            run: map([
                (
                    "fields",
                    Value::List(vec![Value::from("i"), Value::from("s"), Value::from("l")]),
                ),
                ("t_first", Value::Integer(1)),
            ]),
            has_more: map([("has_more", Value::Boolean(true))]),
            end_in_transaction: end(),
            end_auto_commit,
        }
    }
}

/// The record `[i, 'name-' + i, [i, i]]` of the streaming query.
fn row(i: i64, out: &mut BytesMut) {
    out.clear();
    encode::write_struct_header(out, 0x71, 1).expect("header");
    encode::write_list_header(out, 3).expect("list");
    encode::write_int(out, i);
    encode::write_str(out, &format!("name-{i}")).expect("str");
    encode::write_list_header(out, 2).expect("list");
    encode::write_int(out, i);
    encode::write_int(out, i);
}

impl Responder {
    fn new(result: Arc<Mutex<Arc<Rows>>>) -> Responder {
        let epoch = Instant::now();
        Responder {
            result,
            server: ServerConnection::new(
                ServerConfig::default()
                    .with_versions(vec![VersionRange::exact(5, 4)])
                    .with_manifest(false),
                epoch,
            ),
            open: Vec::new(),
            in_transaction: false,
            next_qid: 0,
            output: Vec::new(),
            read: 0,
            replies: Replies::new(),
            epoch,
            records_setup: false,
        }
    }

    /// The driver's bytes: decoded by the server role, each request answered.
    fn receive(&mut self, buf: &[u8]) {
        self.server
            .handle_input(buf, self.epoch)
            .expect("the driver speaks Bolt");
        // Strict mode hands the requests over one at a time, each after the previous one's answer.
        while let Some(event) = self.server.poll_event() {
            if let ServerEvent::Request(request) = event {
                self.answer(request.message.expect("the driver sends valid requests"));
            }
        }
        while let Some(bytes) = self.server.poll_transmit() {
            self.output.extend_from_slice(&bytes);
        }
    }

    /// The open result a PULL/DISCARD's `qid` names (−1: the last one).
    fn stream(&mut self, qid: i64) -> Option<usize> {
        if qid == -1 {
            self.open.len().checked_sub(1)
        } else {
            self.open.iter().position(|result| result.qid == qid)
        }
    }

    fn success(&mut self, reply: impl FnOnce(&Replies) -> &Map) {
        let metadata = reply(&self.replies).clone();
        self.server.success(metadata).expect("a request waits");
    }

    fn result_end(&mut self) {
        if self.in_transaction {
            self.success(|r| &r.end_in_transaction);
        } else {
            self.success(|r| &r.end_auto_commit);
        }
    }

    fn answer(&mut self, message: ClientMessage) {
        match message {
            ClientMessage::Hello(_) => self.success(|r| &r.hello),
            ClientMessage::Route(_) => {
                ROUTES.fetch_add(1, Ordering::Relaxed);
                self.success(|r| &r.route);
            }
            ClientMessage::Begin(_) => {
                self.in_transaction = true;
                self.next_qid = 0;
                self.open.clear();
                self.success(|r| &r.empty);
            }
            ClientMessage::Commit => {
                self.in_transaction = false;
                self.open.clear();
                self.success(|r| &r.commit);
            }
            ClientMessage::Rollback | ClientMessage::Reset => {
                self.in_transaction = false;
                self.open.clear();
                self.success(|r| &r.empty);
            }
            // RUN: SUCCESS {fields: ["i", "s", "l"], t_first: 1}, plus its qid in a transaction.
            ClientMessage::Run(_) => {
                let rows = self
                    .result
                    .lock()
                    .map(|rows| rows.clone())
                    .unwrap_or_else(|e| e.into_inner().clone());
                if self.in_transaction {
                    let qid = self.next_qid;
                    self.next_qid += 1;
                    self.open.push(OpenResult { qid, rows, sent: 0 });
                    let mut metadata = self.replies.run.clone();
                    metadata.insert("qid", Value::Integer(qid));
                    self.server.success(metadata).expect("RUN waits");
                } else {
                    self.open.clear();
                    self.open.push(OpenResult {
                        qid: 0,
                        rows,
                        sent: 0,
                    });
                    self.success(|r| &r.run);
                }
            }
            // PULL {n, qid}: up to n records, then SUCCESS {has_more: true} or the final SUCCESS.
            ClientMessage::Pull { n, qid } => {
                let index = self
                    .stream(qid)
                    .expect("the server role accepts PULLs of open results only");
                let result = &mut self.open[index];
                let total = result.rows.ends.len();
                let upto = if n < 0 {
                    total
                } else {
                    (result.sent + n as usize).min(total)
                };
                let from = if result.sent == 0 {
                    0
                } else {
                    result.rows.ends[result.sent - 1]
                };
                let to = if upto == 0 {
                    0
                } else {
                    result.rows.ends[upto - 1]
                };
                result.sent = upto;
                let rows = result.rows.clone();
                self.server.send_raw_bytes(&rows.wire[from..to]);
                if upto < total {
                    self.success(|r| &r.has_more);
                } else {
                    self.open.remove(index);
                    self.result_end();
                }
            }
            // DISCARD {n: -1, qid}: the final SUCCESS.
            ClientMessage::Discard { qid, .. } => {
                if let Some(index) = self.stream(qid) {
                    self.open.remove(index);
                }
                self.result_end();
            }
            // LOGON, TELEMETRY, LOGOFF: SUCCESS {}
            _ => self.success(|r| &r.empty),
        }
    }
}

impl AsyncRead for Responder {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let pending = this.output.get(this.read..).unwrap_or_default();
        let n = buf.len().min(pending.len());
        if n == 0 {
            // Lock-step: nothing is pending unless a request was written.
            return Poll::Pending;
        }
        buf[..n].copy_from_slice(&pending[..n]);
        this.read += n;
        if this.read == this.output.len() {
            this.output.clear();
            this.read = 0;
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for Responder {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if RECORDING.load(Ordering::Relaxed) {
            RECORDED.lock().expect("lock").push(buf.to_vec());
        }
        let authenticating = matches!(
            this.server.state(),
            ServerState::Negotiation | ServerState::Authentication
        );
        if this.records_setup && authenticating {
            SETUP.lock().expect("lock").push(buf.to_vec());
        }
        this.receive(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The CPU this thread spent in `work`.
async fn cpu_of<T>(work: impl Future<Output = T>) -> (Duration, T) {
    let cpu = thread_cpu().unwrap_or_default();
    let output = work.await;
    (thread_cpu().unwrap_or_default() - cpu, output)
}

/// The streaming query's columns: checks the sums, so that every row was decoded.
fn check_rows(count: usize, checksum: i64, rows: usize) {
    assert_eq!(count, rows);
    assert_eq!(checksum, (rows as i64) * (rows as i64 + 1) / 2);
}

/// `count` lock-step auto-commit `RETURN 1` queries, every record read.
async fn lock_step(session: &mut Session<InMemory>, count: usize) {
    for _ in 0..count {
        let mut result = session.run("RETURN 1").await.expect("run");
        while let Some(record) = result.next().await {
            std::hint::black_box(record.expect("record").get_at::<i64>(0).expect("int"));
        }
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// `count` explicit transactions, each BEGIN (sent with the RUN) + `RETURN 1` read + COMMIT.
async fn explicit(session: &mut Session<InMemory>, count: usize) {
    for _ in 0..count {
        let tx = session.begin_transaction().await.expect("begin");
        {
            let mut result = tx.run("RETURN 1").await.expect("run");
            while let Some(record) = result.next().await {
                std::hint::black_box(record.expect("record").get_at::<i64>(0).expect("int"));
            }
        }
        tx.commit().await.expect("commit");
    }
}

/// `count` calls of a transaction function that reads `RETURN 1`.
async fn managed(session: &mut Session<InMemory>, count: usize) {
    for _ in 0..count {
        let value = session
            .execute_write(|tx| async move {
                let mut result = tx.run("RETURN 1").await?;
                let mut sum = 0;
                while let Some(record) = result.next().await {
                    sum += record?.get_at::<i64>(0).expect("int");
                }
                Ok(sum)
            })
            .await
            .expect("execute_write");
        std::hint::black_box(value);
    }
}

const STREAM_QUERY: &str =
    "UNWIND range(1, 200000) AS i RETURN i, 'name-' + toString(i) AS s, [i, i] AS l";

fn main() {
    let queries = env("QUIVER_BENCH_QUERIES", 200_000);
    let transactions = env("QUIVER_BENCH_TRANSACTIONS", 100_000);
    let rows = env("QUIVER_BENCH_ROWS", 200_000);
    let runtime = InMemory {
        result: Arc::new(Mutex::new(Arc::new(Rows::new(1)))),
    };
    let driver = Driver::with_runtime(
        runtime.clone(),
        "bolt://in-memory:7687",
        AuthToken::basic("neo4j", "pass"),
        Config::default().with_telemetry(false),
    )
    .expect("driver");
    if thread_cpu().is_none() {
        eprintln!("no /proc/thread-self/schedstat: this harness needs Linux");
        return;
    }
    let only = std::env::var("QUIVER_BENCH_ONLY").ok();
    let wanted = |case: &str| {
        only.as_deref()
            .is_none_or(|list| list.split(',').any(|c| c.trim() == case))
    };
    block_on(async {
        let mut session = driver.session();
        for _ in 0..1000 {
            session
                .run("RETURN 1")
                .await
                .expect("run")
                .consume()
                .await
                .expect("consume");
        }
        if wanted("autocommit") {
            let cpu = thread_cpu().unwrap_or_default();
            let wall = Instant::now();
            for _ in 0..queries {
                let mut result = session.run("RETURN 1").await.expect("run");
                while let Some(record) = result.next().await {
                    std::hint::black_box(record.expect("record").get_at::<i64>(0).expect("int"));
                }
            }
            let cpu = thread_cpu().unwrap_or_default() - cpu;
            let rate = queries as f64 / wall.elapsed().as_secs_f64();
            let writes = record(async {
                session
                    .run("RETURN 1")
                    .await
                    .expect("run")
                    .consume()
                    .await
                    .expect("consume")
            })
            .await;
            let server = server_cpu(&runtime.result, &writes);
            report("RETURN 1 lock-step", "query", cpu, queries, server, rate);
        }
        // (a) An explicit transaction per query: BEGIN (sent with the RUN) + RUN/PULL + COMMIT.
        if wanted("explicit") {
            explicit(&mut session, 1000).await;
            let wall = Instant::now();
            let (cpu, ()) = cpu_of(explicit(&mut session, transactions)).await;
            let rate = transactions as f64 / wall.elapsed().as_secs_f64();
            let writes = record(explicit(&mut session, 1)).await;
            let server = server_cpu(&runtime.result, &writes);
            let what = "explicit tx (BEGIN + RETURN 1 + COMMIT)";
            report(what, "tx", cpu, transactions, server, rate);
        }
        // (b) A transaction function with one query, per call (the driver begins and commits).
        if wanted("managed") {
            managed(&mut session, 1000).await;
            let wall = Instant::now();
            let (cpu, ()) = cpu_of(managed(&mut session, transactions)).await;
            let rate = transactions as f64 / wall.elapsed().as_secs_f64();
            let writes = record(managed(&mut session, 1)).await;
            let server = server_cpu(&runtime.result, &writes);
            report(
                "execute_write (RETURN 1)",
                "call",
                cpu,
                transactions,
                server,
                rate,
            );
        }
        // (e) Routed against direct: `RETURN 1` on `neo4j` through `neo4j://` (the table fresh)
        // and `bolt://`, in alternating rounds; the driver's CPU per query of each (the
        // in-memory server's share, measured alone from each one's recorded writes, taken off).
        if wanted("routed") {
            let routing = Driver::with_runtime(
                runtime.clone(),
                "neo4j://in-memory:7687",
                AuthToken::basic("neo4j", "pass"),
                Config::default().with_telemetry(false),
            )
            .expect("routing driver");
            let on_neo4j = || SessionConfig::new().with_database("neo4j");
            let mut direct = driver.session_with(on_neo4j());
            let mut routed = routing.session_with(on_neo4j());
            lock_step(&mut direct, 1000).await;
            lock_step(&mut routed, 1000).await; // fetches the routing table: one ROUTE
            let routes_before = ROUTES.load(Ordering::Relaxed);
            let direct_writes = record(lock_step(&mut direct, 1)).await;
            let routed_writes = record(lock_step(&mut routed, 1)).await;
            let direct_server = server_cpu(&runtime.result, &direct_writes).as_secs_f64() * 1e6;
            let routed_server = server_cpu(&runtime.result, &routed_writes).as_secs_f64() * 1e6;
            let (rounds, per_round) = (7, (queries / 7).max(1));
            let (mut direct_us, mut routed_us, mut extra_us) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..rounds {
                let (cpu, ()) = cpu_of(lock_step(&mut direct, per_round)).await;
                let d = cpu.as_secs_f64() * 1e6 / per_round as f64 - direct_server;
                let (cpu, ()) = cpu_of(lock_step(&mut routed, per_round)).await;
                let r = cpu.as_secs_f64() * 1e6 / per_round as f64 - routed_server;
                direct_us.push(d);
                routed_us.push(r);
                extra_us.push(r - d);
            }
            let routes = ROUTES.load(Ordering::Relaxed) - routes_before;
            assert_eq!(routes, 0, "no ROUTE while the routing table is fresh");
            assert_eq!(
                direct_writes.len(),
                routed_writes.len(),
                "a routed query takes as many writes (round trips) as a direct one"
            );
            let (d, r) = (median(&mut direct_us), median(&mut routed_us));
            println!(
                "in-memory RETURN 1 on neo4j, routed vs direct: driver CPU {r:.3} vs {d:.3} µs/query \
                 (median of {rounds} alternating rounds of {per_round}), routed costs {:+.3} µs \
                 (median of the per-round differences), ratio {:.3}; {} vs {} writes per query, \
                 {routes} ROUTE in the measured rounds",
                median(&mut extra_us),
                r / d,
                routed_writes.len(),
                direct_writes.len(),
            );
        }
        let stream = Arc::new(Rows::new(rows));
        *runtime.result.lock().expect("lock") = stream;
        if wanted("stream") {
            for _ in 0..3 {
                RECORDED.lock().expect("lock").clear();
                RECORDING.store(true, Ordering::Relaxed);
                let cpu = thread_cpu().unwrap_or_default();
                let mut result = session.run(STREAM_QUERY).await.expect("run");
                let (mut count, mut checksum) = (0usize, 0i64);
                while let Some(record) = result.next().await {
                    checksum += record.expect("record").get_at::<i64>(0).expect("int");
                    count += 1;
                }
                let cpu = thread_cpu().unwrap_or_default() - cpu;
                RECORDING.store(false, Ordering::Relaxed);
                check_rows(count, checksum, rows);
                let writes = std::mem::take(&mut *RECORDED.lock().expect("lock"));
                let server =
                    server_cpu(&runtime.result, &writes) / u32::try_from(rows).unwrap_or(1);
                let what = format!("{rows}-row stream ({} PULLs of 1000)", rows.div_ceil(1000));
                report(&what, "row", cpu, rows, server, 0.0);
            }
        }
        // (c) The same stream inside an explicit transaction (BEGIN and COMMIT included).
        if wanted("tx-stream") {
            for _ in 0..3 {
                RECORDED.lock().expect("lock").clear();
                RECORDING.store(true, Ordering::Relaxed);
                let (cpu, (count, checksum)) = cpu_of(async {
                    let tx = session.begin_transaction().await.expect("begin");
                    let (mut count, mut checksum) = (0usize, 0i64);
                    {
                        let mut result = tx.run(STREAM_QUERY).await.expect("run");
                        while let Some(record) = result.next().await {
                            checksum += record.expect("record").get_at::<i64>(0).expect("int");
                            count += 1;
                        }
                    }
                    tx.commit().await.expect("commit");
                    (count, checksum)
                })
                .await;
                RECORDING.store(false, Ordering::Relaxed);
                check_rows(count, checksum, rows);
                let writes = std::mem::take(&mut *RECORDED.lock().expect("lock"));
                let server =
                    server_cpu(&runtime.result, &writes) / u32::try_from(rows).unwrap_or(1);
                let what = format!(
                    "{rows}-row stream in explicit tx ({} PULLs of 1000)",
                    rows.div_ceil(1000)
                );
                report(&what, "row", cpu, rows, server, 0.0);
            }
        }
        // (d) Two results of one transaction, read interleaved a record at a time: each is
        // pulled with its own qid while the other one's records wait in its inbox.
        if wanted("interleaved") {
            for _ in 0..3 {
                RECORDED.lock().expect("lock").clear();
                RECORDING.store(true, Ordering::Relaxed);
                let (cpu, sums) = cpu_of(async {
                    let tx = session.begin_transaction().await.expect("begin");
                    let mut first = tx.run(STREAM_QUERY).await.expect("run");
                    let mut second = tx.run(STREAM_QUERY).await.expect("run");
                    let mut sums = [(0usize, 0i64); 2];
                    loop {
                        let mut progressed = false;
                        for (result, (count, checksum)) in
                            [&mut first, &mut second].into_iter().zip(sums.iter_mut())
                        {
                            if let Some(record) = result.next().await {
                                *checksum += record.expect("record").get_at::<i64>(0).expect("int");
                                *count += 1;
                                progressed = true;
                            }
                        }
                        if !progressed {
                            break;
                        }
                    }
                    drop((first, second));
                    tx.commit().await.expect("commit");
                    sums
                })
                .await;
                RECORDING.store(false, Ordering::Relaxed);
                for (count, checksum) in sums {
                    check_rows(count, checksum, rows);
                }
                let writes = std::mem::take(&mut *RECORDED.lock().expect("lock"));
                let server =
                    server_cpu(&runtime.result, &writes) / u32::try_from(2 * rows).unwrap_or(1);
                let what = format!(
                    "2 x {rows}-row streams of one tx, interleaved ({} PULLs of 1000)",
                    2 * rows.div_ceil(1000)
                );
                report(&what, "row", cpu, 2 * rows, server, 0.0);
            }
        }
    });
}
