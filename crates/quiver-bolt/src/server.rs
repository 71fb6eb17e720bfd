//! The server side of one Bolt connection, as a state machine without I/O: for stub servers,
//! simulated clusters, proxies and tests that need a server they control.
//!
//! [`ServerConnection`] is driven like the client's [`Connection`](crate::Connection): feed the
//! client's bytes with [`handle_input`](ServerConnection::handle_input) (split anywhere), then
//! drain [`poll_transmit`](ServerConnection::poll_transmit) (bytes to write),
//! [`poll_event`](ServerConnection::poll_event) (until `None`) and
//! [`poll_timeout`](ServerConnection::poll_timeout). The application answers each
//! [`ServerEvent::Request`] with [`success`](ServerConnection::success),
//! [`record`](ServerConnection::record), [`failure`](ServerConnection::failure) or
//! [`ignored`](ServerConnection::ignored), oldest request first, and drains again.
//!
//! It does the handshake (classic and manifest v1, with the versions of
//! [`ServerConfig::versions`]), reassembles messages, decodes every request of Bolt 4.4–6.0 into
//! a [`ClientMessage`] (the same type the client role encodes) while keeping the message as sent
//! ([`RawMessage`]), encodes the responses and tracks the server state of the Bolt
//! specification ([`ServerState`]).
//!
//! # Two modes
//! * [`ServerMode::Strict`] (the default) behaves like Neo4j 5.26 on its own: requests reach the
//!   application one at a time, in order, and only those a real server would process
//!   ([`ServerEvent::Request`]). What Neo4j answers without running anything the core answers
//!   itself and reports as [`ServerEvent::Handled`]: IGNORED after a failure or behind a RESET,
//!   a FAILURE for a malformed request, a FAILURE and a closed connection for a request the
//!   state does not allow (COMMIT outside a transaction, RUN while streaming …), a silent close
//!   for an unknown message. Each request's [`Verdict`] says which.
//! * [`ServerMode::Manual`] is for scripted servers: every request is delivered as soon as it is
//!   decoded, malformed ones included, and the application answers whatever it likes (or sends
//!   raw bytes). The state is still tracked and each request still carries the [`Verdict`] a real
//!   server would give it — computed assuming the requests before it succeed — but nothing is
//!   enforced.
//!
//! What "Neo4j behaves like" means was measured against Neo4j 5.26 (see
//! [`Verdict`]); where Neo4j 4.4 differs, 5.26 wins.
//!
//! # An in-memory client and server
//! ```
//! use std::time::Instant;
//! use quiver_bolt::server::{ServerConfig, ServerConnection, ServerEvent};
//! use quiver_bolt::value::{Map, Value};
//! use quiver_bolt::*;
//!
//! /// Moves bytes both ways until nothing moves; the server answers what it is asked.
//! fn pump(client: &mut Connection, server: &mut ServerConnection) -> Result<(), BoltError> {
//!     let now = Instant::now();
//!     loop {
//!         let mut moved = false;
//!         while let Some(bytes) = client.poll_transmit() {
//!             server.handle_input(&bytes, now)?;
//!             moved = true;
//!         }
//!         while let Some(event) = server.poll_event() {
//!             let ServerEvent::Request(request) = event else { continue };
//!             match request.message? {
//!                 ClientMessage::Hello(hello) => {
//!                     assert!(hello.user_agent.starts_with("quiver/"));
//!                     let mut info = Map::new();
//!                     info.insert("server", "Neo4j/5.26.0");
//!                     server.success(info)?;
//!                 }
//!                 ClientMessage::Run(run) => {
//!                     assert_eq!(run.query, "RETURN 1 AS x");
//!                     let mut fields = Map::new();
//!                     fields.insert("fields", Value::List(vec![Value::from("x")]));
//!                     server.success(fields)?;
//!                 }
//!                 ClientMessage::Pull { .. } => {
//!                     server.record(&[Value::Integer(1)])?;
//!                     server.success(Map::new())?;
//!                 }
//!                 _ => server.success(Map::new())?, // LOGON
//!             }
//!         }
//!         while let Some(bytes) = server.poll_transmit() {
//!             client.handle_input(&bytes, now)?;
//!             moved = true;
//!         }
//!         if !moved {
//!             return Ok(());
//!         }
//!     }
//! }
//!
//! let now = Instant::now();
//! let mut client = Connection::new(ConnectionConfig::default(), now);
//! let mut server = ServerConnection::new(ServerConfig::default(), now);
//! client.send(Request::Hello(Hello::new(AuthToken::basic("neo4j", "secret"))))?;
//! pump(&mut client, &mut server)?;
//! assert_eq!(client.version(), Some(Version::V6_0)); // the newest both speak
//!
//! client.send(Request::run("RETURN 1 AS x", Map::new()))?;
//! client.send(Request::pull_all())?;
//! pump(&mut client, &mut server)?;
//! let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
//! assert!(events.iter().any(|e| matches!(e, Event::Record { fields, .. } if fields == &[Value::Integer(1)])));
//! assert_eq!(client.server_state(), ServerState::Ready);
//! assert_eq!(server.state(), ServerState::Ready);
//! # Ok::<(), BoltError>(())
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use quiver_packstream::Decoder;

use crate::chunk::{Dechunker, write_chunked};
use crate::connection::{RequestId, ServerState};
use crate::error::BoltError;
use crate::message::{self, RequestFault, tag};
use crate::metadata::{self, Failure, ServerInfo};
use crate::request::ClientMessage;
use crate::value::{Map, Value, ValueContext};
use crate::version::{self, Version, VersionRange};

