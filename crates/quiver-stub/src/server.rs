//! The stub server: a listener on plain threads and `std::net`, one [`Runner`] per connection.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::runner::{Outcome, Output, Runner};
use crate::script::{ParseError, Program, Script};

/// Why a stub could not start, or did not see its script through.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StubError {
    /// The script does not parse.
    #[error("the script does not parse: {0}")]
    Parse(#[from] ParseError),
    /// The address could not be bound (in use? a typo?).
    #[error("could not listen on {address}: {source}")]
    Listen {
        /// The address asked for.
        address: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// [`StubServer::finish`] was called and no client had connected.
    #[error("no client connected to the stub at {address}: nothing of the script ran")]
    NoConnection {
        /// The stub's address.
        address: SocketAddr,
    },
    /// At least one connection did not run the script to completion: each one's story.
    #[error("the script did not complete: {}", .failures.join("; "))]
    Failed {
        /// One message per failed connection: `connection 1: expected line 12: …, got …`.
        failures: Vec<String>,
        /// Every connection's outcome, in the order they connected.
        outcomes: Vec<Outcome>,
    },
}

/// What a finished stub saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubReport {
    /// Every connection's outcome, in the order they connected (all
    /// [`Completed`](Outcome::Completed) in a report returned by `Ok`).
    pub outcomes: Vec<Outcome>,
}

impl StubReport {
    /// How many connections ran the script.
    pub fn connections(&self) -> usize {
        self.outcomes.len()
    }
}

struct Slot {
    /// To wake the connection's blocked read when the stub finishes.
    stream: Option<TcpStream>,
    outcome: Option<Outcome>,
    /// Waiting for the client at a point where the script may end.
    idle_at_end: bool,
}

struct Shared {
    slots: Mutex<Vec<Slot>>,
    changed: Condvar,
    stopping: AtomicBool,
}

impl Shared {
    fn slots(&self) -> MutexGuard<'_, Vec<Slot>> {
        // A connection thread that panicked leaves consistent data behind: keep going.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A scripted Bolt server on a loopback port, serving from plain threads (any async runtime,
/// or none, can talk to it). See the [crate documentation](crate) for the script language.
///
/// Dropping it stops it without a verdict; call [`finish`](Self::finish) to learn whether the
/// script ran to completion.
pub struct StubServer {
    address: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
    finish_timeout: Duration,
}

impl std::fmt::Debug for StubServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StubServer")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl StubServer {
    /// Parses `script` and serves it on an ephemeral port of 127.0.0.1.
    pub fn start(script: &str) -> Result<StubServer, StubError> {
        StubServer::serve(Script::parse(script)?, "127.0.0.1:0")
    }

    /// Serves a parsed script on `address` (`"127.0.0.1:0"` for an ephemeral port).
    pub fn serve(
        script: Script,
        address: impl ToSocketAddrs + std::fmt::Debug,
    ) -> Result<StubServer, StubError> {
        let listener = TcpListener::bind(&address).map_err(|source| StubError::Listen {
            address: format!("{address:?}"),
            source,
        })?;
        StubServer::serve_listener(script, listener)
    }

    /// Serves a parsed script on a listener bound beforehand: for a script that must contain
    /// its own address (a router listing itself in its routing table).
    pub fn serve_listener(script: Script, listener: TcpListener) -> Result<StubServer, StubError> {
        let local = listener.local_addr().map_err(|source| StubError::Listen {
            address: "the given listener".to_owned(),
            source,
        })?;
        let shared = Arc::new(Shared {
            slots: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            stopping: AtomicBool::new(false),
        });
        let program = Arc::clone(&script.program);
        let acceptor_shared = Arc::clone(&shared);
        let acceptor = std::thread::Builder::new()
            .name(format!("quiver-stub {local}"))
            .spawn(move || accept_loop(listener, program, acceptor_shared))
            .map_err(|source| StubError::Listen {
                address: local.to_string(),
                source,
            })?;
        Ok(StubServer {
            address: local,
            shared,
            acceptor: Some(acceptor),
            finish_timeout: Duration::from_secs(10),
        })
    }

    /// How long [`finish`](Self::finish) waits for connections still in the middle of the
    /// script (default 10 s). Connections waiting where the script may end do not make it wait.
    pub fn with_finish_timeout(mut self, timeout: Duration) -> Self {
        self.finish_timeout = timeout;
        self
    }

    /// The address the stub listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `bolt://127.0.0.1:PORT`: the URI of a direct driver for this stub.
    pub fn bolt_uri(&self) -> String {
        format!("bolt://{}", self.address)
    }

