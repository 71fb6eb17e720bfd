//! The TCP stream of the tokio adapter.
//!
//! # Why not `tokio::net::TcpStream`
//!
//! tokio registers a TCP socket with the reactor once, edge-triggered, for reading *and* writing.
//! The kernel then reports write readiness each time the peer's ACKs free send-buffer space, and
//! every such event wakes the thread parked in `epoll_wait`, even when no task waits to write.
//! Bolt is lock-step: the driver writes a small request, which always fits the send buffer, and
//! waits to read. On Linux about every other `RETURN 1` query woke its thread once more for
//! nothing (strace: 1.2 `epoll_wait` per query instead of 1), and a wake-up is a context switch.
//!
//! So on Unix the socket is registered for **reading only** ([`AsyncFd`] with
//! [`Interest::READABLE`]), and writes are plain non-blocking `send`s. Only when a write would
//! block (a large request filling the send buffer) does the stream register a duplicate of the
//! socket's descriptor for writability, wait on it, and drop that registration again as soon as a
//! write goes through. Elsewhere (Windows) it is tokio's `TcpStream` as before.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

pub(crate) use imp::connected;

/// A connected TCP stream on tokio: the [`Stream`](quiver_driver::Runtime::Stream) of
/// [`TokioRuntime`](crate::TokioRuntime).
///
/// On Unix it is registered with tokio's reactor for read readiness only, so that the kernel's
/// write-space notifications do not wake the runtime between lock-step requests (see the crate
/// docs); it waits for write readiness only while a write would block. Elsewhere it wraps
/// `tokio::net::TcpStream`.
#[derive(Debug)]
pub struct TokioStream(imp::Inner);

#[cfg(unix)]
mod imp {
    use std::io::{self, IoSlice, Read, Write};
    use std::net::{Shutdown, TcpStream};
    use std::task::{Context, Poll, ready};

    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;
    use tokio::runtime::Handle;

    use super::TokioStream;

    #[derive(Debug)]
    pub(crate) struct Inner {
        /// The socket, non-blocking, registered for read readiness only.
        socket: AsyncFd<TcpStream>,
        /// A duplicate descriptor of the same socket registered for write readiness, present only
        /// while a write would block.
        write_wait: Option<AsyncFd<TcpStream>>,
        /// The runtime the socket is registered with: creating `write_wait` needs its reactor,
        /// and `poll_write` may run outside the runtime's context (on another executor's thread).
        runtime: Handle,
    }

    /// Take over a connected tokio stream (options already set) and re-register it for reading
    /// only. Must run inside the tokio runtime.
    pub(crate) fn connected(stream: tokio::net::TcpStream) -> io::Result<TokioStream> {
        // `into_std` deregisters the socket and leaves it in non-blocking mode.
        let socket = stream.into_std()?;
        Ok(TokioStream(Inner {
            socket: register(socket, Interest::READABLE)?,
            write_wait: None,
            runtime: Handle::current(),
        }))
    }

    /// Register `socket` with the current tokio reactor for `interest` only.
    ///
    /// tokio 1.53.3 deprecated this safe constructor in favour of an `unsafe` one whose contract
    /// is that the descriptor stays open and the same while registered: its safe form cannot
    /// guarantee that for every `AsRawFd` type. An owned `std::net::TcpStream` guarantees it (its
    /// descriptor lives and dies with it, and `AsyncFd` owns it), so the safe form is sound here;
    /// it keeps the workspace free of `unsafe` and works with every tokio 1.x.
    #[allow(deprecated)]
    fn register(socket: TcpStream, interest: Interest) -> io::Result<AsyncFd<TcpStream>> {
        AsyncFd::with_interest(socket, interest)
    }

    impl Inner {
        pub(super) fn poll_read(
            &mut self,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            loop {
                let mut ready = ready!(self.socket.poll_read_ready(cx))?;
                match ready.try_io(|socket| socket.get_ref().read(buf)) {
                    Ok(Ok(n)) => {
                        // With an edge-triggered reactor, a read that did not fill the buffer has
                        // drained the socket: forget the readiness now rather than learn it from
                        // one more `recv` failing with EAGAIN (tokio's own TcpStream does the
                        // same). Data arriving meanwhile raises a new edge, which is not lost.
                        if 0 < n && n < buf.len() {
                            ready.clear_ready();
                        }
                        return Poll::Ready(Ok(n));
                    }
                    Ok(Err(e)) => return Poll::Ready(Err(e)),
                    // Would block: readiness cleared, poll again to register the waker.
                    Err(_would_block) => {}
                }
            }
        }

        pub(super) fn poll_write_with(
            &mut self,
            cx: &mut Context<'_>,
            write: impl Fn(&TcpStream) -> io::Result<usize>,
        ) -> Poll<io::Result<usize>> {
            let write_wait = match &mut self.write_wait {
                Some(write_wait) => write_wait,
                None => match write(self.socket.get_ref()) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        let duplicate = self.socket.get_ref().try_clone()?;
                        let _context = self.runtime.enter();
                        self.write_wait
                            .insert(register(duplicate, Interest::WRITABLE)?)
                    }
                    done => return Poll::Ready(done),
                },
            };
            let done = loop {
                // A fresh registration starts "not ready"; epoll reports the socket's current
                // writability right after registering, so this waits at most for that event.
                let mut ready = ready!(write_wait.poll_write_ready(cx))?;
                if let Ok(done) = ready.try_io(|socket| write(socket.get_ref())) {
                    break done;
                }
                // Would block: readiness cleared, poll again to register the waker.
            };
            // Space again: stop listening for write readiness, whose events would otherwise keep
            // waking the runtime after every ACK.
            self.write_wait = None;
            Poll::Ready(done)
        }

        pub(super) fn poll_write(
            &mut self,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.poll_write_with(cx, |mut socket| socket.write(buf))
        }

        pub(super) fn poll_write_vectored(
            &mut self,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            self.poll_write_with(cx, |mut socket| socket.write_vectored(bufs))
        }

        pub(super) fn poll_flush(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            // TCP has no user-space buffer to flush (TCP_NODELAY sends at once).
            Poll::Ready(Ok(()))
        }

        pub(super) fn poll_close(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.write_wait = None;
            Poll::Ready(match self.socket.get_ref().shutdown(Shutdown::Write) {
                // Already closed by the peer: nothing left to shut down.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
                result => result,
            })
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use std::io::{self, IoSlice};
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use futures_io::{AsyncRead, AsyncWrite};
    use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

    use super::TokioStream;

    #[derive(Debug)]
    pub(crate) struct Inner(Compat<tokio::net::TcpStream>);

    pub(crate) fn connected(stream: tokio::net::TcpStream) -> io::Result<TokioStream> {
        Ok(TokioStream(Inner(stream.compat())))
    }

    impl Inner {
        pub(super) fn poll_read(
            &mut self,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.0).poll_read(cx, buf)
        }
        pub(super) fn poll_write(
            &mut self,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.0).poll_write(cx, buf)
        }
        pub(super) fn poll_write_vectored(
            &mut self,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
        }
        pub(super) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_flush(cx)
        }
        pub(super) fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_close(cx)
        }
    }
}

impl AsyncRead for TokioStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().0.poll_read(cx, buf)
    }
}

impl AsyncWrite for TokioStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().0.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().0.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_close(cx)
    }
}
