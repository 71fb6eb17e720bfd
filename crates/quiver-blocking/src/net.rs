//! The blocking [`Runtime`]: `std::net::TcpStream` behind the futures-io traits, and sleeps.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};
use quiver_driver::{ConnectTarget, Runtime};

use crate::executor;

/// The runtime of this crate: blocking sockets and the calling thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockingRuntime;

/// A connected socket whose futures-io calls block and then return `Ready` — except that each read
/// first returns `Pending` once (waking itself) before it blocks.
///
/// That one yield is what makes TLS work: futures-rustls reads "until it would block" during the
/// handshake, even when rustls has its own Finished message queued to send. A read that blocked
/// right away would wait for the server, which waits for that Finished: a deadlock until the
/// server's handshake timeout. Given one `Pending`, futures-rustls writes what it has queued
/// first. The yield costs no system call: the stream does not first look for data with a
/// non-blocking read (toggling `O_NONBLOCK` twice and failing with `EAGAIN` cost three system
/// calls per query for nothing in a lock-step client, where the answer has never arrived yet).
#[derive(Debug)]
pub struct BlockingStream {
    socket: TcpStream,
    /// The last read returned `Pending` and nothing was written since: the next read blocks.
    yielded: bool,
    /// The deadline of the driver's current I/O ([`Runtime::set_io_deadline`]), applied to the
    /// socket's read or write timeout when a read or write happens.
    deadline: Option<Instant>,
    /// The read timeout on the socket now (`None`: none).
    read_timeout: Option<Duration>,
    /// The write timeout on the socket now (`None`: none).
    write_timeout: Option<Duration>,
}

/// Which of the socket's timeouts.
#[derive(Clone, Copy)]
enum Direction {
    Read,
    Write,
}

impl BlockingStream {
    fn new(socket: TcpStream, deadline: Option<Instant>) -> Self {
        BlockingStream {
            socket,
            yielded: false,
            deadline,
            read_timeout: None,
            write_timeout: None,
        }
    }

    /// Make the next blocking call in `direction` return by the deadline (a little later at
    /// worst, never earlier).
    ///
    /// Socket timeouts are relative (per call) while deadlines are absolute, so a deadline a
    /// fixed time after each message (the server's receive-timeout hint, a read timeout) gives
    /// each call nearly the same timeout. Setting it costs a system call per I/O; the timeout on
    /// the socket is therefore kept while it ends no earlier than the deadline and at most 0.1% of
    /// the time left later, and set 0.05% long when it changes, so that the small jitter between
    /// queries does not change it every time. Reads and writes keep their own timeouts: a lock-step
    /// client writes without a deadline and reads with one.
    fn apply_deadline(&mut self, direction: Direction) -> io::Result<()> {
        // A zero timeout means "none" to the OS: a deadline that has passed gets the shortest one.
        let left = self.deadline.map(|d| {
            d.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        });
        let current = match direction {
            Direction::Read => &mut self.read_timeout,
            Direction::Write => &mut self.write_timeout,
        };
        let keep = match (*current, left) {
            (None, None) => true,
            (Some(current), Some(left)) => left <= current && current <= left + left / 1000,
            _ => false,
        };
        if keep {
            return Ok(());
        }
        let timeout = left.map(|left| left + left / 2000);
        // Forget the old value first: if the call fails, the next I/O sets it again.
        *current = Some(Duration::ZERO);
        match direction {
            Direction::Read => self.socket.set_read_timeout(timeout)?,
            Direction::Write => self.socket.set_write_timeout(timeout)?,
        }
        *current = timeout;
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

    /// The system resolver, on the calling thread (this runtime blocks anyway).
    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<IpAddr>> {
        Ok((host, port)
            .to_socket_addrs()?
            .map(|address| address.ip())
            .collect())
    }

    fn set_io_deadline(
        &self,
        stream: &mut BlockingStream,
        deadline: Option<Instant>,
    ) -> io::Result<()> {
        // Applied by the read or write that follows, to that direction's timeout only.
        stream.deadline = deadline;
        Ok(())
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
                // The connect deadline bounds the TLS handshake, which runs before the driver
                // sets its own deadlines.
                return Ok(BlockingStream::new(stream, target.deadline));
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
            this.apply_deadline(Direction::Read)?;
            return retry(|| this.socket.read(buf));
        }
        this.yielded = true;
        // Poll again at once: the caller gets one chance to write before the read blocks.
        cx.waker().wake_by_ref();
        Poll::Pending
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
        this.apply_deadline(Direction::Write)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn pair() -> (BlockingStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = connect(&ConnectTarget::new("127.0.0.1", port)).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, server)
    }