/// How much the core decides on its own; see the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerMode {
    /// Behave like Neo4j: answer IGNORED / FAILURE / close by itself where Neo4j does, deliver
    /// requests one at a time and only those the application must answer.
    #[default]
    Strict,
    /// Deliver every request at once, with its [`Verdict`]; enforce nothing.
    Manual,
}

/// Configuration of a [`ServerConnection`]. `Clone`; build with [`Default`] and the `with_*`
/// setters.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The versions the server offers (default 6.0, 5.8–5.0, 4.4). The handshake picks the
    /// newest version both sides have; with the manifest, these ranges are what the server lists.
    pub versions: Vec<VersionRange>,
    /// Whether to accept the manifest v1 negotiation when the client proposes it (default true;
    /// Neo4j 5.26 does).
    pub manifest: bool,
    /// The largest message accepted from the client, in bytes (default 64 MiB); a larger one
    /// closes the connection with [`BoltError::ClientMessageTooLarge`].
    pub max_message_size: usize,
    /// Strict (default) or manual.
    pub mode: ServerMode,
    /// Close the connection ([`BoltError::ClientTimeout`]) when the client sends nothing for
    /// this long while the server waits for it (the handshake, or the next request with none
    /// unanswered). Default: no limit.
    pub recv_timeout: Option<Duration>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            versions: vec![
                VersionRange::exact(6, 0),
                VersionRange::new(5, 8, 0),
                VersionRange::exact(4, 4),
            ],
            manifest: true,
            max_message_size: 64 * 1024 * 1024,
            mode: ServerMode::Strict,
            recv_timeout: None,
        }
    }
}

impl ServerConfig {
    /// Sets [`versions`](Self::versions).
    pub fn with_versions(mut self, versions: Vec<VersionRange>) -> Self {
        self.versions = versions;
        self
    }
    /// Sets [`manifest`](Self::manifest).
    pub fn with_manifest(mut self, manifest: bool) -> Self {
        self.manifest = manifest;
        self
    }
    /// Sets [`max_message_size`](Self::max_message_size).
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }
    /// Sets [`mode`](Self::mode).
    pub fn with_mode(mut self, mode: ServerMode) -> Self {
        self.mode = mode;
        self
    }
    /// Sets [`recv_timeout`](Self::recv_timeout).
    pub fn with_recv_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.recv_timeout = timeout;
        self
    }
}

/// A message exactly as the client sent it: the structure tag and fields as plain PackStream
/// values (structures inside stay [`Structure`](quiver_packstream::Structure)s, nothing is
/// interpreted). Checked on arrival to be one well-formed PackStream structure, so reading the
/// fields cannot fail; they are decoded when asked for.
#[derive(Clone, PartialEq)]
pub struct RawMessage {
    tag: u8,
    len: usize,
    /// The whole message, structure header included.
    message: Bytes,
}

impl RawMessage {
    /// Checks that `message` is one well-formed PackStream structure (with nothing or anything
    /// after its fields: trailing bytes are the typed decoding's business).
    fn parse(message: Bytes) -> Result<RawMessage, BoltError> {
        let mut decoder = Decoder::new(message.clone());
        let bad = |what: String| BoltError::ClientProtocol { reason: what };
        let (tag, len) = decoder
            .read_struct_header()
            .map_err(|e| bad(format!("a message is not a PackStream structure: {e}")))?;
        for i in 0..len {
            decoder
                .skip_value()
                .map_err(|e| bad(format!("field {i} of message {tag:#04X}: {e}")))?;
        }
        Ok(RawMessage { tag, len, message })
    }

    /// The message's tag byte, e.g. `0x10` for RUN.
    pub fn tag(&self) -> u8 {
        self.tag
    }

    /// The request's name (`"RUN"` …) if the tag is one of Bolt's requests (of any version).
    pub fn name(&self) -> Option<&'static str> {
        message::request_name(self.tag)
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the message has no fields (RESET, COMMIT …).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The fields as plain PackStream values.
    pub fn fields(&self) -> Vec<quiver_packstream::Value> {
        let mut decoder = Decoder::new(self.fields_bytes());
        // Checked on arrival: the skip and the decode accept the same input.
        (0..self.len)
            .map(|_| {
                decoder
                    .decode_value()
                    .unwrap_or(quiver_packstream::Value::Null)
            })
            .collect()
    }

    /// The message's PackStream bytes (unchunked, structure header included).
    pub fn as_bytes(&self) -> &Bytes {
        &self.message
    }

    /// The bytes after the structure header (marker and tag: 2 bytes).
    fn fields_bytes(&self) -> Bytes {
        self.message.slice(2.min(self.message.len())..)
    }
}

/// The tag byte of the Bolt request called `name` (`"RUN"` → `0x10`), for any version: the
/// inverse of [`RawMessage::name`]. For tools that write requests the typed API cannot express
/// (a stub's replaying client, fuzz seeds).
///
/// ```
/// assert_eq!(quiver_bolt::server::request_tag("RUN"), Some(0x10));
/// assert_eq!(quiver_bolt::server::request_tag("SUCCESS"), None); // a response, not a request
/// ```
pub fn request_tag(name: &str) -> Option<u8> {
    (0..=u8::MAX).find(|tag| message::request_name(*tag) == Some(name))
}

/// The tag byte of the Bolt response called `name` (`"SUCCESS"`, `"RECORD"`, `"IGNORED"`,
/// `"FAILURE"`), for any version: the counterpart of [`request_tag`], for tools that read
/// responses the typed API does not (a stub's replaying client waiting for summaries).
///
/// ```
/// assert_eq!(quiver_bolt::server::response_tag("SUCCESS"), Some(0x70));
/// assert_eq!(quiver_bolt::server::response_tag("RUN"), None); // a request, not a response
/// ```
pub fn response_tag(name: &str) -> Option<u8> {
    Some(match name {
        "SUCCESS" => tag::SUCCESS,
        "RECORD" => tag::RECORD,
        "IGNORED" => tag::IGNORED,
        "FAILURE" => tag::FAILURE,
        _ => return None,
    })
}

