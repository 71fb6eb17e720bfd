//! Quiver, a Neo4j driver for Rust, on the [tokio] runtime.
//!
//! This crate is the [`Runtime`] of `quiver-driver` for tokio: TCP
//! connections (with `TCP_NODELAY` and keep-alive) and timers. Everything else is the driver
//! itself, re-exported here with the runtime filled in, so that code written against
//! `quiver_tokio` moves to another runtime by changing the crate name.
//!
//! On Unix the socket is registered with tokio's reactor for read readiness only and written with
//! plain non-blocking sends ([`TokioStream`]): tokio's own `TcpStream` also listens for write
//! readiness, and the kernel's "send buffer has room again" events then woke the runtime once
//! more for about every other lock-step query.
//!
//! # Multi-thread runtimes: run the work in a task
//!
//! On a multi-thread runtime (what `#[tokio::main]` builds), a future driven by `block_on` — the
//! body of `#[tokio::main]` itself — runs on the thread that called `block_on`, while the
//! socket's readiness is picked up by a worker thread's I/O driver. Every reply then wakes that
//! thread from a worker: about two more context switches per round trip (3.2 voluntary switches
//! per lock-step `RETURN 1` against 1.6 on a current-thread runtime), and ~1.8× the client CPU
//! per query (median of per-round ratios, 10 alternated rounds against Neo4j 5.26 on 2 cores;
//! neo4rs shows the same). The same loop in a [`tokio::spawn`]ed task is polled by the worker
//! that saw the reply, and costs what it costs on a current-thread runtime (1.02×, 1.6 switches).
//!
//! The driver cannot avoid this: it spawns nothing and crosses no thread itself — where the
//! caller's future is polled is the caller's choice. So for a busy query loop on a multi-thread
//! runtime, spawn it:
//!
//! ```no_run
//! # async fn example() -> Result<(), quiver_tokio::Error> {
//! use quiver_tokio::{AuthToken, Driver};
//!
//! let driver = Driver::new("bolt://127.0.0.1:7687", AuthToken::basic("neo4j", "secret"))?;
//! let work = tokio::spawn(async move {
//!     let mut session = driver.session();
//!     for _ in 0..1000 {
//!         session.run("RETURN 1").await?.consume().await?;
//!     }
//!     Ok::<_, quiver_tokio::Error>(())
//! });
//! work.await.expect("the task panicked")?;
//! # Ok(())
//! # }
//! ```
//!
//! or use a current-thread runtime (`#[tokio::main(flavor = "current_thread")]`). Measured with
//! `quiver-peer tokio-mt-spawned` of `crates/quiver-bench` beside its `tokio-mt` and `tokio-ct`.
#![warn(missing_docs)]

mod stream;

use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::time::Instant;

use tokio::net::TcpStream;

pub use stream::TokioStream;

pub use quiver_driver::*;

/// The driver on tokio.
pub type Driver = quiver_driver::Driver<TokioRuntime>;
/// A session on tokio.
pub type Session = quiver_driver::Session<TokioRuntime>;
/// A transaction on tokio.
pub type Transaction = quiver_driver::Transaction<TokioRuntime>;
/// A result stream on tokio.
pub type RecordStream<'a> = quiver_driver::RecordStream<'a, TokioRuntime>;

/// The tokio [`Runtime`]: TCP streams on tokio's reactor ([`TokioStream`]) and tokio timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioRuntime;

impl Runtime for TokioRuntime {
    type Stream = TokioStream;

    fn connect(
        &self,
        target: &ConnectTarget,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        let target = target.clone();
        async move {
            let connect = TcpStream::connect((target.host.as_str(), target.port));
            let stream = match target.deadline {
                Some(deadline) => tokio::time::timeout_at(deadline.into(), connect)
                    .await
                    .map_err(|_| {
                        io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("connecting to {}:{} timed out", target.host, target.port),
                        )
                    })??,
                None => connect.await?,
            };
            stream.set_nodelay(target.no_delay)?;
            if target.keep_alive {
                socket2::SockRef::from(&stream).set_keepalive(true)?;
            }
            stream::connected(stream)
        }
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        tokio::time::sleep_until(deadline.into())
    }

    /// tokio's resolver (the system's, on a blocking-pool thread).
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<IpAddr>>> + Send {
        let host = host.to_owned();
        async move {
            let addresses = tokio::net::lookup_host((host.as_str(), port)).await?;
            Ok(addresses.map(|address| address.ip()).collect())
        }
    }
}
