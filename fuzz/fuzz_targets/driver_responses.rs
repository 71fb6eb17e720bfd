//! The whole driver (pool, sessions, transaction functions with retries, explicit transactions
//! with interleaved results, `execute_query`, summaries) against a server whose bytes are the
//! fuzz input, through an in-memory runtime with a simulated clock.
//!
//! Input: byte 0 picks the Bolt version, whether a valid handshake and HELLO answer come first
//! (to reach deeper states) and how many bytes each read returns; the rest is what the server
//! "sends" on every connection (replayed for each new one, at most 8 connections; then connecting
//! is refused). Checks: no panic, every call completes (a call that waits forever with nothing left
//! to wait for is a finding), memory bounded (`-rss_limit_mb`, a 64 KiB `max_message_size`).
#![no_main]

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};
use libfuzzer_sys::fuzz_target;
use quiver_driver::{AuthToken, Config, ConnectTarget, Driver, Query, RetryConfig, Runtime};

const VERSIONS: [(u8, u8); 8] = [(4, 4), (5, 0), (5, 1), (5, 4), (5, 6), (5, 7), (5, 8), (6, 0)];

#[derive(Clone)]
struct Memory {
    /// What the server sends on each connection.
    script: Arc<Vec<u8>>,
    /// Bytes per read (0: as many as asked for).
    read_size: usize,
    connections: Arc<AtomicUsize>,
    clock: Arc<Mutex<Instant>>,
}

struct MemoryStream {
    script: Arc<Vec<u8>>,
    at: usize,
    read_size: usize,
}

impl Runtime for Memory {
    type Stream = MemoryStream;

    fn connect(&self, _: &ConnectTarget) -> impl Future<Output = io::Result<MemoryStream>> + Send {
        let opened = self.connections.fetch_add(1, Ordering::Relaxed);
        let stream = MemoryStream {
            script: self.script.clone(),
            at: 0,
            read_size: self.read_size,
        };
        async move {
            if opened >= 8 {
                Err(io::ErrorKind::ConnectionRefused.into())
            } else {
                Ok(stream)
            }
        }
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        let clock = self.clock.clone();
        async move {
            let mut now = clock.lock().unwrap();
            *now = (*now).max(deadline);
        }
    }

    fn now(&self) -> Instant {
        *self.clock.lock().unwrap()
    }
}

impl AsyncRead for MemoryStream {
    fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let left = &self.script[self.at.min(self.script.len())..];
        let mut n = buf.len().min(left.len());
        if self.read_size > 0 {
            n = n.min(self.read_size);
        }
        buf[..n].copy_from_slice(&left[..n]);
        self.at += n;
        // Once the script is spent the server hangs up (EOF).
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for MemoryStream {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Runs `future` to completion; nothing in this runtime ever needs a wake-up from outside.
fn complete<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..100_000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("a driver call never completed although every read and sleep was ready");
}

/// SUCCESS {server: "Neo4j/5.26.0", connection_id: "bolt-1"} as a chunked message.
fn hello_success() -> Vec<u8> {
    let mut body = vec![0xB1, 0x70, 0xA2, 0x86];
    body.extend_from_slice(b"server");
    body.push(0x8C);
    body.extend_from_slice(b"Neo4j/5.26.0");
    body.push(0x8D);
    body.extend_from_slice(b"connection_id");
    body.push(0x86);
    body.extend_from_slice(b"bolt-1");
    let mut message = (body.len() as u16).to_be_bytes().to_vec();
    message.extend_from_slice(&body);
    message.extend_from_slice(&[0, 0]);
    message
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, server)) = data.split_first() else {
        return;
    };
    let (major, minor) = VERSIONS[usize::from(first & 7) % VERSIONS.len()];
    let mut script = Vec::new();
    if first & 0x08 != 0 {
        script.extend_from_slice(&[0, 0, minor, major]);
        script.extend_from_slice(&hello_success());
        if (major, minor) >= (5, 1) {
            script.extend_from_slice(&[0, 3, 0xB1, 0x70, 0xA0, 0, 0]); // LOGON's SUCCESS {}
        }
    }
    script.extend_from_slice(server);
    let runtime = Memory {
        script: Arc::new(script),
        read_size: usize::from(first >> 4) * 4,
        connections: Arc::new(AtomicUsize::new(0)),
        clock: Arc::new(Mutex::new(Instant::now())),
    };
    let config = Config::default()
        .with_max_message_size(64 * 1024)
        .with_fetch_size(2)
        .with_read_timeout(Some(Duration::from_secs(5)))
        .with_retry(RetryConfig {
            max_retry_time: Duration::from_secs(2),
            initial_delay: Duration::from_millis(100),
            ..RetryConfig::default()
        });
    let driver = Driver::with_runtime(runtime, "bolt://fuzz:7687", AuthToken::basic("u", "p"), config)
        .expect("a valid configuration");
    complete(async {
        let _ = driver.execute_query("RETURN 1 AS n").await;
        let mut session = driver.session();
        if let Ok(mut result) = session.run(Query::new("UNWIND range(1, 5) AS i RETURN i")).await {
            while let Some(Ok(_)) = result.next().await {}
            let _ = result.consume().await;
        }
        let _ = session
            .execute_write(|tx| async move { tx.run("CREATE ()").await?.consume().await })
            .await;
        if let Ok(tx) = session.begin_transaction().await {
            if let (Ok(mut a), Ok(mut b)) = (tx.run("RETURN 1").await, tx.run("RETURN 2").await) {
                let _ = a.next().await;
                let _ = b.next().await;
                let _ = a.consume().await;
            }
            let _ = tx.commit().await;
        }
        let _ = session.close().await;
        driver.close().await;
    });
});
