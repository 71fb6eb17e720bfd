//! One Bolt connection: the sans-IO `quiver_bolt::Connection` driven over a runtime stream.
//!
//! This is the only module that moves bytes. It writes whatever the core queues
//! (`poll_transmit`), feeds whatever arrives to it (`handle_input`), honours its deadline
//! (`poll_timeout`/`handle_timeout`) and the configured read timeout, and hands out its events.
//! Protocol decisions (state, pipelining, version-specific encoding) are the core's.
//!
//! # Cancel safety
//!
//! Every await point here can be cancelled by dropping the future:
//! * a cancelled *read* loses nothing — bytes are handed to the core as soon as they are read,
//!   and responses still in flight are drained (or the connection RESET) before the next use;
//! * a cancelled *write* may leave half a message on the wire, so [`BoltConnection::is_reusable`]
//!   turns false (`writing` stays set) and the pool discards the connection.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use futures_util::{AsyncReadExt, AsyncWriteExt};
use quiver_bolt::value::Map;
use quiver_bolt::{
    AuthToken, BoltError, Connection, ConnectionConfig, Event, Failure, Hello, Request, RequestId,
    ServerState, TelemetryApi,
};

use crate::auth::AuthManager;
use crate::config::{Address, AddressResolver};
use crate::error::{Error, Result, ServerError};
use crate::io::{KeptSleep, earliest, with_deadline, with_kept_deadline};
use crate::routing::{FailureVerdict, SsrTracker};
use crate::runtime::{ConnectTarget, Runtime};
use crate::summary::ServerInfo;
use crate::tls::{MaybeTls, TlsConnector};

/// How many bytes one read asks for.
const READ_CHUNK: usize = 64 * 1024;

/// A response to one request (records are delivered separately).
#[derive(Debug)]
pub(crate) enum Response {
    Success(Map),
    Failure(Failure),
    Ignored,
}

/// Everything needed to open connections, shared by every server's pool.
pub(crate) struct ConnectSettings {
    pub(crate) bolt: ConnectionConfig,
    pub(crate) auth_manager: Arc<dyn AuthManager>,
    pub(crate) connection_timeout: Duration,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) keep_alive: bool,
    pub(crate) telemetry: bool,
    pub(crate) tls: Option<TlsConnector>,
    /// The custom address resolver, if any.
    pub(crate) resolver: Option<Arc<dyn AddressResolver>>,
    /// Counts the open connections with and without server-side routing (Bolt 5.8 hint).
    pub(crate) ssr: Arc<SsrTracker>,
}

/// What a routing driver's connection reports about its server as it happens: the cluster
/// forgets an unreachable server at once (not when the connection goes back to the pool), and
/// a server that stopped being a database's writer as that database's writer.
pub(crate) trait RoutingEvents: Send + Sync {
    /// `address` cannot be reached (I/O failure, a dead connection, `DatabaseUnavailable`).
    fn unreachable(&self, address: &Address);
    /// `address` is not the writer of `database` (NotALeader, ForbiddenOnReadOnlyDatabase).
    fn not_writer(&self, address: &Address, database: Option<&str>);
}

/// One server connections go to: what its pool is keyed by, and how to reach it.
pub(crate) struct Endpoint {
    /// The server as the URI or a routing table names it: the pool's key, and what
    /// [`ServerInfo::address`] reports.
    pub(crate) address: Address,
    /// Where the TCP connection goes: `address`, or an IP address the routing driver resolved
    /// the initial router's name to.
    pub(crate) dial: Address,
    /// The host name TLS verifies the certificate against (and sends as SNI).
    pub(crate) tls_name: String,
    /// Pass `address` through the custom resolver for every new connection, as the Python
    /// driver does (not for the addresses a routing driver resolved its initial router to).
    pub(crate) resolve_per_connection: bool,
    /// Counts the `AuthorizationExpired` failures on connections to this server. The server
    /// sends one when it no longer trusts the credentials it checked (e.g. after a change of
    /// the auth provider's keys), and that holds for every connection to it: a connection
    /// authenticated before the last one is re-authenticated (LOGOFF + LOGON, even with the same
    /// token) or, before Bolt 5.1, replaced before its next use, as the official drivers do by
    /// marking all connections to the address unauthenticated.
    pub(crate) auth_epoch: Arc<AtomicU64>,
    /// The cluster to tell about the server (routing drivers only).
    pub(crate) routing: Option<Weak<dyn RoutingEvents>>,
}

