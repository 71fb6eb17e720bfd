//! The client side of one Bolt connection, as a state machine without I/O.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::chunk::{Dechunker, write_chunked};
use crate::config::ConnectionConfig;
use crate::error::BoltError;
use crate::message::{self, Response, tag};
use crate::metadata::{self, Failure, ServerInfo};
use crate::record::RawRecord;
use crate::request::{ClientMessage, Hello, Request};
use crate::value::{Map, Value, ValueContext};
use crate::version::{self, HandshakeReply, Version};

/// Identifies a request; every response event carries the id of the request it answers.
/// Ids increase by one per [`Connection::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub(crate) u64);

impl RequestId {
    /// The id as a number.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// The server's state as the client tracks it (the Bolt spec's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerState {
    /// Handshake or HELLO not finished yet (the spec's NEGOTIATION / CONNECTED).
    Negotiation,
    /// 5.1+: HELLO done, waiting for LOGON (after LOGOFF too).
    Authentication,
    /// Idle, ready for RUN / BEGIN / ROUTE.
    Ready,
    /// An auto-commit result stream is open.
    Streaming,
    /// An explicit transaction is open, no result stream open.
    TxReady,
    /// An explicit transaction with at least one open result stream.
    TxStreaming,
    /// A request failed; everything but RESET is IGNORED.
    Failed,
    /// A RESET is on its way; requests before it are being IGNORED.
    Interrupted,
    /// Closed or broken; open a new connection.
    Defunct,
}

/// What the connection has to tell. Drain with [`Connection::poll_event`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The handshake and HELLO (and LOGON on 5.1+) succeeded: the connection is READY.
    /// Comes right after the HELLO's [`Event::Success`].
    Ready {
        /// The negotiated version.
        version: Version,
        /// What the server said about itself.
        server: Box<ServerInfo>,
    },
    /// One record of a PULL, as it arrives.
    Record {
        /// The PULL this record answers.
        id: RequestId,
        /// The values.
        fields: Vec<Value>,
    },
    /// One record of a PULL, validated but not decoded (instead of [`Event::Record`] when
    /// [`ConnectionConfig::raw_records`] is set).
    RawRecord {
        /// The PULL this record answers.
        id: RequestId,
        /// The fields.
        record: RawRecord,
    },
    /// A request succeeded. Read the metadata with the functions in [`crate::metadata`].
    Success {
        /// The request.
        id: RequestId,
        /// The metadata.
        metadata: Map,
    },
    /// A request failed. Unless it was HELLO/LOGON (then the connection is defunct), the server
    /// is now FAILED: the requests after it come back [`Event::Ignored`] and a RESET is needed
    /// ([`Connection::needs_reset`]).
    Failure {
        /// The request.
        id: RequestId,
        /// What went wrong.
        failure: Box<Failure>,
    },
    /// The server ignored the request (after a FAILURE, or interrupted by RESET).
    Ignored {
        /// The request.
        id: RequestId,
    },
    /// The connection became defunct because of this error (also returned by the call that
    /// caused it). Requests in flight get no further events.
    Defunct(BoltError),
}

/// Internal state: the spec's states, with the number of open streams inside a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Connected,
    Authentication,
    Ready,
    Streaming,
    /// Projection only: a PULL/DISCARD with `n ≥ 0` of an auto-commit stream is in flight, so the
    /// stream may or may not end (STREAMING or READY): only RESET and GOODBYE are safe to queue.
    MaybeStreaming,
    /// In a transaction with `open` result streams (in a projection: at least `open`).
    Tx {
        open: u32,
    },
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// HELLO; `logon_follows` on 5.1+ (the core added a LOGON for the same request id).
    Hello {
        logon_follows: bool,
    },
    /// The LOGON the core added after HELLO.
    HelloLogon,
    Logon,
    Logoff,
    Reset,
    Run,
    Begin,
    Commit,
    Rollback,
    Pull {
        all: bool,
    },
    Discard {
        all: bool,
    },
    Route,
    Telemetry,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    id: RequestId,
    kind: Kind,
}

