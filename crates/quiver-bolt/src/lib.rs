//! The Neo4j Bolt protocol (4.4, 5.0–5.8, 6.0) as a sans-IO state machine, client and server
//! side: bytes and time go in, bytes, events and deadlines come out.
//!
//! [`Connection`] is the client side of one Bolt connection. It does no I/O: no sockets, no
//! clock reads, no threads, no runtime. A driver (tokio, smol, blocking …) moves the bytes and
//! passes the time; everything here is testable by feeding bytes.
//!
//! # What it does
//! * the handshake: magic `60 60 B0 17`, version ranges newest first, the manifest v1
//!   negotiation of Bolt 5.7+/6.0 servers, a typed error for "no common version" and for a port
//!   that speaks HTTP;
//! * chunking: outgoing messages in chunks of ≤ 65535 bytes, incoming ones reassembled across
//!   any read boundary, NOOP keep-alives skipped, a maximum message size
//!   ([`ConnectionConfig::max_message_size`], default 64 MiB) bounding memory;
//! * every request of Bolt 4.4–6.0 with its per-version metadata ([`Request`]); HELLO is split
//!   into HELLO + LOGON on 5.1+;
//! * responses as [`Event`]s tied to the [`RequestId`] they answer: records as they arrive,
//!   SUCCESS metadata (typed readers in [`metadata`]), FAILURE with the 5.7+ GQL fields
//!   ([`Failure`]), IGNORED;
//! * the server's state ([`ServerState`]): [`Connection::send`] refuses, with a typed error,
//!   what the server would refuse; pipelining with in-order matching; FAILURE → IGNORED → RESET;
//! * garbage or a protocol violation makes the connection DEFUNCT with an error — never a panic;
//! * the server's `connection.recv_timeout_seconds` hint as a deadline
//!   ([`Connection::poll_timeout`]).
//!
//! Values (nodes, temporal types, vectors …) are in [`value`], encoded and decoded per
//! negotiated version.
//!
//! [`server::ServerConnection`] is the other side: the server role, for stub servers, simulated
//! clusters and tests (see [The server role](#the-server-role)). Both roles share the codec, the
//! chunking and the message types ([`ClientMessage`] is what the client writes and the server
//! reads).
//!
//! # What it does not do
//! Sockets, TLS, DNS, pools, routing tables' lifetimes, retries, sessions: that is the driver's
//! job.
//!
//! # The driving loop
//! After every call that changes the connection ([`Connection::new`], [`send`](Connection::send),
//! [`handle_input`](Connection::handle_input), [`handle_timeout`](Connection::handle_timeout)),
//! drain in this order: [`poll_transmit`](Connection::poll_transmit) (write the bytes),
//! [`poll_event`](Connection::poll_event) (until `None`), then
//! [`poll_timeout`](Connection::poll_timeout) (read with that deadline; when it passes, call
//! `handle_timeout`). A blocking driver:
//!
//! ```no_run
//! # use std::io::{Read, Write};
//! # use std::time::Instant;
//! # use quiver_bolt::*;
//! let mut socket = std::net::TcpStream::connect("localhost:7687")?;
//! let mut conn = Connection::new(ConnectionConfig::default(), Instant::now());
//! conn.send(Request::Hello(Hello::new(AuthToken::basic("neo4j", "password"))))?;
//! let mut buf = vec![0; 64 * 1024];
//! loop {
//!     while let Some(bytes) = conn.poll_transmit() {
//!         socket.write_all(&bytes)?;
//!     }
//!     while let Some(event) = conn.poll_event() {
//!         println!("{event:?}");
//!         if let Event::Ready { .. } = event {
//!             let _ = conn.send(Request::run("RETURN 1 AS x", Default::default()))?;
//!             let _ = conn.send(Request::pull_all())?;
//!         }
//!     }
//!     if conn.version().is_some() && conn.in_flight() == 0 {
//!         break;
//!     }
//!     // A real driver sets the read timeout from `conn.poll_timeout()`.
//!     let n = socket.read(&mut buf)?;
//!     if n == 0 {
//!         break;
//!     }
//!     conn.handle_input(&buf[..n], Instant::now())?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # A whole exchange from byte slices
//! The server's bytes are written out by hand here: handshake reply (Bolt 5.8), SUCCESS for HELLO
//! and LOGON, SUCCESS for RUN, one RECORD, SUCCESS for PULL.
//!
//! ```
//! use std::time::Instant;
//! use quiver_bolt::value::Value;
//! use quiver_bolt::*;
//!
//! let now = Instant::now();
//! let mut conn = Connection::new(ConnectionConfig::default(), now);
//! let handshake = conn.poll_transmit().unwrap();
//! assert_eq!(&handshake[..4], &[0x60, 0x60, 0xB0, 0x17]);
//! let hello = conn.send(Request::Hello(Hello::new(AuthToken::basic("neo4j", "secret"))))?;
//!
//! conn.handle_input(&[0x00, 0x00, 0x08, 0x05], now)?; // the server chose 5.8
//! assert_eq!(conn.version(), Some(Version::new(5, 8)));
//! let hello_and_logon = conn.poll_transmit().unwrap(); // HELLO + LOGON in one write
//! assert_eq!(&hello_and_logon[2..4], &[0xB1, 0x01]);
//!
//! // SUCCESS {server: "Neo4j/5.26.0", connection_id: "bolt-1"}, then SUCCESS {} for LOGON.
//! conn.handle_input(b"\x00\x2c\xb1\x70\xa2\x86server\x8cNeo4j/5.26.0\x8dconnection_id\x86bolt-1\x00\x00", now)?;
//! conn.handle_input(b"\x00\x03\xb1\x70\xa0\x00\x00", now)?;
//! assert!(matches!(conn.poll_event(), Some(Event::Success { id, .. }) if id == hello));
//! let Some(Event::Ready { server, .. }) = conn.poll_event() else { panic!() };
//! assert_eq!(server.agent, "Neo4j/5.26.0");
//!
//! let run = conn.send(Request::run("RETURN 1 AS x", Default::default()))?;
//! let pull = conn.send(Request::pull_all())?;
//! let run_and_pull = conn.poll_transmit().unwrap(); // both in one write
//! assert!(run_and_pull.len() > 20);
//!
//! // SUCCESS {fields: ["x"]}, RECORD [1], SUCCESS {} — here in one read, split anywhere works too.
//! conn.handle_input(
//!     b"\x00\x0d\xb1\x70\xa1\x86fields\x91\x81x\x00\x00\
//!       \x00\x04\xb1\x71\x91\x01\x00\x00\
//!       \x00\x03\xb1\x70\xa0\x00\x00",
//!     now,
//! )?;
//! let Some(Event::Success { id, metadata }) = conn.poll_event() else { panic!() };
//! assert_eq!(id, run);
//! assert_eq!(metadata::fields(&metadata).unwrap(), ["x"]);
//! assert_eq!(conn.poll_event(), Some(Event::Record { id: pull, fields: vec![Value::Integer(1)] }));
//! assert!(matches!(conn.poll_event(), Some(Event::Success { id, .. }) if id == pull));
//! assert_eq!(conn.server_state(), ServerState::Ready);
//! assert_eq!(conn.in_flight(), 0);
//! # Ok::<(), BoltError>(())
//! ```
//!
//! # Pipelining
//! `send` only queues; several requests may be in flight, and `poll_transmit` returns all queued
//! bytes as one buffer. Responses are matched to requests in order. After a FAILURE the server
//! answers IGNORED to everything queued behind it until a RESET; [`Connection::needs_reset`]
//! says so and `send` refuses anything but RESET (and GOODBYE) meanwhile.
//!
//! # The server role
//! [`server::ServerConnection`] accepts the preamble and the version proposals (classic and
//! manifest v1, from the ranges of [`server::ServerConfig::versions`]), decodes every request of
//! Bolt 4.4–6.0 into a [`ClientMessage`] — keeping the message as sent
//! ([`server::RawMessage`]) — encodes SUCCESS, RECORD, FAILURE (with the 5.7+ GQL fields) and
//! IGNORED, and tracks the server state. In [`server::ServerMode::Strict`] (the default) it
//! answers by itself what Neo4j 5.26 answers without running anything (IGNORED after a failure,
//! FAILURE and a close for a request the state forbids, …); in
//! [`server::ServerMode::Manual`] every request goes to the application with the
//! [`server::Verdict`] a real server would give it. Same driving loop as the client: bytes in,
//! then `poll_transmit`, `poll_event`, `poll_timeout`.
//!
//! A client and a server in memory:
//!
//! ```
//! use std::time::Instant;
//! use quiver_bolt::server::{ServerConfig, ServerConnection, ServerEvent};
//! use quiver_bolt::value::Map;
//! use quiver_bolt::*;
//!
//! let now = Instant::now();
//! let mut client = Connection::new(ConnectionConfig::default(), now);
//! let mut server = ServerConnection::new(ServerConfig::default(), now);
//! client.send(Request::Hello(Hello::new(AuthToken::basic("neo4j", "secret"))))?;
//! // Three round trips: the preamble, the manifest choice with HELLO + LOGON, the answers.
//! for _ in 0..3 {
//!     while let Some(bytes) = client.poll_transmit() {
//!         server.handle_input(&bytes, now)?;
//!     }
//!     while let Some(event) = server.poll_event() {
//!         if let ServerEvent::Request(request) = event {
//!             println!("the client sent {:?}", request.message);
//!             server.success(Map::new())?; // HELLO, then LOGON
//!         }
//!     }
//!     while let Some(bytes) = server.poll_transmit() {
//!         client.handle_input(&bytes, now)?;
//!     }
//! }
//! assert!(matches!(client.poll_event(), Some(Event::Success { .. })));
//! assert!(matches!(client.poll_event(), Some(Event::Ready { version: Version::V6_0, .. })));
//! assert_eq!(server.state(), ServerState::Ready);
//! # Ok::<(), BoltError>(())
//! ```
//!
//! # Errors
//! [`BoltError`] says who is to blame; fatal errors (the server's or the network's) make the
//! connection defunct and are sticky. See its documentation.
//!
//! # Details a driver needs to know
//! * **HELLO** is one [`Request::Hello`] whatever the version: on 5.1+ the core sends HELLO and
//!   LOGON together. It is answered by one [`Event::Success`] (both metadata maps merged) and
//!   then [`Event::Ready`], or by one [`Event::Failure`] after which the connection is defunct
//!   (the server closes it; checked against Neo4j 5.26 for a failed LOGON too). It may be sent
//!   before the handshake reply arrives; it is then encoded once the version is known.
//! * Every other request is refused with [`BoltError::InvalidRequest`] until
//!   [`Event::Ready`] (so that parameters are encoded for the right version and, on 4.4, with
//!   the right date-time form).
//! * Pipelines are validated against what holds whatever the server answers: a PULL/DISCARD
//!   with `n = -1` ends its stream; one with `n ≥ 0` may or may not, so until its SUCCESS
//!   arrives only RESET/GOODBYE may follow it on an auto-commit stream (inside a transaction,
//!   RUN/COMMIT/ROLLBACK, and PULL/DISCARD of other streams that are surely open, may).
//! * **Time**: the only timer is the server's `connection.recv_timeout_seconds` hint. While a
//!   response is due, silence longer than that makes the connection defunct with
//!   [`BoltError::ReceiveTimeout`]. Any received byte restarts the clock. `send` takes no time
//!   argument, so right after requests leave, [`Connection::poll_timeout`] may return an instant
//!   in the past: call [`Connection::handle_timeout`] (or `handle_input`) with the current time
//!   and ask again — the core then reports the real deadline.
//! * **Memory**: one incoming message is at most
//!   [`ConnectionConfig::max_message_size`] bytes; a partial chunk at most 64 KiB; nothing is
//!   preallocated from lengths the server claims. Events queue up until polled: poll them.
//! * [`Event::Failure`] and [`Event::Ready`] box their payloads to keep [`Event`] small (records
//!   are the hot path).

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod chunk;
mod config;
mod connection;
mod error;
mod message;
pub mod metadata;
mod record;
mod request;
pub mod server;
pub mod value;
mod version;

pub use config::{BoltAgent, ConnectionConfig, NotificationFilter};
pub use connection::{Connection, Event, RequestId, ServerState};
pub use error::BoltError;
pub use metadata::{Failure, Role, RoutingTable, RoutingTableError, ServerInfo};
pub use record::RawRecord;
pub use request::{
    AccessMode, AuthToken, ClientMessage, Hello, HelloMessage, Request, Route, Run, TelemetryApi,
    TxExtra,
};
pub use version::{MAGIC, Version, VersionRange};
