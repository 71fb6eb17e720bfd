//! The runtime trait: the only thing an adapter crate implements.
//!
//! The driver core never spawns tasks and never touches a socket or a timer directly. Everything it
//! needs from an async runtime (or from plain threads) is here: open a TCP stream, wait until an
//! instant, and read the clock. Adapters (`quiver-tokio`, `quiver-smol`, `quiver-async-std`,
//! `quiver-blocking`) implement it in well under a hundred lines.

use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};

/// Where and how to open one TCP connection.
///
/// Passed to [`Runtime::connect`]. It is `#[non_exhaustive]` so that new options can be added
/// without breaking adapters: adapters read the fields they understand.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectTarget {
    /// Host name or IP address literal (IPv6 without brackets). Name resolution is the
    /// adapter's job.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Give up (with [`io::ErrorKind::TimedOut`]) if the connection is not established by then,
    /// name resolution included.
    pub deadline: Option<Instant>,
    /// Enable TCP keep-alive on the socket (`SO_KEEPALIVE`).
    pub keep_alive: bool,
    /// Disable Nagle's algorithm (`TCP_NODELAY`). Always `true` today: Bolt is request/response.
    pub no_delay: bool,
}

impl ConnectTarget {
    /// A target with keep-alive and no-delay on and no deadline.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        ConnectTarget {
            host: host.into(),
            port,
            deadline: None,
            keep_alive: true,
            no_delay: true,
        }
    }
}

/// What the driver needs from an async runtime: connect, sleep, clock (and, optionally, name
/// resolution). No spawning.
///
/// # Contract
///
/// * [`connect`](Runtime::connect) resolves the host name, tries its addresses, applies the TCP
///   options of [`ConnectTarget`] and fails with [`io::ErrorKind::TimedOut`] at the deadline.
/// * [`sleep_until`](Runtime::sleep_until) returns a future that is pending until `deadline` and
///   then wakes its task. The driver polls it *alongside* other futures (a socket read, a wait for a
///   free pooled connection) and drops it when the other one finishes first, so it must not block
///   the thread inside `poll`. Creating it is cheap: the driver only creates one when an
///   operation with a deadline actually has to wait.
/// * Every read or write on [`Stream`](Runtime::Stream) that the driver awaits is raced against
///   such a sleep when a deadline applies. Before the I/O the driver calls
///   [`set_io_deadline`](Runtime::set_io_deadline) with that deadline, so that a runtime whose
///   stream blocks inside `poll` (a blocking adapter over `std::net::TcpStream`) can set socket
///   timeouts instead and return [`io::ErrorKind::TimedOut`] / [`io::ErrorKind::WouldBlock`].
/// * [`now`](Runtime::now) is the clock used for every deadline; override it to simulate time.
///
/// Futures returned by the driver are `Send` when the runtime's futures and stream are, so a
/// driver call can be spawned on a multi-threaded executor.
pub trait Runtime: Clone + Send + Sync + 'static {
    /// A connected TCP stream (TLS, when configured, is layered on top by the driver).
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Open a TCP connection as described by `target`.
    fn connect(
        &self,
        target: &ConnectTarget,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// A future that completes at `deadline` (immediately if it has passed).
    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send;

    /// Resolve `host` (a name or an IP literal) to its IP addresses, for `port`.
    ///
    /// A routing driver resolves its initial router this way (after the custom resolver, if
    /// any) and asks each address in turn for a routing table, so a DNS name that stands for
    /// several cluster members finds one that answers. The adapters ask the system resolver.
    /// The default returns an IP literal as it is and [`io::ErrorKind::Unsupported`] for a
    /// name: the driver then connects by name and [`connect`](Runtime::connect) resolves it
    /// (taking the first address that accepts the connection).
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<IpAddr>>> + Send {
        let _ = port;
        let parsed = host.parse::<IpAddr>();
        async move {
            parsed.map(|ip| vec![ip]).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::Unsupported,
                    "this runtime does not resolve names itself",
                )
            })
        }
    }

    /// The current instant. Defaults to [`Instant::now`].
    fn now(&self) -> Instant {
        Instant::now()
    }

    /// Called before the driver awaits I/O on `stream` with the deadline it enforces (or `None`).
    ///
    /// Async runtimes leave the default no-op: the driver races the I/O against
    /// [`sleep_until`](Runtime::sleep_until). A runtime whose stream blocks the thread sets the
    /// socket's read/write timeouts from it.
    fn set_io_deadline(
        &self,
        stream: &mut Self::Stream,
        deadline: Option<Instant>,
    ) -> io::Result<()> {
        let _ = (stream, deadline);
        Ok(())
    }
}