impl Endpoint {
    /// An endpoint reached at the address it is named by.
    pub(crate) fn new(address: Address) -> Self {
        Endpoint {
            dial: address.clone(),
            tls_name: address.host.clone(),
            address,
            resolve_per_connection: false,
            auth_epoch: Arc::default(),
            routing: None,
        }
    }
}

pub(crate) struct BoltConnection<R: Runtime> {
    bolt: Connection,
    stream: MaybeTls<R::Stream>,
    runtime: R,
    read_buf: Box<[u8]>,
    pub(crate) server: Arc<ServerInfo>,
    /// The token this connection is authenticated with.
    pub(crate) auth: AuthToken,
    /// The server's [`Endpoint::auth_epoch`], and its value when this connection last
    /// authenticated.
    auth_epoch: Arc<AtomicU64>,
    authenticated_in_epoch: u64,
    /// The auth manager `auth` came from, told about the connection's security failures;
    /// `None` for a token given by the caller (per-session auth, `verify_authentication`),
    /// whose failures no manager hears of (as the official drivers' static session managers).
    auth_manager: Option<Arc<dyn AuthManager>>,
    /// TELEMETRY may be sent: the driver allows it, the server asked for it (`telemetry.enabled`
    /// hint) and speaks Bolt 5.4+.
    telemetry: bool,
    /// The TELEMETRY in flight whose SUCCESS someone waits to hear about (a transaction
    /// function sends it only until one attempt's got through).
    telemetry_ack: Option<(RequestId, Arc<AtomicBool>)>,
    pub(crate) created: Instant,
    pub(crate) last_used: Instant,
    read_timeout: Option<Duration>,
    /// The timer of the read deadlines, kept from read to read (see [`KeptSleep`]).
    read_sleep: KeptSleep,
    /// Set while a write is in progress: if the write future is dropped, the stream may hold half
    /// a message and the connection must not be reused.
    writing: bool,
    /// A read or write failed, or the server closed the connection.
    broken: bool,
    /// The last FAILURE, to explain the IGNORED answers that follow it.
    last_failure: Option<Failure>,
    /// The auth manager answered `true` for the last FAILURE (see [`Self::failure_error`]).
    last_failure_handled: bool,
    /// LOGOFF/LOGON of a re-authentication whose answers have not been read yet (they are
    /// pipelined with the next request, as official drivers do).
    pending_auth: Vec<RequestId>,
    /// Opened and authenticated for the current user, never yet back in the pool.
    pub(crate) fresh: bool,
    /// A routing driver's: who to tell about this server, and the database of the work the
    /// connection was handed out for (see [`set_routing_database`](Self::set_routing_database)).
    routing: Option<RoutingLink>,
    /// The server routes queries itself (Bolt 5.8 hint); counted in the tracker until dropped.
    ssr_enabled: bool,
    ssr: Arc<SsrTracker>,
}

/// A routing driver connection's link to its cluster.
struct RoutingLink {
    events: Weak<dyn RoutingEvents>,
    address: Address,
    database: Option<String>,
    /// The cluster was told the server is unreachable (once is enough).
    reported: bool,
}

impl<R: Runtime> Drop for BoltConnection<R> {
    fn drop(&mut self) {
        if self.server.protocol_version != (0, 0) {
            self.ssr.closed(self.ssr_enabled);
        }
    }
}

