//! The blocking [`Runtime`]: `std::net::TcpStream` behind the futures-io traits, and sleeps.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};
use quiver_driver::{ConnectTarget, Runtime};

use crate::executor;

/// The runtime of this crate: blocking sockets and the calling thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockingRuntime;

/// A connected socket whose futures-io calls block and then return `Ready` — except that a read
/// with nothing to read first returns `Pending` once (waking itself) before it blocks.
///
/// That one yield is what makes TLS work: futures-rustls reads "until it would block" during the
/// handshake, even when rustls has its own Finished message queued to send. A read that blocked
/// right away would wait for the server, which waits for that Finished: a deadlock until the
/// server's handshake timeout. Given one `Pending`, futures-rustls writes what it has queued
/// first. Writing resets the yield, so the read after a write yields again.
#[derive(Debug)]
pub struct BlockingStream {
    socket: TcpStream,
    /// The socket is in non-blocking mode (for the read attempt before a yield).
    nonblocking: bool,
    /// The last read returned `Pending` and nothing was written since: the next read blocks.
    yielded: bool,
}

impl BlockingStream {
    fn set_nonblocking(&mut self, nonblocking: bool) -> io::Result<()> {
        if self.nonblocking != nonblocking {
            self.socket.set_nonblocking(nonblocking)?;
            self.nonblocking = nonblocking;
        }
        Ok(())
    }
}

impl Runtime for BlockingRuntime {
    type Stream = BlockingStream;

    async fn connect(&self, target: &ConnectTarget) -> io::Result<BlockingStream> {
        connect(target)
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        Sleep(deadline)
    }

    fn set_io_deadline(
        &self,
        stream: &mut BlockingStream,
        deadline: Option<Instant>,
    ) -> io::Result<()> {
        // A zero timeout means "none" to the OS: a deadline that has passed gets the shortest one.
        let timeout = deadline.map(|d| {
            d.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        });
        stream.socket.set_read_timeout(timeout)?;
        stream.socket.set_write_timeout(timeout)
    }
}

/// Resolve (blocking, like `std`), then connect to each address in turn until one accepts.
fn connect(target: &ConnectTarget) -> io::Result<BlockingStream> {
    let addresses: Vec<SocketAddr> = (target.host.as_str(), target.port)
        .to_socket_addrs()?
        .collect();
    let mut last_error = io::Error::new(
        io::ErrorKind::NotFound,
        format!("{} resolved to no address", target.host),
    );
    for address in addresses {
        let attempt = match target.deadline {
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => TcpStream::connect_timeout(&address, left),
                _ => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connecting to {address} timed out"),
                )),
            },
            None => TcpStream::connect(address),
        };
        match attempt {
            Ok(stream) => {
                stream.set_nodelay(target.no_delay)?;
                if target.keep_alive {
                    socket2::SockRef::from(&stream).set_keepalive(true)?;
                }
                // Bounds the TLS handshake, which runs before the driver sets its own deadlines.
                if let Some(left) = target
                    .deadline
                    .map(|d| d.saturating_duration_since(Instant::now()))
                {
                    let left = Some(left.max(Duration::from_millis(1)));
                    stream.set_read_timeout(left)?;
                    stream.set_write_timeout(left)?;
                }
                return Ok(BlockingStream {
                    socket: stream,
                    nonblocking: false,
                    yielded: false,
                });
            }
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

/// Pending until its deadline. Under this crate's executor it makes the park time out; polled by
/// anything else (this crate never does that) it sleeps the thread, which is still correct.
#[derive(Debug)]
pub(crate) struct Sleep(pub(crate) Instant);

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let now = Instant::now();
        if now >= self.0 {
            return Poll::Ready(());
        }
        if executor::wake_at(self.0) {
            return Poll::Pending;
        }
        std::thread::sleep(self.0 - now);
        Poll::Ready(())
    }
}

/// Retry a call that a signal interrupted, as `std::io::Read::read_exact` does.
fn retry<T>(mut call: impl FnMut() -> io::Result<T>) -> Poll<io::Result<T>> {
    loop {
        match call() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return Poll::Ready(other),
        }
    }
}

impl AsyncRead for BlockingStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.yielded {
            this.yielded = false;
            this.set_nonblocking(false)?;
            return retry(|| this.socket.read(buf));
        }
        this.set_nonblocking(true)?;
        match retry(|| this.socket.read(buf)) {
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                this.yielded = true;
                // Poll again at once: the caller gets one chance to write before the read blocks.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            ready => ready,
        }
    }
}

impl AsyncWrite for BlockingStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.yielded = false;
        this.set_nonblocking(false)?;
        retry(|| this.socket.write(buf))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        retry(|| this.socket.flush())
    }
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.socket.shutdown(std::net::Shutdown::Write))
    }
}
