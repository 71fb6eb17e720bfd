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
#![warn(missing_docs)]

mod stream;

use std::future::Future;
use std::io;
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
}