impl<R: Runtime> BoltConnection<R> {
    /// Connect, handshake and authenticate with `auth`, which came from `auth_manager` (`None`:
    /// from the caller): to the driver's address, or with a custom resolver to the first of the
    /// addresses it returns that accepts a connection (as the official drivers, which call it
    /// for every new connection).
    pub(crate) async fn open(
        runtime: &R,
        settings: &ConnectSettings,
        endpoint: &Endpoint,
        auth: &AuthToken,
        auth_manager: Option<Arc<dyn AuthManager>>,
    ) -> Result<Self> {
        let requested = &endpoint.address;
        let resolver = match &settings.resolver {
            Some(resolver) if endpoint.resolve_per_connection => resolver,
            _ => {
                let dial = &endpoint.dial;
                let (tls_name, reported) = (&endpoint.tls_name, &endpoint.address);
                return Self::open_at(
                    runtime,
                    settings,
                    endpoint,
                    [dial, reported],
                    tls_name,
                    auth,
                    auth_manager,
                )
                .await;
            }
        };
        let candidates = resolver.resolve(requested);
        tracing::debug!(
            "server.address" = %requested,
            resolved = ?candidates.iter().map(Address::to_string).collect::<Vec<_>>(),
            "custom resolver"
        );
        let mut failures = Vec::with_capacity(candidates.len());
        let mut first_source = None;
        for candidate in &candidates {
            // Each address gets its own connection timeout (`open_at` starts it). Only failures
            // to reach a Bolt server there move on to the next address: a server that refuses
            // the credentials, or is not Neo4j, answers for all of them.
            // A routing driver's connection reports the server as its routing table names it.
            let reported = if endpoint.routing.is_some() {
                requested
            } else {
                candidate
            };
            let opened = Self::open_at(
                runtime,
                settings,
                endpoint,
                [candidate, reported],
                &candidate.host,
                auth,
                auth_manager.clone(),
            )
            .await;
            let (reason, source) = match opened {
                Ok(conn) => return Ok(conn),
                Err(Error::ServiceUnavailable { reason, source, .. }) => (reason, source),
                Err(Error::Protocol(reason)) => (reason, None),
                Err(other) => return Err(other),
            };
            tracing::debug!("server.address" = %candidate, %reason, "could not connect");
            failures.push(match &source {
                Some(error) => format!("{candidate}: {reason} ({error})"),
                None => format!("{candidate}: {reason}"),
            });
            if first_source.is_none() {
                first_source = source;
            }
        }
        let reason = if candidates.is_empty() {
            "the address resolver returned no addresses".to_owned()
        } else {
            format!(
                "could not connect to any of the {} addresses the resolver returned [{}]",
                candidates.len(),
                failures.join("; ")
            )
        };
        Err(Error::ServiceUnavailable {
            address: requested.to_string(),
            reason,
            source: first_source,
        })
    }

