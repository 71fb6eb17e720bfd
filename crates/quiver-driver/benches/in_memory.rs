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
//! (µs/row).
//!
//! Env: QUIVER_BENCH_QUERIES (default 200000), QUIVER_BENCH_TRANSACTIONS (default 100000),
//! QUIVER_BENCH_ROWS (default 200000), QUIVER_BENCH_ONLY (a comma-separated list of the cases to
//! run, of `autocommit`, `explicit`, `managed`, `stream`, `tx-stream`, `interleaved`; default
//! all), e.g. to alternate two builds case by case.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use futures_io::{AsyncRead, AsyncWrite};
use quiver_bolt::chunk::write_chunked;
use quiver_driver::{AuthToken, Config, ConnectTarget, Driver, Runtime, Session};
use quiver_packstream::encode;

/// CPU time of this thread, in ns (`/proc/thread-self/schedstat`), if the platform has it.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        stat.split_whitespace().next()?.parse().ok()?,
    ))
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
    result: Arc<std::sync::Mutex<Arc<Rows>>>,
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
        Ok(Responder {
            result: self.result.clone(),
            open: Vec::new(),
            in_transaction: false,
            next_qid: 0,
            handshake_done: false,
            input: BytesMut::new(),
            output: Vec::new(),
            read: 0,
            message: Vec::new(),
        })
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

/// A Bolt 5.4 server in memory: answers each request as it is written. Inside an explicit
/// transaction (BEGIN … COMMIT/ROLLBACK) each RUN gets a `qid`, and PULL/DISCARD address a result
/// by it (−1: the last one), as a server does, so several results can be open at once.
struct Responder {
    result: Arc<std::sync::Mutex<Arc<Rows>>>,
    /// The results not yet fully pulled or discarded, in RUN order.
    open: Vec<OpenResult>,
    in_transaction: bool,
    next_qid: i64,
    handshake_done: bool,
    input: BytesMut,
    /// Answers not yet read, from `read` on.
    output: Vec<u8>,
    read: usize,
    message: Vec<u8>,
}

/// PULL's or DISCARD's `n` and `qid` (−1 each unless given).
fn stream_args(message: &[u8]) -> (i64, i64) {
    let (mut n, mut qid) = (-1, -1);
    let mut decoder = quiver_packstream::Decoder::new(bytes::Bytes::copy_from_slice(
        message.get(2..).unwrap_or_default(),
    ));
    let Ok(entries) = decoder.read_map_header() else {
        return (n, qid);
    };
    for _ in 0..entries {
        match decoder.read_str() {
            Ok(key) if key.as_str() == "n" => n = decoder.read_int().unwrap_or(-1),
            Ok(key) if key.as_str() == "qid" => qid = decoder.read_int().unwrap_or(-1),
            Ok(_) => {
                let _ = decoder.skip_value();
            }
            Err(_) => break,
        }
    }
    (n, qid)
}