impl std::fmt::Debug for RawMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_tuple(self.name().unwrap_or("?"));
        for field in self.fields() {
            s.field(&field);
        }
        s.finish()
    }
}

/// What a real server (Neo4j 5.26) does with a request in the state it arrives in. In
/// [`ServerMode::Strict`] the core does it; in [`ServerMode::Manual`] it is information.
///
/// Measured against Neo4j 5.26:
/// * a request the state allows is processed ([`Accept`](Self::Accept));
/// * after a FAILURE (state FAILED) or behind a RESET (INTERRUPTED), RUN, PULL, DISCARD,
///   COMMIT, ROLLBACK, ROUTE and TELEMETRY are IGNORED ([`Ignore`](Self::Ignore)); HELLO, LOGON,
///   BEGIN and (when FAILED) LOGOFF are refused as below;
/// * a request the state does not allow (COMMIT outside a transaction, RUN while an
///   auto-commit result streams, RESET before authentication …) is answered
///   `FAILURE {code: "Neo.ClientError.Request.Invalid", message: "Message of type
///   CommitMessage cannot be handled by a session in the READY state."}` and the connection is
///   closed ([`Refuse`](Self::Refuse) with `close`);
/// * a PULL or DISCARD naming a stream that is not open: `Neo.ClientError.Request.InvalidFormat`
///   "No such statement: N", and the server is FAILED;
/// * a malformed request — the wrong number of fields (`InvalidFormat`) or a field of the wrong
///   type or value (`Invalid`) — is answered with a FAILURE and changes nothing else;
/// * a message that is no request of the negotiated version (an unknown tag, LOGON on 4.4,
///   TELEMETRY before 5.4) closes the connection without an answer ([`Close`](Self::Close)), as
///   does GOODBYE.
///
/// On Bolt 5.7+ the core's FAILUREs carry the GQL fields Neo4j 5.26 sends with them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Verdict {
    /// Processed: the application answers it.
    Accept,
    /// Answered IGNORED.
    Ignore,
    /// Answered with this FAILURE; then the connection is closed if `close`.
    Refuse {
        /// The failure a real server sends.
        failure: Box<Failure>,
        /// Whether the server then closes the connection.
        close: bool,
    },
    /// The connection is closed without an answer.
    Close,
}

/// One request from the client.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingRequest {
    /// The request's id (they count up from 0 per connection).
    pub id: RequestId,
    /// The request, typed; an error ([`BoltError::InvalidClientRequest`]) if the message is not
    /// a valid request of the negotiated version.
    pub message: Result<ClientMessage, BoltError>,
    /// The message as sent.
    pub raw: RawMessage,
    /// What a real server does with it here.
    pub verdict: Verdict,
}

/// What the server connection has to tell. Drain with [`ServerConnection::poll_event`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// The handshake is done.
    Negotiated {
        /// The version both sides speak.
        version: Version,
        /// Whether the manifest v1 negotiation was used.
        manifest: bool,
    },
    /// A request the application must answer (in manual mode: every request except GOODBYE,
    /// which needs no answer).
    Request(Box<IncomingRequest>),
    /// Strict mode: a request the core answered (or closed the connection for) by itself, as its
    /// [`Verdict`] says. For logs and tests; nothing to answer.
    Handled(Box<IncomingRequest>),
    /// The connection is closed (GOODBYE, the client hung up, a strict-mode close, or
    /// [`ServerConnection::close`]): write what [`ServerConnection::poll_transmit`] still has,
    /// then close the socket.
    Closed,
    /// The connection broke because of the client (garbage, a bad handshake, an oversize
    /// message, silence past the timeout); also returned by the call that found it. Write what
    /// is left to write and close the socket.
    Defunct(BoltError),
}

/// What an unanswered request is, for the state change its answer causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hello,
    Logon,
    Logoff,
    Reset,
    Run,
    Begin,
    Commit,
    Rollback,
    /// PULL / DISCARD of the stream `qid` as sent (−1: the last one); `all`: `n = -1`.
    Stream {
        qid: i64,
        pull: bool,
        all: bool,
    },
    Route,
    Telemetry,
    Goodbye,
    /// Malformed or unknown.
    Other,
}

impl Kind {
    fn of(message: &ClientMessage) -> Kind {
        match message {
            ClientMessage::Hello(_) => Kind::Hello,
            ClientMessage::Logon(_) => Kind::Logon,
            ClientMessage::Logoff => Kind::Logoff,
            ClientMessage::Reset => Kind::Reset,
            ClientMessage::Run(_) => Kind::Run,
            ClientMessage::Begin(_) => Kind::Begin,
            ClientMessage::Commit => Kind::Commit,
            ClientMessage::Rollback => Kind::Rollback,
            ClientMessage::Pull { n, qid } | ClientMessage::Discard { n, qid } => Kind::Stream {
                qid: *qid,
                pull: matches!(message, ClientMessage::Pull { .. }),
                all: *n == -1,
            },
            ClientMessage::Route(_) => Kind::Route,
            ClientMessage::Telemetry(_) => Kind::Telemetry,
            ClientMessage::Goodbye => Kind::Goodbye,
        }
    }