    /// [`open`](Self::open) at one address: `[dial, reported]` are where the TCP connection
    /// goes (DNS-resolved by the runtime) and the address the connection reports; the
    /// certificate must match `tls_name`.
    async fn open_at(
        runtime: &R,
        settings: &ConnectSettings,
        endpoint: &Endpoint,
        [address, reported]: [&Address; 2],
        tls_name: &str,
        auth: &AuthToken,
        auth_manager: Option<Arc<dyn AuthManager>>,
    ) -> Result<Self> {
        let authority = reported.to_string();
        let authenticated_in_epoch = endpoint.auth_epoch.load(Ordering::SeqCst);
        let now = runtime.now();
        let deadline = now + settings.connection_timeout;
        let mut target = ConnectTarget::new(address.host.clone(), address.port);
        target.deadline = Some(deadline);
        target.keep_alive = settings.keep_alive;
        let tcp = match with_deadline(runtime, Some(deadline), runtime.connect(&target)).await {
            Some(Ok(tcp)) => tcp,
            Some(Err(e)) => {
                return Err(Error::service_unavailable(
                    &authority,
                    "could not connect",
                    Some(e),
                ));
            }
            None => {
                return Err(Error::service_unavailable(
                    &authority,
                    format!(
                        "connecting timed out after {:?}",
                        settings.connection_timeout
                    ),
                    None,
                ));
            }
        };
        let stream = match &settings.tls {
            None => MaybeTls::Plain(tcp),
            Some(tls) => {
                match with_deadline(runtime, Some(deadline), tls.connect(tls_name, tcp)).await {
                    Some(Ok(stream)) => stream,
                    Some(Err(e)) => {
                        return Err(Error::service_unavailable(
                            &authority,
                            "TLS handshake failed",
                            Some(e),
                        ));
                    }
                    None => {
                        return Err(Error::service_unavailable(
                            &authority,
                            "TLS handshake timed out",
                            None,
                        ));
                    }
                }
            }
        };
        let mut bolt = Connection::new(settings.bolt.clone(), now);
        bolt.send(Request::Hello(Hello::new(auth.clone())))
            .map_err(|e| Error::Protocol(e.to_string()))?;
        let mut conn = BoltConnection {
            bolt,
            stream,
            runtime: runtime.clone(),
            read_buf: vec![0; READ_CHUNK].into_boxed_slice(),
            server: Arc::new(ServerInfo {
                address: authority.clone(),
                agent: String::new(),
                protocol_version: (0, 0),
            }),
            auth: auth.clone(),
            auth_epoch: endpoint.auth_epoch.clone(),
            authenticated_in_epoch,
            auth_manager,
            telemetry: false,
            telemetry_ack: None,
            created: now,
            last_used: now,
            // The connection timeout covers TCP (and TLS) only; the Bolt handshake and HELLO are
            // bounded by the pool's acquisition timeout (as in the official drivers) and by the
            // read timeout, if one is set.
            read_timeout: settings.read_timeout,
            read_sleep: KeptSleep::default(),
            writing: false,
            broken: false,
            last_failure: None,
            last_failure_handled: false,
            pending_auth: Vec::new(),
            fresh: true,
            routing: endpoint.routing.as_ref().map(|events| RoutingLink {
                events: events.clone(),
                address: endpoint.address.clone(),
                database: None,
                reported: false,
            }),
            ssr_enabled: false,
            ssr: settings.ssr.clone(),
        };
        loop {
            match conn.next_event().await? {
                Event::Ready { .. } => break,
                Event::Failure { failure, .. } => return Err(conn.failure_error(*failure)),
                _ => {}
            }
        }
        if let Some(info) = conn.bolt.server_info() {
            if !info.agent.starts_with("Neo4j/") {
                let agent = info.agent.clone();
                conn.goodbye().await;
                return Err(Error::UnsupportedServer { agent });
            }
            // The hint means nothing before Bolt 5.4 (no TELEMETRY message there).
            conn.telemetry = settings.telemetry
                && info.telemetry_enabled
                && (info.version.major, info.version.minor) >= (5, 4);
            conn.ssr_enabled = info.ssr_enabled;
            conn.server = Arc::new(ServerInfo {
                address: authority,
                agent: info.agent.clone(),
                protocol_version: (info.version.major, info.version.minor),
            });
            conn.ssr.opened(conn.ssr_enabled);
        }
        Ok(conn)
    }

    /// Switch the authenticated user in place with LOGOFF + LOGON (Bolt 5.1+). Nothing is
    /// awaited: the two go out with the next request (the server answers them first), and a
    /// refused LOGON fails whatever reads its answer (see [`next_event`](Self::next_event));
    /// [`await_auth`](Self::await_auth) waits for the verdict explicitly. `auth_manager` is
    /// where `auth` came from (`None`: from the caller).
    pub(crate) fn reauth(
        &mut self,
        auth: &AuthToken,
        auth_manager: Option<Arc<dyn AuthManager>>,
    ) -> Result<()> {
        let logoff = self.send(Request::Logoff)?;
        let logon = self.send(Request::Logon(auth.clone()))?;
        self.pending_auth.extend([logoff, logon]);
        self.auth = auth.clone();
        self.auth_manager = auth_manager;
        self.authenticated_in_epoch = self.auth_epoch.load(Ordering::SeqCst);
        Ok(())
    }

    /// Whether no connection to the server got `AuthorizationExpired` since this one last
    /// authenticated (see [`ConnectSettings::auth_epoch`]).
    pub(crate) fn authorization_is_current(&self) -> bool {
        self.authenticated_in_epoch == self.auth_epoch.load(Ordering::SeqCst)
    }

    /// The connection goes on with its token, which now stands for `auth_manager` (`None`:
    /// for the caller): a pooled connection handed out with the token it already has.
    pub(crate) fn keep_auth(&mut self, auth_manager: Option<Arc<dyn AuthManager>>) {
        self.auth_manager = auth_manager;
    }