/// The state after `kind` succeeded in `st` (`more`: PULL/DISCARD's `has_more`).
fn after_success(st: St, kind: Kind, more: bool) -> St {
    match kind {
        Kind::Hello {
            logon_follows: true,
        }
        | Kind::Logoff => St::Authentication,
        Kind::Hello {
            logon_follows: false,
        }
        | Kind::HelloLogon
        | Kind::Logon
        | Kind::Reset
        | Kind::Commit
        | Kind::Rollback => St::Ready,
        Kind::Begin => St::Tx { open: 0 },
        Kind::Run => match st {
            St::Tx { open } => St::Tx {
                open: open.saturating_add(1),
            },
            _ => St::Streaming,
        },
        Kind::Pull { .. } | Kind::Discard { .. } if more => st,
        Kind::Pull { .. } | Kind::Discard { .. } => match st {
            St::Tx { open } => St::Tx {
                open: open.saturating_sub(1),
            },
            St::Streaming => St::Ready,
            other => other,
        },
        Kind::Route | Kind::Telemetry => st,
    }
}

/// The state the server will be in after everything in flight, assuming success and that in
/// FAILED all but RESET is ignored. A PULL/DISCARD with `n ≥ 0` may or may not end its stream:
/// the projection then keeps only what holds either way (auto-commit: [`St::MaybeStreaming`];
/// in a transaction: one stream fewer, the lower bound).
fn project(mut st: St, pending: &VecDeque<Pending>) -> St {
    for p in pending {
        st = match (st, p.kind) {
            (St::Failed, Kind::Reset) => St::Ready,
            (St::Failed, _) => St::Failed,
            (St::Streaming, Kind::Pull { all: false } | Kind::Discard { all: false }) => {
                St::MaybeStreaming
            }
            (_, Kind::Reset) => St::Ready,
            (St::MaybeStreaming, _) => St::MaybeStreaming,
            (st, kind) => after_success(st, kind, false),
        };
    }
    st
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for the server's handshake reply.
    Handshake,
    /// Messages flow.
    Open,
    /// Defunct (broken, or GOODBYE sent): the error to report.
    Defunct,
}

/// The client side of one Bolt connection. No I/O, no clock: bytes and time go in, bytes,
/// events and deadlines come out. See the crate documentation for the driving loop.
///
/// `Clone` copies the whole state (buffers included): handy for tests that replay the same input
/// in different ways.
#[derive(Clone)]
pub struct Connection {
    config: ConnectionConfig,
    phase: Phase,
    version: Option<Version>,
    ctx: ValueContext,
    input: Dechunker,
    out: BytesMut,
    scratch: BytesMut,
    pending: VecDeque<Pending>,
    events: VecDeque<Event>,
    /// The state as of the last response.
    confirmed: St,
    /// The state after everything in flight (what `send` validates against).
    projected: St,
    /// A HELLO sent before the handshake finished, encoded once the version is known.
    deferred_hello: Option<(RequestId, Hello)>,
    hello_sent: bool,
    /// HELLO's metadata, kept until the core's LOGON succeeds (5.1+).
    hello_metadata: Option<Map>,
    server_info: Option<ServerInfo>,
    next_id: u64,
    recv_timeout: Option<Duration>,
    recv_deadline: Option<Instant>,
    /// A request went out while no deadline ran: the next `now` we see starts it.
    arm_pending: bool,
    last_now: Instant,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("version", &self.version)
            .field("state", &self.server_state())
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A new connection; the handshake bytes are queued for [`poll_transmit`](Self::poll_transmit).
    pub fn new(config: ConnectionConfig, now: Instant) -> Self {
        let mut out = BytesMut::with_capacity(64);
        version::handshake_bytes(&config.versions, config.manifest, &mut out);
        Connection {
            input: Dechunker::new(config.max_message_size),
            config,
            phase: Phase::Handshake,
            version: None,
            ctx: ValueContext::latest(),
            out,
            scratch: BytesMut::new(),
            pending: VecDeque::new(),
            events: VecDeque::new(),
            confirmed: St::Connected,
            projected: St::Connected,
            deferred_hello: None,
            hello_sent: false,
            hello_metadata: None,
            server_info: None,
            next_id: 0,
            recv_timeout: None,
            recv_deadline: None,
            arm_pending: false,
            last_now: now,
        }
    }