fn push(output: &mut Vec<u8>, message: &[u8]) {
    let mut chunked = BytesMut::new();
    write_chunked(message, &mut chunked);
    output.extend_from_slice(&chunked);
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

/// A result's last SUCCESS: `{type: "r", t_last: 0, db: "neo4j"}`, plus the bookmark outside a
/// transaction (inside one, the bookmark comes with COMMIT's SUCCESS).
fn result_end(out: &mut Vec<u8>, in_transaction: bool) {
    if in_transaction {
        push(
            out,
            b"\xb1\x70\xa3\x84type\x81r\x86t_last\x00\x82db\x85neo4j",
        );
    } else {
        push(
            out,
            b"\xb1\x70\xa4\x84type\x81r\x86t_last\x00\x82db\x85neo4j\x88bookmark\x8bFB:kcwQ+a:1",
        );
    }
}

impl Responder {
    /// The open result a PULL/DISCARD's `qid` names (−1: the last one).
    fn stream(&mut self, qid: i64) -> Option<usize> {
        if qid == -1 {
            self.open.len().checked_sub(1)
        } else {
            self.open.iter().position(|result| result.qid == qid)
        }
    }

    fn answer(&mut self, message: &[u8]) {
        let tag = message.get(1).copied().unwrap_or(0);
        match tag {
            // HELLO
            0x01 => push(
                &mut self.output,
                b"\xb1\x70\xa2\x86server\x8cNeo4j/5.26.0\x8dconnection_id\x86bolt-1",
            ),
            // LOGON, TELEMETRY
            0x6A | 0x54 => push(&mut self.output, b"\xb1\x70\xa0"),
            // BEGIN: SUCCESS {}
            0x11 => {
                self.in_transaction = true;
                self.next_qid = 0;
                self.open.clear();
                push(&mut self.output, b"\xb1\x70\xa0");
            }
            // COMMIT: SUCCESS {bookmark}
            0x12 => {
                self.in_transaction = false;
                self.open.clear();
                push(&mut self.output, b"\xb1\x70\xa1\x88bookmark\x8bFB:kcwQ+a:2");
            }
            // ROLLBACK, RESET: SUCCESS {}
            0x13 | 0x0F => {
                self.in_transaction = false;
                self.open.clear();
                push(&mut self.output, b"\xb1\x70\xa0");
            }
            // RUN: SUCCESS {fields: ["i", "s", "l"], t_first: 1}, plus its qid in a transaction.
            0x10 => {
                let rows = self
                    .result
                    .lock()
                    .map(|rows| rows.clone())
                    .unwrap_or_else(|e| e.into_inner().clone());
                if self.in_transaction {
                    let qid = self.next_qid;
                    self.next_qid += 1;
                    self.open.push(OpenResult { qid, rows, sent: 0 });
                    let mut success = BytesMut::new();
                    success.extend_from_slice(
                        b"\xb1\x70\xa3\x86fields\x93\x81i\x81s\x81l\x87t_first\x01\x83qid",
                    );
                    encode::write_int(&mut success, qid);
                    push(&mut self.output, &success);
                } else {
                    self.open.clear();
                    self.open.push(OpenResult {
                        qid: 0,
                        rows,
                        sent: 0,
                    });
                    push(
                        &mut self.output,
                        b"\xb1\x70\xa2\x86fields\x93\x81i\x81s\x81l\x87t_first\x01",
                    );
                }
            }
            // PULL {n, qid}: up to n records, then SUCCESS {has_more: true} or the final SUCCESS.
            0x3F => {
                let (n, qid) = stream_args(message);
                let Some(index) = self.stream(qid) else {
                    return;
                };
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
                self.output.extend_from_slice(&result.rows.wire[from..to]);
                result.sent = upto;
                if upto < total {
                    push(&mut self.output, b"\xb1\x70\xa1\x88has_more\xc3");
                } else {
                    self.open.remove(index);
                    result_end(&mut self.output, self.in_transaction);
                }
            }
            // DISCARD {n: -1, qid}: the final SUCCESS.
            0x2F => {
                let (_, qid) = stream_args(message);
                if let Some(index) = self.stream(qid) {
                    self.open.remove(index);
                }
                result_end(&mut self.output, self.in_transaction);
            }
            _ => {}
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
        this.input.extend_from_slice(buf);
        if !this.handshake_done {
            if this.input.len() < 20 {
                return Poll::Ready(Ok(buf.len()));
            }
            let _ = this.input.split_to(20);
            this.handshake_done = true;
            this.output.extend_from_slice(&[0, 0, 4, 5]);
        }
        // Whole messages: chunks up to an empty one.
        while let Some(header) = this.input.get(..2) {
            let len = usize::from(u16::from_be_bytes([header[0], header[1]]));
            if this.input.len() < 2 + len {
                break;
            }
            let chunk = this.input.split_to(2 + len);
            if len == 0 {
                let message = std::mem::take(&mut this.message);
                this.answer(&message);
            } else {
                this.message.extend_from_slice(&chunk[2..]);
            }
        }
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
        result: Arc::new(std::sync::Mutex::new(Arc::new(Rows::new(1)))),
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
            println!(
                "in-memory RETURN 1 lock-step: driver CPU {:.2} µs/query ({queries} queries, {:.0} q/s)",
                cpu.as_secs_f64() * 1e6 / queries as f64,
                queries as f64 / wall.elapsed().as_secs_f64()
            );
        }
        // (a) An explicit transaction per query: BEGIN (sent with the RUN) + RUN/PULL + COMMIT.
        if wanted("explicit") {
            explicit(&mut session, 1000).await;
            let wall = Instant::now();
            let (cpu, ()) = cpu_of(explicit(&mut session, transactions)).await;
            println!(
                "in-memory explicit tx (BEGIN + RETURN 1 + COMMIT): driver CPU {:.2} µs/tx ({transactions} transactions, {:.0} tx/s)",
                cpu.as_secs_f64() * 1e6 / transactions as f64,
                transactions as f64 / wall.elapsed().as_secs_f64()
            );
        }
        // (b) A transaction function with one query, per call (the driver begins and commits).
        if wanted("managed") {
            managed(&mut session, 1000).await;
            let wall = Instant::now();
            let (cpu, ()) = cpu_of(managed(&mut session, transactions)).await;
            println!(
                "in-memory execute_write (RETURN 1): driver CPU {:.2} µs/call ({transactions} calls, {:.0} calls/s)",
                cpu.as_secs_f64() * 1e6 / transactions as f64,
                transactions as f64 / wall.elapsed().as_secs_f64()
            );
        }
        let stream = Arc::new(Rows::new(rows));
        *runtime.result.lock().expect("lock") = stream;
        if wanted("stream") {
            for _ in 0..3 {
                let cpu = thread_cpu().unwrap_or_default();
                let mut result = session.run(STREAM_QUERY).await.expect("run");
                let (mut count, mut checksum) = (0usize, 0i64);
                while let Some(record) = result.next().await {
                    checksum += record.expect("record").get_at::<i64>(0).expect("int");
                    count += 1;
                }
                let cpu = thread_cpu().unwrap_or_default() - cpu;
                check_rows(count, checksum, rows);
                println!(
                    "in-memory {rows}-row stream: driver CPU {:.3} µs/row ({} PULLs of 1000)",
                    cpu.as_secs_f64() * 1e6 / rows as f64,
                    rows.div_ceil(1000)
                );
            }
        }
        // (c) The same stream inside an explicit transaction (BEGIN and COMMIT included).
        if wanted("tx-stream") {
            for _ in 0..3 {
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
                check_rows(count, checksum, rows);
                println!(
                    "in-memory {rows}-row stream in explicit tx: driver CPU {:.3} µs/row ({} PULLs of 1000)",
                    cpu.as_secs_f64() * 1e6 / rows as f64,
                    rows.div_ceil(1000)
                );
            }
        }
        // (d) Two results of one transaction, read interleaved a record at a time: each is
        // pulled with its own qid while the other one's records wait in its inbox.
        if wanted("interleaved") {
            for _ in 0..3 {
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
                for (count, checksum) in sums {
                    check_rows(count, checksum, rows);
                }
                println!(
                    "in-memory 2 x {rows}-row streams of one tx, interleaved: driver CPU {:.3} µs/row ({} PULLs of 1000)",
                    cpu.as_secs_f64() * 1e6 / (2 * rows) as f64,
                    2 * rows.div_ceil(1000)
                );
            }
        }
    });
}