    /// Whether a pipelined [`reauth`](Self::reauth) awaits its answers.
    pub(crate) fn reauth_pending(&self) -> bool {
        !self.pending_auth.is_empty()
    }

    /// Wait for the answers to a pipelined [`reauth`](Self::reauth), if any.
    pub(crate) async fn await_auth(&mut self) -> Result<()> {
        while !self.pending_auth.is_empty() {
            self.next_event().await?;
        }
        Ok(())
    }

    /// Whether [`reauth`](Self::reauth) is possible.
    pub(crate) fn supports_reauth(&self) -> bool {
        self.version() >= (5, 1)
    }

    /// Queue a request (sent with the next flush; [`next_event`](Self::next_event) flushes).
    pub(crate) fn send(&mut self, request: Request) -> Result<RequestId> {
        self.bolt.send(request).map_err(|e| self.bolt_error(e))
    }

    /// Queue a TELEMETRY message naming the API in use (sent with the next flush, pipelined with
    /// the work it describes), if telemetry is on for this connection; `acked` is set when the
    /// server answers it with SUCCESS.
    pub(crate) fn send_telemetry(
        &mut self,
        api: TelemetryApi,
        acked: Option<&Arc<AtomicBool>>,
    ) -> Result<()> {
        if !self.telemetry {
            return Ok(());
        }
        let id = self.send(Request::Telemetry(api))?;
        self.telemetry_ack = acked.map(|flag| (id, flag.clone()));
        Ok(())
    }

    /// Tell the server the connection is closing (GOODBYE, no answer expected). Failures are
    /// ignored: the connection is being dropped anyway.
    pub(crate) async fn goodbye(&mut self) {
        if self.broken || self.bolt.is_defunct() {
            return;
        }
        if self.bolt.send(Request::Goodbye).is_ok() {
            let _ = self.flush().await;
        }
    }

    /// Write everything the core has queued.
    pub(crate) async fn flush(&mut self) -> Result<()> {
        while let Some(bytes) = self.bolt.poll_transmit() {
            let deadline = self.read_timeout.map(|t| self.runtime.now() + t);
            self.writing = true;
            let _ = self
                .runtime
                .set_io_deadline(self.stream.tcp_mut(), deadline);
            let stream = &mut self.stream;
            let written = with_deadline(&self.runtime, deadline, async move {
                stream.write_all(&bytes).await?;
                stream.flush().await
            })
            .await;
            match written {
                Some(Ok(())) => self.writing = false,
                Some(Err(e)) => return Err(self.io_failed("writing to the server failed", Some(e))),
                None => return Err(self.io_failed("writing to the server timed out", None)),
            }
        }
        Ok(())
    }

    /// The next event the core already has, without any I/O (`None`: the next one needs a read).
    /// Lets a caller drain a batch of records without an `await` per record.
    pub(crate) fn buffered_event(&mut self) -> Option<Result<Event>> {
        Some(match self.bolt.poll_event()? {
            Event::Defunct(error) => Err(self.bolt_error(error)),
            // The server refused a pipelined re-authentication (and closes the connection):
            // that failure is the error of whoever is waiting.
            Event::Failure { id, failure } if self.pending_auth.contains(&id) => {
                self.pending_auth.clear();
                self.received_failure(&failure);
                Err(self.failure_error(*failure))
            }
            Event::Failure { id, failure } => {
                self.routing_verdict(&failure.code);
                if failure.code == "Neo.ClientError.Security.AuthorizationExpired" {
                    // The server closes the connection after this failure (official drivers
                    // close it too): never hand it out again; a retry gets a fresh one. The
                    // other connections to the server re-authenticate before their next use.
                    self.broken = true;
                    self.auth_epoch.fetch_add(1, Ordering::SeqCst);
                }
                self.received_failure(&failure);
                Ok(Event::Failure { id, failure })
            }
            Event::Success { id, metadata } => {
                self.pending_auth.retain(|pending| *pending != id);
                if let Some((telemetry, acked)) = &self.telemetry_ack {
                    if *telemetry == id {
                        acked.store(true, Ordering::Relaxed);
                        self.telemetry_ack = None;
                    }
                }
                Ok(Event::Success { id, metadata })
            }
            event => Ok(event),
        })
    }