    /// Neo4j's class name for the request, as in its error messages (`RunMessage`).
    fn class_name(self) -> &'static str {
        match self {
            Kind::Hello => "HelloMessage",
            Kind::Logon => "LogonMessage",
            Kind::Logoff => "LogoffMessage",
            Kind::Goodbye => "GoodbyeMessage",
            Kind::Reset => "ResetMessage",
            Kind::Run => "RunMessage",
            Kind::Begin => "BeginMessage",
            Kind::Commit => "CommitMessage",
            Kind::Rollback => "RollbackMessage",
            Kind::Stream { pull: false, .. } => "DiscardMessage",
            Kind::Stream { pull: true, .. } => "PullMessage",
            Kind::Route => "RouteMessage",
            Kind::Telemetry => "TelemetryMessage",
            Kind::Other => "Message",
        }
    }
}

#[derive(Debug, Clone)]
struct Pending {
    id: RequestId,
    kind: Kind,
    /// The verdict of a malformed or unknown request (it does not depend on the state).
    fault: Option<Verdict>,
}

/// The states of the Bolt server state specification, as Neo4j 5 keeps them: a base state and
/// the FAILED / INTERRUPTED conditions on top.
#[derive(Debug, Clone, PartialEq, Eq)]
enum St {
    Negotiation,
    Authentication,
    Ready,
    /// An auto-commit result is open (its `qid`: 0 unless RUN's SUCCESS said otherwise).
    Streaming {
        qid: i64,
    },
    /// In a transaction: the open results' qids, the last RUN's qid (what −1 means), the next
    /// qid Neo4j would hand out.
    Tx {
        open: Vec<i64>,
        last: i64,
        next: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Machine {
    st: St,
    failed: bool,
    /// RESETs received and not yet answered: the server is INTERRUPTED.
    interrupts: usize,
    /// A failed HELLO/LOGON/RESET: a real server closes (tracked in manual mode).
    closed: bool,
}

/// How a refusal changes the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// A malformed request: nothing changes.
    Malformed,
    /// No such statement: FAILED.
    Fails,
    /// Not allowed in this state: closed.
    Closes,
}

const GQL_UNEXPECTED: (&str, &str) = (
    "50N42",
    "error: general processing exception - unexpected error. Unexpected error has occurred. \
     See debug log for details.",
);

fn refusal_failure(code: &str, message: String, version: Version) -> Box<Failure> {
    let gql = version >= Version::V5_7;
    Box::new(Failure {
        code: code.to_owned(),
        message: Some(message),
        gql_status: gql.then(|| GQL_UNEXPECTED.0.to_owned()),
        description: gql.then(|| GQL_UNEXPECTED.1.to_owned()),
        diagnostic_record: Map::new(),
        classification: None,
        cause: None,
    })
}

impl Machine {
    fn new() -> Self {
        Machine {
            st: St::Negotiation,
            failed: false,
            interrupts: 0,
            closed: false,
        }
    }

    fn public(&self) -> ServerState {
        match &self.st {
            _ if self.closed => ServerState::Defunct,
            St::Negotiation => ServerState::Negotiation,
            St::Authentication => ServerState::Authentication,
            _ if self.interrupts > 0 => ServerState::Interrupted,
            _ if self.failed => ServerState::Failed,
            St::Ready => ServerState::Ready,
            St::Streaming { .. } => ServerState::Streaming,
            St::Tx { open, .. } if open.is_empty() => ServerState::TxReady,
            St::Tx { .. } => ServerState::TxStreaming,
        }
    }

    /// Neo4j's name for the base state, as in its error messages.
    fn neo4j_name(&self) -> &'static str {
        match self.st {
            St::Negotiation => "NEGOTIATION",
            St::Authentication => "AUTHENTICATION",
            St::Ready => "READY",
            St::Streaming { .. } => "AUTO_COMMIT",
            St::Tx { .. } => "IN_TRANSACTION",
        }
    }

    /// The stream a PULL/DISCARD's `qid` names (−1: the last one).
    fn resolve_qid(&self, qid: i64) -> i64 {
        match (&self.st, qid) {
            (St::Streaming { qid: open }, -1) => *open,
            (St::Tx { last, .. }, -1) => *last,
            (_, qid) => qid.max(0),
        }
    }

    /// What a real server does with a request of `kind` now, and how a refusal changes the
    /// state.
    fn judge(&self, kind: Kind, version: Version) -> (Verdict, Option<Refusal>) {
        let refuse_state = || {
            let text = format!(
                "Message of type {} cannot be handled by a session in the {} state.",
                kind.class_name(),
                self.neo4j_name()
            );
            (
                Verdict::Refuse {
                    failure: refusal_failure("Neo.ClientError.Request.Invalid", text, version),
                    close: true,
                },
                Some(Refusal::Closes),
            )
        };
        let no_such_statement = |qid: i64| {
            (
                Verdict::Refuse {
                    failure: refusal_failure(
                        "Neo.ClientError.Request.InvalidFormat",
                        format!("No such statement: {qid}"),
                        version,
                    ),
                    close: false,
                },
                Some(Refusal::Fails),
            )
        };
        let accept = (Verdict::Accept, None);
        if let Kind::Goodbye | Kind::Other = kind {
            return (Verdict::Close, None);
        }
        let authenticated = !matches!(self.st, St::Negotiation | St::Authentication);
        if authenticated && (self.failed || self.interrupts > 0) {
            match kind {
                Kind::Reset => return accept,
                Kind::Run
                | Kind::Commit
                | Kind::Rollback
                | Kind::Stream { .. }
                | Kind::Route
                | Kind::Telemetry => return (Verdict::Ignore, None),
                _ => return refuse_state(),
            }
        }
        match (&self.st, kind) {
            (St::Negotiation, Kind::Hello)
            | (St::Authentication, Kind::Logon)
            | (
                St::Ready,
                Kind::Run
                | Kind::Begin
                | Kind::Route
                | Kind::Telemetry
                | Kind::Logoff
                | Kind::Reset,
            )
            | (St::Streaming { .. } | St::Tx { .. }, Kind::Reset)
            | (St::Tx { .. }, Kind::Run | Kind::Commit | Kind::Rollback) => accept,
            (St::Streaming { qid: open }, Kind::Stream { qid, .. }) => {
                if qid == -1 || qid == *open {
                    accept
                } else {
                    no_such_statement(qid)
                }
            }
            (St::Tx { open, .. }, Kind::Stream { qid, .. }) => {
                let qid = self.resolve_qid(qid);
                if open.contains(&qid) {
                    accept
                } else {
                    no_such_statement(qid)
                }
            }
            _ => refuse_state(),
        }
    }

