//! Quiver, a Neo4j driver for Rust, on the [smol](https://docs.rs/smol) runtime.
//!
//! This crate is the [`Runtime`] of `quiver-driver` for smol: TCP
//! connections from `async-io`'s reactor (with `TCP_NODELAY` and keep-alive) and `async-io`
//! timers. Everything else is the driver itself, re-exported here with the runtime filled in, so
//! code written against `quiver_tokio` moves to smol by changing the crate name.
//!
//! The crate needs no executor of its own: run its futures on `smol::block_on`, a
//! `smol::Executor`, `async-executor` or any other executor; `async-io` drives the sockets and
//! timers from its own reactor thread.
//!
//! ```no_run
//! # fn main() -> Result<(), quiver_smol::Error> {
//! smol::block_on(async {
//!     let driver = quiver_smol::Driver::new(
//!         "bolt://127.0.0.1:7687",
//!         quiver_smol::AuthToken::basic("neo4j", "password"),
//!     )?;
//!     let result = driver.execute_query("RETURN 1 AS one").await?;
//!     assert_eq!(result.records[0].get::<i64>("one")?, 1);
//!     Ok(())
//! })
//! # }
//! ```
#![warn(missing_docs)]

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Instant;

use async_io::{Async, Timer};
use futures_lite::FutureExt;

pub use quiver_driver::*;

/// The driver on smol.
pub type Driver = quiver_driver::Driver<SmolRuntime>;
/// A session on smol.
pub type Session = quiver_driver::Session<SmolRuntime>;
/// A transaction on smol.
pub type Transaction = quiver_driver::Transaction<SmolRuntime>;
/// A result stream on smol.
pub type RecordStream<'a> = quiver_driver::RecordStream<'a, SmolRuntime>;

/// The smol [`Runtime`]: `async-io` TCP streams and timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolRuntime;

impl Runtime for SmolRuntime {
    type Stream = Async<TcpStream>;

    fn connect(
        &self,
        target: &ConnectTarget,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        let target = target.clone();
        let connect = connect(target.clone());
        async move {
            match target.deadline {
                Some(deadline) => {
                    let timeout = async move {
                        Timer::at(deadline).await;
                        Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("connecting to {}:{} timed out", target.host, target.port),
                        ))
                    };
                    connect.or(timeout).await
                }
                None => connect.await,
            }
        }
    }

    async fn sleep_until(&self, deadline: Instant) {
        Timer::at(deadline).await;
    }

    /// The system resolver, off the reactor thread (`async-net`).
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<IpAddr>>> + Send {
        let host = host.to_owned();
        async move {
            let addresses = async_net::resolve((host.as_str(), port)).await?;
            Ok(addresses.into_iter().map(|address| address.ip()).collect())
        }
    }
}

/// Resolve, then try each address in turn; the last error wins if none accepts.
async fn connect(target: ConnectTarget) -> io::Result<Async<TcpStream>> {
    let addresses = match target.host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, target.port)],
        Err(_) => async_net::resolve((target.host.as_str(), target.port)).await?,
    };
    let mut last_error = None;
    for address in addresses {
        match Async::<TcpStream>::connect(address).await {
            Ok(stream) => {
                stream.get_ref().set_nodelay(target.no_delay)?;
                if target.keep_alive {
                    socket2::SockRef::from(stream.get_ref()).set_keepalive(true)?;
                }
                return Ok(stream);
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} resolved to no address", target.host),
        )
    }))
}