    /// Bookkeeping of every FAILURE, once, as it arrives: kept to explain the IGNORED answers
    /// that follow, and a security failure is reported to the auth manager the token came from
    /// (as the official drivers do for every FAILURE, whatever request it answers: HELLO,
    /// LOGON, RUN, PULL, BEGIN, COMMIT, …), whose answer makes the error retryable.
    fn received_failure(&mut self, failure: &Failure) {
        self.last_failure = Some(failure.clone());
        self.last_failure_handled = false;
        let Some(manager) = &self.auth_manager else {
            return;
        };
        if !failure.code.starts_with("Neo.ClientError.Security.") {
            return;
        }
        let error = ServerError::from_failure(failure.clone(), self.protocol_version() >= (5, 7));
        self.last_failure_handled = manager.handle_security_error(&self.auth, &error);
        tracing::debug!(
            code = %failure.code,
            handled = self.last_failure_handled,
            "told the auth manager about a security failure"
        );
    }

    /// A FAILURE this connection received as a driver error, retryable if the auth manager said
    /// it handled it. The failure is always the last one received: after a FAILURE the server
    /// answers IGNORED to everything until a RESET, so no other FAILURE can come in between.
    pub(crate) fn failure_error(&self, failure: Failure) -> Error {
        let mut error = ServerError::from_failure(failure, self.protocol_version() >= (5, 7));
        error.handled_by_auth_manager = self.last_failure_handled;
        Error::from(error)
    }

    /// The negotiated Bolt version, known from the handshake on (the server info is filled in
    /// only after HELLO succeeds).
    fn protocol_version(&self) -> (u8, u8) {
        self.bolt.version().map_or((0, 0), |v| (v.major, v.minor))
    }

    /// The next event from the server, reading as needed (queued requests are flushed first).
    pub(crate) async fn next_event(&mut self) -> Result<Event> {
        // Fixed for this wait: early wake-ups must not push the read deadline out.
        let mut read_deadline = None;
        loop {
            if let Some(event) = self.buffered_event() {
                return event;
            }
            if self.broken || self.bolt.is_defunct() {
                return Err(Error::service_unavailable(
                    &self.server.address,
                    "the connection is closed",
                    None,
                ));
            }
            self.flush().await?;
            let now = self.runtime.now();
            if self
                .bolt
                .poll_timeout()
                .is_some_and(|deadline| deadline <= now)
            {
                // Lets the core arm its receive timer (or declare the connection dead).
                self.bolt.handle_timeout(now);
                continue;
            }
            let read_deadline =
                *read_deadline.get_or_insert_with(|| self.read_timeout.map(|t| now + t));
            self.read_some(read_deadline).await?;
        }
    }