    fn on_success(&mut self, kind: Kind, metadata: &Map, version: Version) {
        match kind {
            Kind::Hello if version >= Version::V5_1 => self.st = St::Authentication,
            Kind::Hello | Kind::Logon | Kind::Commit | Kind::Rollback => self.st = St::Ready,
            Kind::Logoff => self.st = St::Authentication,
            Kind::Reset => {
                self.st = St::Ready;
                self.failed = false;
                self.interrupts = self.interrupts.saturating_sub(1);
            }
            Kind::Run => {
                let sent_qid = metadata::qid(metadata);
                match &mut self.st {
                    St::Tx { open, last, next } => {
                        let qid = sent_qid.unwrap_or(*next);
                        open.push(qid);
                        *last = qid;
                        *next = qid.saturating_add(1);
                    }
                    st => {
                        *st = St::Streaming {
                            qid: sent_qid.unwrap_or(0),
                        }
                    }
                }
            }
            Kind::Begin => {
                self.st = St::Tx {
                    open: Vec::new(),
                    last: 0,
                    next: 0,
                }
            }
            Kind::Stream { qid, .. } if !metadata::has_more(metadata) => {
                let qid = self.resolve_qid(qid);
                match &mut self.st {
                    St::Streaming { .. } => self.st = St::Ready,
                    St::Tx { open, .. } => open.retain(|q| *q != qid),
                    _ => {}
                }
            }
            Kind::Stream { .. } | Kind::Route | Kind::Telemetry | Kind::Goodbye | Kind::Other => {}
        }
    }

    fn on_failure(&mut self, kind: Kind) {
        match kind {
            // A server closes the connection after these fail.
            Kind::Hello | Kind::Logon | Kind::Reset => self.closed = true,
            _ => self.failed = true,
        }
    }

    /// What a request whose verdict was given does to the state, assuming that, if accepted,
    /// it succeeds (a PULL of some records leaves its stream open).
    fn assume(
        &mut self,
        kind: Kind,
        verdict: &Verdict,
        refusal: Option<Refusal>,
        version: Version,
    ) {
        match (verdict, refusal) {
            (Verdict::Accept, _) => {
                let mut metadata = Map::new();
                if let Kind::Stream { all: false, .. } = kind {
                    metadata.insert("has_more", Value::Boolean(true));
                }
                self.on_success(kind, &metadata, version);
            }
            (Verdict::Ignore, _) | (_, Some(Refusal::Malformed)) => {}
            (_, Some(Refusal::Fails)) => self.failed = true,
            (Verdict::Close, _) | (_, Some(Refusal::Closes)) | (Verdict::Refuse { .. }, None) => {
                self.closed = true
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the magic and the four proposals.
    Preamble,
    /// The manifest was sent; waiting for the client's choice.
    ManifestChoice,
    /// Messages flow.
    Open,
    /// Closed (or broken).
    Closed,
}

/// What the input holds, in order, waiting to be handled.
#[derive(Debug, Clone)]
enum Inbound {
    Message(RawMessage),
    /// The input broke here (garbage, oversize): the connection fails when this is reached.
    Fault(BoltError),
    /// The client hung up here.
    Eof,
}

/// The server side of one Bolt connection. No I/O, no clock. See the [module
/// documentation](self).
///
/// `Clone` copies the whole state: handy for tests that replay input in different ways.
#[derive(Clone)]
pub struct ServerConnection {
    config: ServerConfig,
    phase: Phase,
    version: Option<Version>,
    ctx: ValueContext,
    input: Dechunker,
    /// Complete messages not yet decoded (strict mode decodes one when the previous one is
    /// answered).
    inbox: VecDeque<Inbound>,
    out: BytesMut,
    scratch: BytesMut,
    events: VecDeque<ServerEvent>,
    /// Requests delivered and not yet answered, oldest first.
    pending: VecDeque<Pending>,
    /// The state as of the responses sent.
    confirmed: Machine,
    /// The state after the requests delivered so far, assuming the accepted ones succeed (what
    /// verdicts are judged against; equal to `confirmed` when nothing is pending).
    projected: Machine,
    next_id: u64,
    /// When the server started waiting for the client (for `recv_timeout`).
    waiting_since: Instant,
    last_now: Instant,
    /// The error that broke the connection, if one did.
    fatal: Option<BoltError>,
}

impl std::fmt::Debug for ServerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConnection")
            .field("version", &self.version)
            .field("state", &self.state())
            .field("in_flight", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl ServerConnection {
    /// A new server connection, waiting for the client's preamble.
    pub fn new(config: ServerConfig, now: Instant) -> Self {
        ServerConnection {
            input: Dechunker::new(config.max_message_size),
            config,
            phase: Phase::Preamble,
            version: None,
            ctx: ValueContext::latest().with_result_values(true),
            inbox: VecDeque::new(),
            out: BytesMut::new(),
            scratch: BytesMut::new(),
            events: VecDeque::new(),
            pending: VecDeque::new(),
            confirmed: Machine::new(),
            projected: Machine::new(),
            next_id: 0,
            waiting_since: now,
            last_now: now,
            fatal: None,
        }
    }

    /// The negotiated version, once the handshake is done.
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// The mode this connection runs in.
    pub fn mode(&self) -> ServerMode {
        self.config.mode
    }

    /// The server state as of the responses sent so far ([`ServerState::Defunct`] once closed;
    /// in manual mode also after a response a real server closes the connection for, such as
    /// a failed LOGON).
    pub fn state(&self) -> ServerState {
        if self.phase == Phase::Closed {
            ServerState::Defunct
        } else {
            self.confirmed.public()
        }
    }

    /// How many delivered requests wait for their answer.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// The request the next response answers (the oldest unanswered one).
    pub fn oldest_unanswered(&self) -> Option<RequestId> {
        self.pending.front().map(|p| p.id)
    }

    /// What a real server does with the oldest unanswered request, judged by the answers sent
    /// so far (the [`Verdict`] delivered with a request in manual mode assumed that the requests
    /// before it succeed; this one knows). `None` when nothing waits for an answer.
    pub fn current_verdict(&self) -> Option<Verdict> {
        let front = self.pending.front()?;
        if let Some(fault) = &front.fault {
            return Some(fault.clone());
        }
        let version = self.version.unwrap_or(Version::V5_0);
        Some(self.confirmed.judge(front.kind, version).0)
    }

    /// Whether the connection is closed: write what [`poll_transmit`](Self::poll_transmit)
    /// still returns, then close the socket.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// How values are encoded and decoded on this connection (depends on the version; result
    /// values such as nodes may be encoded).
    pub fn value_context(&self) -> ValueContext {
        self.ctx
    }

    /// The bytes to write to the socket, all queued output coalesced into one buffer.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.split().freeze())
        }
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called: only with
    /// [`ServerConfig::recv_timeout`], while the server waits for the client.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timeout = self.config.recv_timeout?;
        if self.phase == Phase::Closed || !self.pending.is_empty() {
            return None;
        }
        Some(
            self.waiting_since
                .checked_add(timeout)
                .unwrap_or(self.waiting_since),
        )
    }

    /// Time has passed. Calling it early is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        if let (Some(deadline), Some(after)) = (self.poll_timeout(), self.config.recv_timeout) {
            if now >= deadline {
                self.fail(BoltError::ClientTimeout { after });
            }
        }
    }

