//! Quiver, a Neo4j driver for Rust, on the [async-std](https://docs.rs/async-std) runtime.
//!
//! **async-std is discontinued** upstream ([RUSTSEC-2025-0052]): its authors point users to
//! [smol](https://docs.rs/smol), and so do we — use `quiver-smol` for new code. This adapter stays
//! for applications still on async-std; nothing else in Quiver depends on it, and `cargo deny`
//! users need an advisory ignore for RUSTSEC-2025-0052 to use it. Both run on the same `async-io`
//! reactor, so moving from this crate to `quiver-smol` changes no behaviour.
//!
//! This crate is the [`Runtime`] of `quiver-driver` for async-std: its TCP
//! streams (with `TCP_NODELAY` and keep-alive) and timers. Everything else is the driver itself,
//! re-exported here with the runtime filled in, so code written against `quiver_tokio` moves here
//! by changing the crate name.
//!
//! ```no_run
//! # fn main() -> Result<(), quiver_async_std::Error> {
//! async_std::task::block_on(async {
//!     let driver = quiver_async_std::Driver::new(
//!         "bolt://127.0.0.1:7687",
//!         quiver_async_std::AuthToken::basic("neo4j", "password"),
//!     )?;
//!     let result = driver.execute_query("RETURN 1 AS one").await?;
//!     assert_eq!(result.records[0].get::<i64>("one")?, 1);
//!     Ok(())
//! })
//! # }
//! ```
//!
//! [RUSTSEC-2025-0052]: https://rustsec.org/advisories/RUSTSEC-2025-0052.html
#![warn(missing_docs)]

use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::time::Instant;

use async_std::net::TcpStream;

pub use quiver_driver::*;

/// The driver on async-std.
pub type Driver = quiver_driver::Driver<AsyncStdRuntime>;
/// A session on async-std.
pub type Session = quiver_driver::Session<AsyncStdRuntime>;
/// A transaction on async-std.
pub type Transaction = quiver_driver::Transaction<AsyncStdRuntime>;
/// A result stream on async-std.
pub type RecordStream<'a> = quiver_driver::RecordStream<'a, AsyncStdRuntime>;

/// The async-std [`Runtime`]: async-std TCP streams and timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStdRuntime;

impl Runtime for AsyncStdRuntime {
    type Stream = TcpStream;

    fn connect(
        &self,
        target: &ConnectTarget,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        let target = target.clone();
        async move {
            // async-std resolves the name and tries each address in turn.
            let connect = TcpStream::connect((target.host.as_str(), target.port));
            let stream = match target.deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    async_std::future::timeout(left, connect)
                        .await
                        .map_err(|_| {
                            io::Error::new(
                                io::ErrorKind::TimedOut,
                                format!("connecting to {}:{} timed out", target.host, target.port),
                            )
                        })??
                }
                None => connect.await?,
            };
            stream.set_nodelay(target.no_delay)?;
            if target.keep_alive {
                socket2::SockRef::from(&stream).set_keepalive(true)?;
            }
            Ok(stream)
        }
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        async_std::task::sleep(deadline.saturating_duration_since(Instant::now()))
    }

    /// async-std's resolver (the system's, on its blocking pool).
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<IpAddr>>> + Send {
        use async_std::net::ToSocketAddrs;
        let host = host.to_owned();
        async move {
            let addresses = (host.as_str(), port).to_socket_addrs().await?;
            Ok(addresses.map(|address| address.ip()).collect())
        }
    }
}
