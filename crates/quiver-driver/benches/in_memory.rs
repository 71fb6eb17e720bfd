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
//! Env: QUIVER_BENCH_QUERIES (default 200000), QUIVER_BENCH_ROWS (default 200000).

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use futures_io::{AsyncRead, AsyncWrite};
use quiver_bolt::chunk::write_chunked;
use quiver_driver::{AuthToken, Config, ConnectTarget, Driver, Runtime};
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
            rows: Arc::new(Rows::new(0)),
            sent: 0,
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

/// A Bolt 5.4 server in memory: answers each request as it is written.
struct Responder {
    result: Arc<std::sync::Mutex<Arc<Rows>>>,
    /// The open result and how many of its records were sent.
    rows: Arc<Rows>,
    sent: usize,
    handshake_done: bool,
    input: BytesMut,
    /// Answers not yet read, from `read` on.
    output: Vec<u8>,
    read: usize,
    message: Vec<u8>,
}

/// PULL's `n` (-1: all).
fn pull_n(message: &[u8]) -> i64 {
    let mut decoder = quiver_packstream::Decoder::new(bytes::Bytes::copy_from_slice(
        message.get(2..).unwrap_or_default(),
    ));
    let Ok(entries) = decoder.read_map_header() else {
        return -1;
    };
    for _ in 0..entries {
        match decoder.read_str() {
            Ok(key) if key.as_str() == "n" => return decoder.read_int().unwrap_or(-1),
            Ok(_) => {
                let _ = decoder.skip_value();
            }
            Err(_) => return -1,
        }
    }
    -1
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

impl Responder {
    fn answer(&mut self, message: &[u8]) {
        let tag = message.get(1).copied().unwrap_or(0);
        let out = &mut self.output;
        match tag {
            // HELLO
            0x01 => push(
                out,
                b"\xb1\x70\xa2\x86server\x8cNeo4j/5.26.0\x8dconnection_id\x86bolt-1",
            ),
            // LOGON, RESET, BEGIN, COMMIT-less acks
            0x6A | 0x0F | 0x11 => push(out, b"\xb1\x70\xa0"),
            // RUN: SUCCESS {fields: ["i", "s", "l"], t_first: 1}
            0x10 => {
                self.rows = self
                    .result
                    .lock()
                    .map(|rows| rows.clone())
                    .unwrap_or_else(|e| e.into_inner().clone());
                self.sent = 0;
                push(
                    out,
                    b"\xb1\x70\xa2\x86fields\x93\x81i\x81s\x81l\x87t_first\x01",
                )
            }
            // PULL {n}: up to n records, then SUCCESS {has_more: true} or the final SUCCESS
            // {type: "r", t_last: 0, db: "neo4j", bookmark: …}.
            0x3F => {
                let n = pull_n(message);
                let total = self.rows.ends.len();
                let upto = if n < 0 {
                    total
                } else {
                    (self.sent + n as usize).min(total)
                };
                let from = if self.sent == 0 {
                    0
                } else {
                    self.rows.ends[self.sent - 1]
                };
                let to = if upto == 0 {
                    0
                } else {
                    self.rows.ends[upto - 1]
                };
                out.extend_from_slice(&self.rows.wire[from..to]);
                self.sent = upto;
                if upto < total {
                    push(out, b"\xb1\x70\xa1\x88has_more\xc3");
                } else {
                    push(
                        out,
                        b"\xb1\x70\xa4\x84type\x81r\x86t_last\x00\x82db\x85neo4j\x88bookmark\x8bFB:kcwQ+a:1",
                    );
                }
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

fn main() {
    let queries = env("QUIVER_BENCH_QUERIES", 200_000);
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

        let stream = Arc::new(Rows::new(rows));
        *runtime.result.lock().expect("lock") = stream;
        for _ in 0..3 {
            let cpu = thread_cpu().unwrap_or_default();
            let mut result = session
                .run("UNWIND range(1, 200000) AS i RETURN i, 'name-' + toString(i) AS s, [i, i] AS l")
                .await
                .expect("run");
            let (mut count, mut checksum) = (0usize, 0i64);
            while let Some(record) = result.next().await {
                checksum += record.expect("record").get_at::<i64>(0).expect("int");
                count += 1;
            }
            let cpu = thread_cpu().unwrap_or_default() - cpu;
            assert_eq!(count, rows);
            assert_eq!(checksum, (rows as i64) * (rows as i64 + 1) / 2);
            println!(
                "in-memory {rows}-row stream: driver CPU {:.3} µs/row ({} PULLs of 1000)",
                cpu.as_secs_f64() * 1e6 / rows as f64,
                rows.div_ceil(1000)
            );
        }
    });
}