    /// Bytes from the client, split anywhere. Produces events and output. A fatal error (the
    /// client broke the protocol) is returned and reported as [`ServerEvent::Defunct`]; once
    /// closed, every call returns [`BoltError::Defunct`].
    pub fn handle_input(&mut self, data: &[u8], now: Instant) -> Result<(), BoltError> {
        if self.phase == Phase::Closed {
            return Err(BoltError::Defunct);
        }
        self.last_now = self.last_now.max(now);
        if !data.is_empty() {
            self.waiting_since = now;
        }
        self.input.extend(data);
        if let Err(e) = self.handshake() {
            return Err(self.fail(e));
        }
        if self.phase == Phase::Open {
            self.read_messages();
            self.advance();
        }
        match &self.fatal {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// The client closed its side of the connection. What it sent before is still handled (in
    /// strict mode as the application answers); then the connection is closed — with
    /// [`ServerEvent::Defunct`] if the client stopped inside a message or the handshake.
    pub fn handle_eof(&mut self, now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        self.last_now = self.last_now.max(now);
        if self.phase != Phase::Open {
            let _ = self.fail(BoltError::ClientProtocol {
                reason: "the connection ended during the handshake".to_owned(),
            });
            return;
        }
        self.read_messages();
        if matches!(self.inbox.back(), Some(Inbound::Fault(_))) {
            // The input already broke before its end.
        } else if self.input.is_mid_message() {
            self.inbox
                .push_back(Inbound::Fault(BoltError::ClientProtocol {
                    reason: "the connection ended inside a message".to_owned(),
                }));
        } else {
            self.inbox.push_back(Inbound::Eof);
        }
        self.advance();
    }

    fn fail(&mut self, error: BoltError) -> BoltError {
        if self.phase != Phase::Closed {
            self.fatal = Some(error.clone());
            self.phase = Phase::Closed;
            self.inbox.clear();
            self.pending.clear();
            self.events.push_back(ServerEvent::Defunct(error.clone()));
        }
        error
    }

    /// Closes the connection (a server shutting down, or a test dropping the client). Bytes
    /// already queued are still returned by [`poll_transmit`](Self::poll_transmit); nothing
    /// more is read or sent.
    pub fn close(&mut self) {
        if self.phase != Phase::Closed {
            self.phase = Phase::Closed;
            self.inbox.clear();
            self.pending.clear();
            self.events.push_back(ServerEvent::Closed);
        }
    }

    fn handshake(&mut self) -> Result<(), BoltError> {
        if self.phase == Phase::Preamble {
            let Some(proposals) = version::parse_proposals(self.input.raw_input())? else {
                return Ok(());
            };
            let _ = self.input.raw_input().split_to(20);
            if proposals.manifest && self.config.manifest {
                version::manifest_reply(&self.config.versions, &mut self.out);
                self.phase = Phase::ManifestChoice;
            } else {
                let Some(version) = version::choose(&self.config.versions, &proposals.ranges)
                else {
                    self.out.extend_from_slice(&[0; 4]);
                    return Err(BoltError::NoVersionForClient {
                        client: proposals.ranges,
                        offered: self.config.versions.clone(),
                    });
                };
                self.out.extend_from_slice(&version.to_bytes());
                self.negotiated(version, false);
            }
        }
        if self.phase == Phase::ManifestChoice {
            let Some((choice, used)) = version::parse_manifest_choice(self.input.raw_input())?
            else {
                return Ok(());
            };
            let _ = self.input.raw_input().split_to(used);
            let Some(version) = choice else {
                return Err(BoltError::NoVersionForClient {
                    client: Vec::new(),
                    offered: self.config.versions.clone(),
                });
            };
            let offered = self.config.versions.iter().any(|r| r.contains(version));
            if !offered || !version.is_supported() {
                return Err(BoltError::ClientProtocol {
                    reason: format!(
                        "the client chose Bolt {version}, which the manifest did not offer"
                    ),
                });
            }
            self.negotiated(version, true);
        }
        Ok(())
    }

    fn negotiated(&mut self, version: Version, manifest: bool) {
        self.version = Some(version);
        self.ctx =
            ValueContext::for_version(version.major, version.minor, false).with_result_values(true);
        self.phase = Phase::Open;
        self.events
            .push_back(ServerEvent::Negotiated { version, manifest });
    }

    /// Moves every complete message from the input to the inbox. A RESET counts at once (the
    /// server is INTERRUPTED from the moment it arrives, as Neo4j's network layer sees it
    /// before the requests queued ahead of it run).
    fn read_messages(&mut self) {
        if matches!(self.inbox.back(), Some(Inbound::Fault(_) | Inbound::Eof)) {
            return;
        }
        loop {
            let message = match self.input.next_message() {
                Ok(Some(message)) => message,
                Ok(None) => return,
                Err(BoltError::MessageTooLarge { limit }) => {
                    self.inbox
                        .push_back(Inbound::Fault(BoltError::ClientMessageTooLarge { limit }));
                    return;
                }
                Err(e) => {
                    self.inbox.push_back(Inbound::Fault(e));
                    return;
                }
            };
            match RawMessage::parse(message) {
                Ok(raw) => {
                    if raw.tag == tag::RESET && raw.len == 0 {
                        self.confirmed.interrupts += 1;
                        self.projected.interrupts += 1;
                    }
                    self.inbox.push_back(Inbound::Message(raw));
                }
                Err(e) => {
                    self.inbox.push_back(Inbound::Fault(e));
                    return;
                }
            }
        }
    }

    /// Handles inbox entries: all of them in manual mode; in strict mode while no delivered
    /// request waits for its answer.
    fn advance(&mut self) {
        while self.phase == Phase::Open {
            if self.config.mode == ServerMode::Strict && !self.pending.is_empty() {
                return;
            }
            let Some(inbound) = self.inbox.pop_front() else {
                return;
            };
            match inbound {
                Inbound::Message(raw) => self.on_message(raw),
                Inbound::Fault(error) => {
                    let _ = self.fail(error);
                }
                Inbound::Eof => self.close(),
            }
        }
    }

    fn on_message(&mut self, raw: RawMessage) {
        let version = self.version.unwrap_or(Version::V5_0);
        let id = RequestId(self.next_id);
        self.next_id += 1;
        let decoded =
            message::decode_request(raw.tag, raw.len, raw.fields_bytes(), version, &self.ctx);
        let (verdict, refusal, kind) = match &decoded {
            Ok(message) => {
                let kind = Kind::of(message);
                let (verdict, refusal) = self.projected.judge(kind, version);
                (verdict, refusal, kind)
            }
            Err(RequestFault::Unknown(_)) => (Verdict::Close, None, Kind::Other),
            Err(fault) => {
                let code = match fault {
                    RequestFault::Format(_) => "Neo.ClientError.Request.InvalidFormat",
                    _ => "Neo.ClientError.Request.Invalid",
                };
                let verdict = Verdict::Refuse {
                    failure: refusal_failure(code, fault.reason().to_owned(), version),
                    close: false,
                };
                (verdict, Some(Refusal::Malformed), Kind::Other)
            }
        };
        // GOODBYE is never answered; strict mode closes the connection for it below.
        let goodbye = kind == Kind::Goodbye;
        let fault = (kind == Kind::Other).then(|| verdict.clone());
        let request = Box::new(IncomingRequest {
            id,
            message: decoded.map_err(|fault| BoltError::InvalidClientRequest {
                reason: fault.reason().to_owned(),
            }),
            raw,
            verdict,
        });
        if self.config.mode == ServerMode::Manual {
            self.projected
                .assume(kind, &request.verdict, refusal, version);
            if !goodbye {
                self.pending.push_back(Pending { id, kind, fault });
            }
            self.events.push_back(ServerEvent::Request(request));
            return;
        }
        match &request.verdict {
            Verdict::Accept => {
                self.pending.push_back(Pending { id, kind, fault });
                self.events.push_back(ServerEvent::Request(request));
            }
            Verdict::Ignore => {
                self.write(|buf, _| message::encode_ignored(buf))
                    .unwrap_or_default();
                self.events.push_back(ServerEvent::Handled(request));
            }
            Verdict::Refuse { failure, close } => {
                let metadata = failure.to_metadata(version);
                self.write(|buf, ctx| message::encode_summary(buf, tag::FAILURE, &metadata, ctx))
                    .unwrap_or_default();
                let close = *close;
                self.confirmed
                    .assume(kind, &request.verdict, refusal, version);
                self.projected = self.confirmed.clone();
                self.events.push_back(ServerEvent::Handled(request));
                if close {
                    self.close();
                }
            }
            Verdict::Close => {
                self.events.push_back(ServerEvent::Handled(request));
                self.close();
            }
        }
    }

    /// Encodes one message with `encode` and queues it chunked; nothing is queued on error.
    fn write(
        &mut self,
        encode: impl FnOnce(&mut BytesMut, &ValueContext) -> Result<(), BoltError>,
    ) -> Result<(), BoltError> {
        self.scratch.clear();
        encode(&mut self.scratch, &self.ctx)?;
        write_chunked(&self.scratch, &mut self.out);
        Ok(())
    }

    /// Checks that a response can go out now; returns the kind of request it answers, if any.
    fn answering(&self, what: &str) -> Result<Option<Kind>, BoltError> {
        if self.phase == Phase::Closed {
            return Err(BoltError::Defunct);
        }
        let front = self.pending.front().map(|p| p.kind);
        if front.is_none() && self.config.mode == ServerMode::Strict {
            return Err(BoltError::InvalidResponse {
                reason: format!("{what} answers nothing: no request is waiting for an answer"),
            });
        }
        Ok(front)
    }

    /// After the final response to the oldest request: update the state; in strict mode handle
    /// what waits in the inbox.
    fn answered(&mut self, update: impl FnOnce(&mut Machine, Kind, Version)) {
        let version = self.version.unwrap_or(Version::V5_0);
        if let Some(pending) = self.pending.pop_front() {
            update(&mut self.confirmed, pending.kind, version);
        }
        if self.pending.is_empty() {
            self.projected = self.confirmed.clone();
            self.waiting_since = self.last_now;
        }
        if self.config.mode == ServerMode::Strict && self.confirmed.closed {
            // A failed HELLO / LOGON / RESET: Neo4j closes the connection.
            self.close();
        }
        self.advance();
    }

    /// Answers the oldest unanswered request with `SUCCESS {metadata}`.
    ///
    /// The metadata drives the state: PULL/DISCARD's `has_more`, RUN's `qid` in a transaction
    /// (Neo4j's numbering 0, 1, … when absent), HELLO's `patch_bolt: ["utc"]` on Bolt 4.4 (UTC
    /// date-times from then on).
    pub fn success(&mut self, metadata: Map) -> Result<(), BoltError> {
        let front = self.answering("SUCCESS")?;
        self.write(|buf, ctx| message::encode_summary(buf, tag::SUCCESS, &metadata, ctx))?;
        if let (Some(Kind::Hello), Some(version)) = (front, self.version) {
            let utc = ServerInfo::from_hello(version, &metadata).utc;
            self.ctx = ValueContext::for_version(version.major, version.minor, utc)
                .with_result_values(true);
        }
        if front.is_some() {
            self.answered(|machine, kind, version| machine.on_success(kind, &metadata, version));
        }
        Ok(())
    }

    /// Sends one `RECORD [fields]` for the oldest unanswered request (strict mode: a PULL). The
    /// request stays unanswered until its SUCCESS or FAILURE.
    pub fn record(&mut self, fields: &[Value]) -> Result<(), BoltError> {
        let front = self.answering("RECORD")?;
        if self.config.mode == ServerMode::Strict
            && !matches!(front, Some(Kind::Stream { pull: true, .. }))
        {
            return Err(BoltError::InvalidResponse {
                reason: "a RECORD can only answer a PULL".to_owned(),
            });
        }
        self.write(|buf, ctx| message::encode_record(buf, fields, ctx))
    }

    /// Answers the oldest unanswered request with a FAILURE (the map for the negotiated version:
    /// see [`Failure::to_metadata`]). The server is FAILED afterwards; after a failed HELLO,
    /// LOGON or RESET strict mode closes the connection, as Neo4j does.
    pub fn failure(&mut self, failure: &Failure) -> Result<(), BoltError> {
        let metadata = failure.to_metadata(self.version.unwrap_or(Version::V6_0));
        self.failure_metadata(metadata)
    }

    /// Answers the oldest unanswered request with `FAILURE {metadata}`, the map exactly as
    /// given (see [`failure`](Self::failure)).
    pub fn failure_metadata(&mut self, metadata: Map) -> Result<(), BoltError> {
        let front = self.answering("FAILURE")?;
        self.write(|buf, ctx| message::encode_summary(buf, tag::FAILURE, &metadata, ctx))?;
        if front.is_some() {
            self.answered(|machine, kind, _| machine.on_failure(kind));
        }
        Ok(())
    }

    /// Answers the oldest unanswered request with IGNORED.
    pub fn ignored(&mut self) -> Result<(), BoltError> {
        let front = self.answering("IGNORED")?;
        self.write(|buf, _| message::encode_ignored(buf))?;
        if front.is_some() {
            self.answered(|_, _, _| {});
        }
        Ok(())
    }

    /// Sends `body` (one message's PackStream bytes, e.g. a structure no server sends) chunked
    /// as a message. Answers nothing and changes no state: for tests of hostile servers.
    pub fn send_raw_message(&mut self, body: &[u8]) {
        if self.phase != Phase::Closed {
            write_chunked(body, &mut self.out);
        }
    }

    /// Sends `bytes` as they are, unframed. Answers nothing and changes no state.
    pub fn send_raw_bytes(&mut self, bytes: &[u8]) {
        if self.phase != Phase::Closed {
            self.out.extend_from_slice(bytes);
        }
    }

    /// Sends a NOOP (an empty chunk: the keep-alive of Bolt 4.1+).
    pub fn send_noop(&mut self) {
        self.send_raw_bytes(&[0, 0]);
    }
}