    /// The negotiated version, once the handshake is done.
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// The server's state as of the responses received so far.
    pub fn server_state(&self) -> ServerState {
        if matches!(self.phase, Phase::Defunct) {
            return ServerState::Defunct;
        }
        match self.confirmed {
            St::Connected => ServerState::Negotiation,
            St::Authentication => ServerState::Authentication,
            St::Ready => ServerState::Ready,
            St::Streaming | St::MaybeStreaming => ServerState::Streaming,
            St::Tx { open: 0 } => ServerState::TxReady,
            St::Tx { .. } => ServerState::TxStreaming,
            St::Failed if self.pending.iter().any(|p| p.kind == Kind::Reset) => {
                ServerState::Interrupted
            }
            St::Failed => ServerState::Failed,
        }
    }

    /// Whether the connection is broken or closed.
    pub fn is_defunct(&self) -> bool {
        matches!(self.phase, Phase::Defunct)
    }

    /// Whether a FAILURE left the server FAILED and no RESET is on its way: only
    /// [`Request::Reset`] (or GOODBYE) is accepted now.
    pub fn needs_reset(&self) -> bool {
        !self.is_defunct() && self.projected == St::Failed
    }

    /// How many requests wait for their final response (HELLO+LOGON count as one).
    pub fn in_flight(&self) -> usize {
        self.pending
            .iter()
            .filter(|p| p.kind != Kind::HelloLogon)
            .count()
            + usize::from(self.deferred_hello.is_some())
    }

    /// What the server said in HELLO's SUCCESS.
    pub fn server_info(&self) -> Option<&ServerInfo> {
        self.server_info.as_ref()
    }

    /// How values are encoded and decoded on this connection (depends on the version).
    pub fn value_context(&self) -> ValueContext {
        self.ctx
    }