    #[test]
    fn a_read_yields_once_then_blocks_and_a_write_resets_the_yield() {
        let (mut client, mut server) = pair();
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0u8; 8];
        // Nothing to read: Pending, and the task is woken to poll again at once.
        assert!(
            Pin::new(&mut client)
                .poll_read(&mut cx, &mut buf)
                .is_pending()
        );
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        // A write in between: the next read yields again instead of blocking.
        assert!(matches!(
            Pin::new(&mut client).poll_write(&mut cx, b"ping"),
            Poll::Ready(Ok(4))
        ));
        assert!(
            Pin::new(&mut client)
                .poll_read(&mut cx, &mut buf)
                .is_pending()
        );
        assert_eq!(counter.0.load(Ordering::SeqCst), 2);
        // The next read blocks until the peer answers.
        let peer = std::thread::spawn(move || {
            let mut got = [0u8; 4];
            server.read_exact(&mut got).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            server.write_all(b"pong").unwrap();
            got
        });
        assert!(matches!(
            Pin::new(&mut client).poll_read(&mut cx, &mut buf),
            Poll::Ready(Ok(4))
        ));
        assert_eq!(&buf[..4], b"pong");
        assert_eq!(&peer.join().unwrap(), b"ping");
    }

    #[test]
    fn a_read_deadline_ends_a_blocked_read_with_a_timeout_error() {
        let (mut client, _server) = pair();
        let waker = Waker::from(Arc::new(CountingWaker(AtomicUsize::new(0))));
        let mut cx = Context::from_waker(&waker);
        let started = Instant::now();
        BlockingRuntime
            .set_io_deadline(&mut client, Some(started + Duration::from_millis(50)))
            .unwrap();
        let mut buf = [0u8; 8];
        assert!(
            Pin::new(&mut client)
                .poll_read(&mut cx, &mut buf)
                .is_pending()
        );
        match Pin::new(&mut client).poll_read(&mut cx, &mut buf) {
            Poll::Ready(Err(e)) => assert!(
                matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ),
                "{e}"
            ),
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(started.elapsed() >= Duration::from_millis(40));
    }

    #[test]
    fn a_read_yields_once_even_with_data_waiting_then_returns_it() {
        let (mut client, mut server) = pair();
        server.write_all(b"ready").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0u8; 8];
        assert!(
            Pin::new(&mut client)
                .poll_read(&mut cx, &mut buf)
                .is_pending()
        );
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(matches!(
            Pin::new(&mut client).poll_read(&mut cx, &mut buf),
            Poll::Ready(Ok(5))
        ));
        assert_eq!(&buf[..5], b"ready");
    }

    #[test]
    fn the_socket_timeout_is_kept_while_the_deadline_keeps_its_distance() {
        let (mut client, _server) = pair();
        let timeouts = |c: &BlockingStream| {
            (
                c.socket.read_timeout().unwrap(),
                c.socket.write_timeout().unwrap(),
            )
        };
        assert_eq!(timeouts(&client), (None, None));
        // The deadline reaches the socket with the next read (or write) only.
        let read_with = |c: &mut BlockingStream, d| {
            BlockingRuntime.set_io_deadline(c, d).unwrap();
            c.apply_deadline(Direction::Read).unwrap();
            timeouts(c).0
        };

        let first = read_with(&mut client, Some(Instant::now() + Duration::from_secs(120)));
        let first = first.unwrap();
        // Never shorter than the time left, at most 0.1% longer.
        assert!(first >= Duration::from_millis(119_900) && first <= Duration::from_millis(120_120));
        // The write timeout is the writes' business.
        assert_eq!(timeouts(&client).1, None);
        // The same distance a little later (query jitter): the socket is left alone.
        std::thread::sleep(Duration::from_millis(2));
        let again = read_with(&mut client, Some(Instant::now() + Duration::from_secs(120)));
        assert_eq!(again, Some(first));
        // Nearer (or much further): set again, never ending before the deadline.
        let nearer = read_with(&mut client, Some(Instant::now() + Duration::from_secs(30)));
        let nearer = nearer.unwrap();
        assert!(nearer >= Duration::from_millis(29_900) && nearer <= Duration::from_millis(30_030));
        let further = read_with(&mut client, Some(Instant::now() + Duration::from_secs(300)));
        assert!(further.unwrap() >= Duration::from_millis(299_000));
        // A deadline that has passed gets the shortest timeout (1 ms, which the kernel rounds up
        // to its tick); none removes it.
        let passed = read_with(&mut client, Some(Instant::now()));
        assert!(passed.unwrap() <= Duration::from_millis(20));
        assert_eq!(read_with(&mut client, None), None);
        // A write applies the deadline to the write timeout.
        BlockingRuntime
            .set_io_deadline(&mut client, Some(Instant::now() + Duration::from_secs(10)))
            .unwrap();
        let waker = Waker::from(Arc::new(CountingWaker(AtomicUsize::new(0))));
        assert!(matches!(
            Pin::new(&mut client).poll_write(&mut Context::from_waker(&waker), b"x"),
            Poll::Ready(Ok(1))
        ));
        let (read, write) = timeouts(&client);
        assert_eq!(read, None);
        assert!(write.is_some_and(|w| w >= Duration::from_millis(9_900)));
    }

    #[test]
    fn connecting_to_a_closed_port_fails_and_a_past_deadline_times_out() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(connect(&ConnectTarget::new("127.0.0.1", port)).is_err());
        let mut target = ConnectTarget::new("127.0.0.1", port);
        target.deadline = Some(Instant::now());
        assert_eq!(
            connect(&target).unwrap_err().kind(),
            io::ErrorKind::TimedOut
        );
    }
}