    /// Waits until a client has connected and every connection has ended (the client hung up,
    /// the script reached its end or `<EXIT>`, or a mismatch), or `timeout` passes; returns
    /// whether that happened. For a stub serving one connection (no `ALLOW RESTART`).
    pub fn wait_until_done(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut slots = self.shared.slots();
        loop {
            if !slots.is_empty() && slots.iter().all(|s| s.outcome.is_some()) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            slots = self
                .shared
                .changed
                .wait_timeout(slots, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Stops the stub and says whether every connection ran the script to completion.
    ///
    /// Waits (up to the [finish timeout](Self::with_finish_timeout)) for connections in the
    /// middle of the script; a connection whose client still holds it open at a point where
    /// the script may end counts as completed (a driver's pooled connection).
    pub fn finish(mut self) -> Result<StubReport, StubError> {
        let deadline = Instant::now() + self.finish_timeout;
        let mut slots = self.shared.slots();
        loop {
            let busy = slots.iter().any(|s| s.outcome.is_none() && !s.idle_at_end);
            let now = Instant::now();
            if !busy || now >= deadline {
                break;
            }
            slots = self
                .shared
                .changed
                .wait_timeout(slots, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        drop(slots);
        self.stop();
        let outcomes: Vec<Outcome> = self
            .shared
            .slots()
            .iter()
            .map(|s| {
                s.outcome.clone().unwrap_or_else(|| {
                    Outcome::Incomplete("the connection did not finish".to_owned())
                })
            })
            .collect();
        if outcomes.is_empty() {
            return Err(StubError::NoConnection {
                address: self.address,
            });
        }
        let failures: Vec<String> = outcomes
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match o {
                Outcome::Completed => None,
                Outcome::Mismatch(m) | Outcome::Incomplete(m) | Outcome::Broken(m) => {
                    Some(format!("connection {}: {m}", i + 1))
                }
            })
            .collect();
        if failures.is_empty() {
            Ok(StubReport { outcomes })
        } else {
            Err(StubError::Failed { failures, outcomes })
        }
    }

    /// Stops accepting, wakes every connection and waits for the threads.
    fn stop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        for slot in self.shared.slots().iter() {
            if let Some(stream) = &slot.stream {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        // Wake the blocked accept.
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        if self.acceptor.is_some() {
            self.stop();
        }
    }
}

fn accept_loop(listener: TcpListener, program: Arc<Program>, shared: Arc<Shared>) {
    let mut workers = Vec::new();
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => {
                if shared.stopping.load(Ordering::SeqCst) {
                    break;
                }
                // Out of file descriptors or similar: back off instead of spinning.
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let index = {
            let mut slots = shared.slots();
            slots.push(Slot {
                stream: stream.try_clone().ok(),
                outcome: None,
                idle_at_end: false,
            });
            slots.len() - 1
        };
        shared.changed.notify_all();
        if program.concurrent {
            let program = Arc::clone(&program);
            let shared = Arc::clone(&shared);
            workers.push(std::thread::spawn(move || {
                serve_connection(stream, index, &program, &shared)
            }));
        } else {
            serve_connection(stream, index, &program, &shared);
            if !program.restart {
                break;
            }
        }
    }
    for worker in workers {
        let _ = worker.join();
    }
}

fn serve_connection(mut stream: TcpStream, index: usize, program: &Arc<Program>, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let mut runner = Runner::new(Arc::clone(program), Instant::now());
    if let Some(delay) = program.handshake_delay {
        std::thread::sleep(delay);
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut write_failed = None;
        for output in runner.take_outputs() {
            match output {
                Output::Bytes(bytes) => {
                    if let Err(e) = stream.write_all(&bytes) {
                        write_failed = Some(e);
                        break;
                    }
                }
                Output::Sleep(d) => std::thread::sleep(d),
                Output::AssertSilence(d, line, text) => {
                    if client_spoke_within(&stream, d) {
                        runner.client_spoke_early(line, &text);
                        break;
                    }
                }
            }
        }
        if let Some(e) = write_failed {
            runner.end_of_client(&format!("writing to the client failed ({e})"));
        }
        if runner.wants_close() {
            break;
        }
        {
            let mut slots = shared.slots();
            slots[index].idle_at_end = runner.can_end();
        }
        shared.changed.notify_all();
        let read = stream.read(&mut buf);
        {
            let mut slots = shared.slots();
            slots[index].idle_at_end = false;
        }
        let stopping = shared.stopping.load(Ordering::SeqCst);
        match read {
            Ok(0) if stopping => runner.end_of_client("the stub was finished"),
            Ok(0) => runner.handle_eof(Instant::now()),
            Ok(n) => runner.handle_input(&buf[..n], Instant::now()),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) if stopping => runner.end_of_client("the stub was finished"),
            Err(e) => runner.end_of_client(&format!("reading from the client failed ({e})")),
        }
    }
    // What is left (the answers before an `<EXIT>` or the script's end).
    for output in runner.take_outputs() {
        if let Output::Bytes(bytes) = output {
            let _ = stream.write_all(&bytes);
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    let outcome = runner
        .outcome()
        .cloned()
        .unwrap_or_else(|| Outcome::Incomplete("the connection ended early".to_owned()));
    {
        let mut slots = shared.slots();
        slots[index].outcome = Some(outcome);
        slots[index].stream = None;
    }
    shared.changed.notify_all();
}

/// Whether the client sends anything within `wait` (`<ASSERT ORDER>`); what it sends stays
/// unread.
fn client_spoke_within(stream: &TcpStream, wait: Duration) -> bool {
    if wait.is_zero() || stream.set_read_timeout(Some(wait)).is_err() {
        return false;
    }
    let spoke = matches!(stream.peek(&mut [0u8; 1]), Ok(n) if n > 0);
    let _ = stream.set_read_timeout(None);
    spoke
}
