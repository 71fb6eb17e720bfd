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
        pub(super) socket: AsyncFd<TcpStream>,
        /// A duplicate descriptor of the same socket registered for write readiness, present only
        /// while a write would block.
        pub(super) write_wait: Option<AsyncFd<TcpStream>>,
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

#[cfg(all(test, unix))]
mod tests {
    use std::future::Future;
    use std::io::{Read, Write};
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    use std::thread::{self, Thread};
    use std::time::{Duration, Instant};

    use futures_io::{AsyncRead, AsyncWrite};
    use quiver_driver::{ConnectTarget, Runtime};
    use std::net::TcpListener;
    use std::pin::Pin;

    use super::TokioStream;
    use crate::TokioRuntime;

    /// More than any loopback send + receive buffer holds, so that writing it must block.
    const BIG: usize = 32 << 20;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    /// A blocking listener on a free port and a connected `TokioStream` (inside `runtime`).
    fn pair(runtime: &tokio::runtime::Runtime) -> (TokioStream, std::net::TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let stream = runtime
            .block_on(TokioRuntime.connect(&ConnectTarget::new("127.0.0.1", port)))
            .expect("connect");
        let (peer, _) = listener.accept().expect("accept");
        (stream, peer)
    }

    async fn write_all(stream: &mut TokioStream, mut data: &[u8]) -> std::io::Result<()> {
        while !data.is_empty() {
            let n = std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_write(cx, data)).await?;
            data = data.get(n..).unwrap_or_default();
        }
        Ok(())
    }

    async fn read(stream: &mut TokioStream, buf: &mut [u8]) -> std::io::Result<usize> {
        std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_read(cx, buf)).await
    }

    fn current_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn the_socket_keeps_no_delay_and_keep_alive() {
        let runtime = current_thread();
        let (stream, _peer) = pair(&runtime);
        let socket = stream.0.socket.get_ref();
        assert!(socket.nodelay().expect("nodelay"));
        assert!(
            socket2::SockRef::from(socket)
                .keepalive()
                .expect("keepalive")
        );
    }

    #[test]
    fn a_write_that_blocks_waits_for_space_and_every_byte_arrives_in_order() {
        let runtime = current_thread();
        let (mut stream, mut peer) = pair(&runtime);
        let data = pattern(BIG);
        // The peer starts reading only after the writer has filled the socket buffers.
        let reader = thread::spawn(move || {
            thread::sleep(Duration::from_millis(300));
            let mut received = Vec::with_capacity(BIG);
            peer.read_to_end(&mut received).expect("read");
            received
        });
        runtime.block_on(async {
            write_all(&mut stream, &data).await.expect("write");
            assert!(
                stream.0.write_wait.is_none(),
                "the write registration is dropped once the write went through"
            );
            std::future::poll_fn(|cx| Pin::new(&mut stream).poll_close(cx))
                .await
                .expect("close");
        });
        let received = reader.join().expect("reader");
        assert_eq!(received.len(), data.len());
        assert!(received == data, "the bytes arrive unchanged and in order");
    }

    #[test]
    fn a_blocked_write_can_be_cancelled_and_the_stream_used_afterwards() {
        let runtime = current_thread();
        let (mut stream, mut peer) = pair(&runtime);
        let data = pattern(BIG);
        runtime.block_on(async {
            let cut =
                tokio::time::timeout(Duration::from_millis(200), write_all(&mut stream, &data));
            assert!(
                cut.await.is_err(),
                "nobody reads, so the write must still be pending"
            );
        });
        assert!(
            stream.0.write_wait.is_some(),
            "it was waiting for write readiness"
        );
        // Drain what was written, then check that the stream still writes and reads.
        let drain = thread::spawn(move || {
            let mut sink = vec![0u8; 1 << 20];
            let mut total = 0usize;
            loop {
                let n = peer.read(&mut sink).expect("read");
                total += n;
                if sink.get(..n).is_some_and(|b| b.ends_with(b"PING")) {
                    peer.write_all(b"PONG").expect("write");
                    return total;
                }
                assert!(n > 0, "the writer closed early");
            }
        });
        runtime.block_on(async {
            write_all(&mut stream, b"PING")
                .await
                .expect("write after cancel");
            let mut buf = [0u8; 16];
            let n = read(&mut stream, &mut buf).await.expect("read");
            assert_eq!(buf.get(..n), Some(&b"PONG"[..]));
        });
        assert!(drain.join().expect("drain") >= 4);
        drop(stream);
    }

    #[test]
    fn reads_wake_on_data_and_see_the_peer_close() {
        let runtime = current_thread();
        let (mut stream, mut peer) = pair(&runtime);
        let writer = thread::spawn(move || {
            thread::sleep(Duration::from_millis(100));
            peer.write_all(b"hello").expect("write");
            thread::sleep(Duration::from_millis(100));
            drop(peer);
        });
        runtime.block_on(async {
            let mut buf = [0u8; 64];
            let n = read(&mut stream, &mut buf).await.expect("read");
            assert_eq!(buf.get(..n), Some(&b"hello"[..]));
            assert_eq!(read(&mut stream, &mut buf).await.expect("read"), 0);
        });
        writer.join().expect("writer");
    }

    /// Unparks the polling thread.
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    /// Poll `future` to completion on this thread, which is *not* a tokio thread.
    fn block_on_foreign_thread<F: Future>(future: F) -> F::Output {
        let waker = Waker::from(Arc::new(Unpark(thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        let give_up = Instant::now() + Duration::from_secs(30);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            assert!(Instant::now() < give_up, "the future never completed");
            thread::park_timeout(Duration::from_secs(1));
        }
    }

    #[test]
    fn a_blocking_write_polled_outside_the_runtime_context_still_registers() {
        // A multi-threaded runtime drives its reactor on its own threads; the stream is polled
        // from a plain thread, where no runtime context is set.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let (mut stream, mut peer) = pair(&runtime);
        let data = pattern(BIG);
        let reader = thread::spawn(move || {
            thread::sleep(Duration::from_millis(300));
            let mut received = Vec::with_capacity(BIG);
            peer.read_to_end(&mut received).expect("read");
            received.len()
        });
        let outside = thread::spawn(move || {
            block_on_foreign_thread(async {
                write_all(&mut stream, &data).await?;
                std::future::poll_fn(|cx| Pin::new(&mut stream).poll_close(cx)).await
            })
        });
        outside.join().expect("no panic").expect("write");
        assert_eq!(reader.join().expect("reader"), BIG);
        drop(runtime);
    }
}