    /// Read once (with deadlines) and feed the core.
    async fn read_some(&mut self, read_deadline: Option<Instant>) -> Result<()> {
        let core_deadline = self.bolt.poll_timeout();
        let deadline = earliest(core_deadline, read_deadline);
        let _ = self
            .runtime
            .set_io_deadline(self.stream.tcp_mut(), deadline);
        let stream = &mut self.stream;
        let buf = &mut self.read_buf;
        // May end early, at an earlier read's deadline: `timed_out` then finds neither deadline
        // passed and the caller reads again.
        let read = with_kept_deadline(
            &self.runtime,
            &mut self.read_sleep,
            deadline,
            stream.read(buf),
        )
        .await;
        let now = self.runtime.now();
        match read {
            Some(Ok(0)) => Err(self.io_failed("the server closed the connection", None)),
            Some(Ok(n)) => {
                self.last_used = now;
                let data = self.read_buf.get(..n).unwrap_or_default();
                self.bolt
                    .handle_input(data, now)
                    .map_err(|e| self.bolt_error(e))
            }
            Some(Err(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                self.timed_out(now, core_deadline, read_deadline)
            }
            Some(Err(e)) => Err(self.io_failed("reading from the server failed", Some(e))),
            None => self.timed_out(now, core_deadline, read_deadline),
        }
    }

    fn timed_out(
        &mut self,
        now: Instant,
        core_deadline: Option<Instant>,
        read_deadline: Option<Instant>,
    ) -> Result<()> {
        if core_deadline.is_some_and(|d| now >= d) {
            // The core decides what its own deadline means (the server's recv_timeout hint); its
            // Defunct event comes out of the next poll_event.
            self.bolt.handle_timeout(now);
            if self.bolt.is_defunct() {
                return Ok(());
            }
        }
        if read_deadline.is_some_and(|d| now >= d) {
            return Err(self.io_failed(
                &format!(
                    "the server sent nothing for {:?} (read timeout)",
                    self.read_timeout.unwrap_or_default()
                ),
                None,
            ));
        }
        Ok(())
    }

    /// Wait for the response to `id`, skipping whatever earlier requests still have in flight.
    pub(crate) async fn response(&mut self, id: RequestId) -> Result<Response> {
        loop {
            match self.next_event().await? {
                Event::Success { id: got, metadata } if got == id => {
                    return Ok(Response::Success(metadata));
                }
                Event::Failure { id: got, failure } if got == id => {
                    return Ok(Response::Failure(*failure));
                }
                Event::Ignored { id: got } if got == id => return Ok(Response::Ignored),
                _ => {}
            }
        }
    }

    /// Wait for the response to `id` and turn FAILURE/IGNORED into errors.
    pub(crate) async fn expect_success(&mut self, id: RequestId) -> Result<Map> {
        match self.response(id).await? {
            Response::Success(metadata) => Ok(metadata),
            Response::Failure(failure) => Err(self.failure_error(failure)),
            Response::Ignored => Err(self.ignored_error()),
        }
    }

    /// The error explaining an IGNORED answer: the failure that preceded it.
    pub(crate) fn ignored_error(&self) -> Error {
        match &self.last_failure {
            Some(failure) => self.failure_error(failure.clone()),
            None => {
                Error::Protocol("the server ignored a request without a preceding failure".into())
            }
        }
    }

    /// How many requests await their answer.
    pub(crate) fn in_flight(&self) -> usize {
        self.bolt.in_flight()
    }

    /// Drain every response still in flight (of abandoned results or transactions).
    pub(crate) async fn drain(&mut self) -> Result<()> {
        while self.bolt.in_flight() > 0 {
            self.next_event().await?;
        }
        Ok(())
    }

    /// Bring the connection back to READY: drain, then RESET unless already READY.
    pub(crate) async fn reset(&mut self) -> Result<()> {
        self.drain().await?;
        if self.bolt.server_state() != ServerState::Ready || self.bolt.needs_reset() {
            let id = self.send(Request::Reset)?;
            self.expect_success(id).await?;
        }
        self.last_failure = None;
        self.last_failure_handled = false;
        Ok(())
    }

    /// A RESET round trip even on a READY connection: proves the server is still there (the
    /// liveness check of official drivers).
    pub(crate) async fn ping(&mut self) -> Result<()> {
        self.drain().await?;
        let id = self.send(Request::Reset)?;
        self.expect_success(id).await?;
        self.last_failure = None;
        self.last_failure_handled = false;
        Ok(())
    }

    /// An auto-commit result left unfinished: receive what is in flight, DISCARD the rest (as
    /// official drivers do when a session closes), and RESET only if still not READY.
    pub(crate) async fn discard_open_result(&mut self) -> Result<()> {
        self.drain().await?;
        if self.bolt.server_state() == ServerState::Streaming && !self.bolt.needs_reset() {
            let id = self.send(Request::Discard { n: -1, qid: -1 })?;
            self.expect_success(id).await?;
        }
        self.reset().await
    }

    /// Whether the connection can go back to the pool (it may still need a RESET).
    pub(crate) fn is_reusable(&self) -> bool {
        !self.broken && !self.writing && !self.bolt.is_defunct()
    }

    /// Whether the connection is READY with nothing in flight (no RESET needed before reuse).
    pub(crate) fn is_clean(&self) -> bool {
        self.is_reusable()
            && self.bolt.in_flight() == 0
            && self.bolt.server_state() == ServerState::Ready
            && !self.bolt.needs_reset()
    }

    /// The negotiated Bolt version.
    pub(crate) fn version(&self) -> (u8, u8) {
        self.server.protocol_version
    }

    fn io_failed(&mut self, what: &str, source: Option<io::Error>) -> Error {
        self.broken = true;
        self.lost(what, source)
    }

    fn bolt_error(&mut self, error: BoltError) -> Error {
        if error.is_fatal() {
            self.broken = true;
        }
        match error {
            BoltError::ReceiveTimeout { .. } => self.lost(&error.to_string(), None),
            BoltError::Defunct => self.lost("the connection is defunct", None),
            other => {
                if self.broken {
                    self.report_unreachable();
                }
                match other {
                    // The core's message names its own knob; driver users set the driver's.
                    BoltError::MessageTooLarge { limit } => Error::Protocol(format!(
                        "a message from the server exceeds the maximum message size of {limit} \
                         bytes; the connection was closed. If such messages are expected, raise \
                         the limit with Config::with_max_message_size"
                    )),
                    other => Error::Protocol(other.to_string()),
                }
            }
        }
    }

    /// The error for a lost connection: [`Error::ServiceUnavailable`] for a direct driver; for
    /// a routing driver [`Error::SessionExpired`] (this server is gone, the cluster is not),
    /// after telling the cluster to forget the server.
    fn lost(&mut self, what: &str, source: Option<io::Error>) -> Error {
        if self.routing.is_none() {
            return Error::service_unavailable(&self.server.address, what, source);
        }
        self.report_unreachable();
        Error::SessionExpired(match source {
            Some(e) => format!(
                "the connection to {} was lost: {what} ({e})",
                self.server.address
            ),
            None => format!("the connection to {} was lost: {what}", self.server.address),
        })
    }

    fn report_unreachable(&mut self) {
        // A server hangs up after refusing a connection's credentials (TokenExpired,
        // Unauthorized, other security failures: TestKit's scripts end with `<EXIT>` there,
        // and the RESET that follows the FAILURE meets a closed socket). That says nothing
        // about the server, which still serves other connections: only this one is gone, and
        // the server stays in the routing tables (as with the official drivers).
        if self
            .last_failure
            .as_ref()
            .is_some_and(|failure| failure.code.starts_with("Neo.ClientError.Security."))
        {
            return;
        }
        if let Some(link) = &mut self.routing {
            if !std::mem::replace(&mut link.reported, true) {
                if let Some(events) = link.events.upgrade() {
                    events.unreachable(&link.address);
                }
            }
        }
    }

    /// Tell the cluster what a FAILURE says about this server.
    fn routing_verdict(&mut self, code: &str) {
        match FailureVerdict::of(code) {
            FailureVerdict::None => {}
            FailureVerdict::Unavailable => self.report_unreachable(),
            FailureVerdict::NotWriter => {
                if let Some(link) = &self.routing {
                    if let Some(events) = link.events.upgrade() {
                        events.not_writer(&link.address, link.database.as_deref());
                    }
                }
            }
        }
    }

    /// A routing driver hands the connection out for work on `database` (whose writer a
    /// NotALeader failure is about).
    pub(crate) fn set_routing_database(&mut self, database: Option<&str>) {
        if let Some(link) = &mut self.routing {
            if link.database.as_deref() != database {
                link.database = database.map(str::to_owned);
            }
        }
    }

    /// Stop (or resume) telling the cluster that the server is unreachable when this
    /// connection breaks.
    pub(crate) fn mute_routing_events(&mut self, mute: bool) {
        if let Some(link) = &mut self.routing {
            link.reported = mute;
        }
    }

    /// Whether the server said (Bolt 5.8 hint) that it routes queries itself.
    pub(crate) fn ssr_enabled(&self) -> bool {
        self.ssr_enabled
    }

    /// Send ROUTE and wait for the table (a routing driver's discovery).
    pub(crate) async fn route(&mut self, route: quiver_bolt::Route) -> Result<Map> {
        let id = self.send(Request::Route(route))?;
        self.expect_success(id).await
    }
}