    /// The bytes to write to the socket, all queued output coalesced into one buffer
    /// (a pipelined BEGIN+RUN+PULL leaves in one write).
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.split().freeze())
        }
    }

    /// The next event, in the order the server sent the responses.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called.
    ///
    /// The server's `connection.recv_timeout_seconds` hint is a promise that it sends something
    /// (a response or a NOOP) at least that often; while a response is due and the server stays
    /// silent past this deadline, the core considers the connection dead. Right after requests
    /// were sent the deadline may lie in the past: the core learns the time from the next
    /// `handle_timeout` (or `handle_input`) and then reports the real deadline.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_defunct() {
            None
        } else if self.arm_pending {
            Some(self.last_now)
        } else {
            self.recv_deadline
        }
    }

    /// Time has passed. Calling it early is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        if self.arm_pending {
            self.start_timer(now);
            return;
        }
        if let (Some(deadline), Some(after)) = (self.recv_deadline, self.recv_timeout) {
            if now >= deadline && !self.is_defunct() {
                let _ = self.fail(BoltError::ReceiveTimeout { after });
            }
        }
    }

    fn start_timer(&mut self, now: Instant) {
        self.arm_pending = false;
        self.recv_deadline = match self.recv_timeout {
            Some(t) if !self.pending.is_empty() => now.checked_add(t),
            _ => None,
        };
    }

    /// Bytes from the socket, split anywhere. Produces events; a fatal error is returned (and
    /// reported as [`Event::Defunct`]), after which every call returns [`BoltError::Defunct`].
    pub fn handle_input(&mut self, data: &[u8], now: Instant) -> Result<(), BoltError> {
        if self.is_defunct() {
            return Err(BoltError::Defunct);
        }
        self.last_now = self.last_now.max(now);
        self.input.extend(data);
        match self.process_input() {
            Ok(()) => {
                if !data.is_empty() {
                    self.start_timer(now);
                }
                Ok(())
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn fail(&mut self, error: BoltError) -> BoltError {
        self.phase = Phase::Defunct;
        self.pending.clear();
        self.recv_deadline = None;
        self.arm_pending = false;
        self.events.push_back(Event::Defunct(error.clone()));
        error
    }

    fn process_input(&mut self) -> Result<(), BoltError> {
        if matches!(self.phase, Phase::Handshake) {
            let reply = version::parse_reply(self.input.raw_input(), &self.config.versions)?;
            let version = match reply {
                None => return Ok(()),
                Some(HandshakeReply::Chosen(v)) => {
                    let _ = self.input.raw_input().split_to(4);
                    v
                }
                Some(HandshakeReply::Manifest { ranges, consumed }) => {
                    let _ = self.input.raw_input().split_to(consumed);
                    let Some(v) = version::choose(&self.config.versions, &ranges) else {
                        return Err(BoltError::NoCommonVersion {
                            offered: self.config.versions.clone(),
                            server: ranges,
                        });
                    };
                    // Our choice, then our capabilities (none).
                    self.out.extend_from_slice(&v.to_bytes());
                    version::write_varint(0, &mut self.out);
                    v
                }
            };
            self.negotiated(version)?;
        }
        // A failed HELLO/LOGON/RESET makes the connection defunct and the server closes it;
        // what it sent before closing (IGNORED for requests pipelined behind the failure) is not
        // read: the failure is the answer.
        while !self.is_defunct() {
            let Some(message) = self.input.next_message()? else {
                break;
            };
            self.process_message(message)?;
        }
        Ok(())
    }

    /// A RECORD answers the PULL at the front of the queue (which stays there until its SUCCESS).
    fn push_record(&mut self, event: impl FnOnce(RequestId) -> Event) -> Result<(), BoltError> {
        match self.pending.front() {
            Some(Pending {
                id,
                kind: Kind::Pull { .. },
            }) => {
                let id = *id;
                self.events.push_back(event(id));
                Ok(())
            }
            _ => Err(BoltError::protocol(
                "a RECORD arrived while no PULL was waiting",
            )),
        }
    }

    fn negotiated(&mut self, version: Version) -> Result<(), BoltError> {
        self.version = Some(version);
        self.ctx = ValueContext::for_version(version.major, version.minor, false);
        self.phase = Phase::Open;
        if let Some((id, hello)) = self.deferred_hello.take() {
            self.encode_hello(id, &hello, version)?;
        }
        Ok(())
    }

    fn process_message(&mut self, message: Bytes) -> Result<(), BoltError> {
        let response = message::decode_response(message, &self.ctx, self.config.raw_records)?;
        let response = match response {
            Response::Record(fields) => return self.push_record(|id| Event::Record { id, fields }),
            Response::RawRecord(record) => {
                return self.push_record(|id| Event::RawRecord { id, record });
            }
            response => response,
        };
        let Some(Pending { id, kind }) = self.pending.pop_front() else {
            return Err(BoltError::protocol(
                "a response arrived while no request was waiting",
            ));
        };
        match response {
            Response::Record(_) | Response::RawRecord(_) => {} // handled above
            Response::Success(metadata) => self.on_success(id, kind, metadata)?,
            Response::Failure(metadata) => {
                let failure = Box::new(Failure::from_metadata(&metadata));
                self.events.push_back(Event::Failure { id, failure });
                match kind {
                    // The server closes the connection after these.
                    Kind::Hello { .. } | Kind::HelloLogon | Kind::Logon | Kind::Reset => {
                        self.phase = Phase::Defunct;
                        self.pending.clear();
                        self.recv_deadline = None;
                        return Ok(());
                    }
                    _ => self.confirmed = St::Failed,
                }
            }
            Response::Ignored => {
                if matches!(kind, Kind::Hello { .. } | Kind::HelloLogon) {
                    return Err(BoltError::protocol("the server ignored HELLO/LOGON"));
                }
                self.events.push_back(Event::Ignored { id });
            }
        }
        self.projected = project(self.confirmed, &self.pending);
        if self.pending.is_empty() {
            self.recv_deadline = None;
        }
        Ok(())
    }

    fn on_success(&mut self, id: RequestId, kind: Kind, metadata: Map) -> Result<(), BoltError> {
        // Every field read from a SUCCESS (here, in `metadata`'s readers and by drivers) has a
        // type; a server that sends another breaks the protocol: `fields: 7` must not read as
        // "no columns", nor `has_more: 1` as "the stream ended".
        let (request, fields) = match kind {
            Kind::Hello { .. } => ("HELLO", metadata::HELLO_FIELDS),
            Kind::Run => ("RUN", metadata::RUN_FIELDS),
            Kind::Pull { .. } => ("PULL", metadata::STREAM_FIELDS),
            Kind::Discard { .. } => ("DISCARD", metadata::STREAM_FIELDS),
            Kind::Begin => ("BEGIN", metadata::TX_FIELDS),
            Kind::Commit => ("COMMIT", metadata::TX_FIELDS),
            Kind::Route => ("ROUTE", metadata::ROUTE_FIELDS),
            Kind::HelloLogon
            | Kind::Logon
            | Kind::Logoff
            | Kind::Reset
            | Kind::Rollback
            | Kind::Telemetry => ("", &[][..]),
        };
        metadata::check_success(request, fields, &metadata)?;
        let more = metadata::has_more(&metadata);
        self.confirmed = after_success(self.confirmed, kind, more);
        match kind {
            Kind::Hello { logon_follows } => {
                let version = self.version.unwrap_or(Version::V5_0);
                let info = ServerInfo::from_hello(version, &metadata);
                self.ctx = ValueContext::for_version(version.major, version.minor, info.utc);
                self.recv_timeout = info.recv_timeout;
                self.server_info = Some(info);
                if logon_follows {
                    self.hello_metadata = Some(metadata);
                } else {
                    self.ready(id, metadata);
                }
            }
            Kind::HelloLogon => {
                let mut merged = self.hello_metadata.take().unwrap_or_default();
                for (key, value) in metadata {
                    merged.insert(key, value);
                }
                self.ready(id, merged);
            }
            _ => self.events.push_back(Event::Success { id, metadata }),
        }
        Ok(())
    }

    fn ready(&mut self, id: RequestId, metadata: Map) {
        self.events.push_back(Event::Success { id, metadata });
        if let (Some(version), Some(info)) = (self.version, &self.server_info) {
            self.events.push_back(Event::Ready {
                version,
                server: Box::new(info.clone()),
            });
        }
    }

    /// Queues a request (encoded at once; sent with the next [`poll_transmit`](Self::poll_transmit)).
    ///
    /// Returns a typed error, and queues nothing, if the server would refuse the request in the
    /// state it will be in when it reads it (e.g. RUN while FAILED, COMMIT without BEGIN,
    /// anything but HELLO before [`Event::Ready`]), if the version lacks it, or if it cannot be
    /// encoded. Several requests may be in flight; responses come back in order.
    pub fn send(&mut self, request: Request) -> Result<RequestId, BoltError> {
        if self.is_defunct() {
            return Err(BoltError::Defunct);
        }
        self.check(&request)?;
        let id = RequestId(self.next_id);
        if let Request::Goodbye = request {
            if matches!(self.phase, Phase::Open) {
                self.scratch.clear();
                message::header(&mut self.scratch, tag::GOODBYE, 0)?;
                write_chunked(&self.scratch, &mut self.out);
            }
            self.next_id += 1;
            self.phase = Phase::Defunct;
            self.pending.clear();
            self.recv_deadline = None;
            self.arm_pending = false;
            return Ok(id);
        }
        if let Request::Hello(hello) = request {
            match self.version {
                None => self.deferred_hello = Some((id, hello)),
                Some(version) => self.encode_hello(id, &hello, version)?,
            }
            self.hello_sent = true;
            self.next_id += 1;
            return Ok(id);
        }
        let version = self.version.unwrap_or(Version::V5_0);
        self.scratch.clear();
        let kind = self.encode(&request, version)?;
        write_chunked(&self.scratch, &mut self.out);
        self.push_pending(id, kind);
        self.next_id += 1;
        Ok(id)
    }

    fn push_pending(&mut self, id: RequestId, kind: Kind) {
        if self.pending.is_empty() && self.recv_timeout.is_some() {
            self.arm_pending = true;
        }
        self.pending.push_back(Pending { id, kind });
        self.projected = project(self.confirmed, &self.pending);
    }

    fn check(&self, request: &Request) -> Result<(), BoltError> {
        let invalid = |state| {
            Err(BoltError::InvalidRequest {
                state,
                request: request.name(),
            })
        };
        if let Some(version) = self.version {
            let needs = match request {
                Request::Logon(_) | Request::Logoff => Some((Version::V5_1, "LOGON/LOGOFF")),
                Request::Telemetry(_) => Some((Version::V5_4, "TELEMETRY")),
                _ => None,
            };
            if let Some((min, what)) = needs {
                if version < min {
                    return Err(BoltError::NotSupported { what, version });
                }
            }
        }
        match (request, self.projected) {
            (Request::Goodbye, _) => Ok(()),
            (Request::Hello(_), St::Connected) if !self.hello_sent => Ok(()),
            (Request::Hello(_), _) => invalid(self.public_projected()),
            (_, St::Connected) => invalid(ServerState::Negotiation),
            // Neo4j 5.26 answers a RESET before LOGON with a FAILURE and closes the connection.
            (Request::Logon(_), St::Authentication) => Ok(()),
            (_, St::Authentication) => invalid(ServerState::Authentication),
            (Request::Reset, _) => Ok(()),
            (_, St::Failed) => invalid(ServerState::Failed),
            (
                Request::Run(_)
                | Request::Begin(_)
                | Request::Route(_)
                | Request::Telemetry(_)
                | Request::Logoff,
                St::Ready,
            ) => Ok(()),
            (Request::Pull { .. } | Request::Discard { .. }, St::Streaming) => Ok(()),
            (Request::Run(_) | Request::Commit | Request::Rollback, St::Tx { .. }) => Ok(()),
            (Request::Pull { .. } | Request::Discard { .. }, St::Tx { open }) if open > 0 => Ok(()),
            _ => invalid(self.public_projected()),
        }
    }

    fn public_projected(&self) -> ServerState {
        match self.projected {
            St::Connected => ServerState::Negotiation,
            St::Authentication => ServerState::Authentication,
            St::Ready => ServerState::Ready,
            St::Streaming | St::MaybeStreaming => ServerState::Streaming,
            St::Tx { open: 0 } => ServerState::TxReady,
            St::Tx { .. } => ServerState::TxStreaming,
            St::Failed => ServerState::Failed,
        }
    }

    fn encode_hello(
        &mut self,
        id: RequestId,
        hello: &Hello,
        version: Version,
    ) -> Result<(), BoltError> {
        let messages =
            ClientMessage::from_request(&Request::Hello(hello.clone()), &self.config, version);
        // Encode everything before queueing anything: a failure leaves nothing half-sent.
        let start = self.out.len();
        for message in &messages {
            self.scratch.clear();
            if let Err(e) = message::encode_request(&mut self.scratch, message, &self.ctx) {
                self.out.truncate(start);
                return Err(e);
            }
            write_chunked(&self.scratch, &mut self.out);
        }
        let logon_follows = messages.len() > 1;
        self.push_pending(id, Kind::Hello { logon_follows });
        if logon_follows {
            self.push_pending(id, Kind::HelloLogon);
        }
        Ok(())
    }

    /// Encodes `request` (not HELLO / GOODBYE) into `scratch`.
    fn encode(&mut self, request: &Request, version: Version) -> Result<Kind, BoltError> {
        let kind = match request {
            Request::Logon(_) => Kind::Logon,
            Request::Logoff => Kind::Logoff,
            Request::Reset => Kind::Reset,
            Request::Run(_) => Kind::Run,
            Request::Begin(_) => Kind::Begin,
            Request::Commit => Kind::Commit,
            Request::Rollback => Kind::Rollback,
            Request::Pull { n, .. } => Kind::Pull { all: *n == -1 },
            Request::Discard { n, .. } => Kind::Discard { all: *n == -1 },
            Request::Route(_) => Kind::Route,
            Request::Telemetry(_) => Kind::Telemetry,
            Request::Hello(_) | Request::Goodbye => {
                return Err(BoltError::protocol(
                    "internal: HELLO/GOODBYE are encoded elsewhere",
                ));
            }
        };
        for message in ClientMessage::from_request(request, &self.config, version) {
            message::encode_request(&mut self.scratch, &message, &self.ctx)?;
        }
        Ok(kind)
    }
}
