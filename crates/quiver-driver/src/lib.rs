//! A runtime-agnostic Neo4j driver core: pool, sessions, transactions with retries, bookmarks,
//! results.
//!
//! `quiver-driver` drives the sans-IO Bolt state machine of `quiver-bolt` over any `futures-io`
//! stream. It contains no tokio, async-std or smol code: an adapter crate (`quiver-tokio`,
//! `quiver-smol`, `quiver-async-std`, `quiver-blocking`) implements the small [`Runtime`] trait —
//! connect, sleep, clock; **no spawning** — and re-exports this crate with the runtime filled in,
//! so applications write `quiver_tokio::Driver::new(…)`. The driver adds no protocol logic of its
//! own: state, pipelining and encoding are `quiver-bolt`'s; this crate decides *when* to send what.
//!
//! # Two examples
//!
//! Run a query and read the names it returns (a managed, retried transaction; consecutive
//! `execute_query` calls are causally consistent):
//!
//! ```no_run
//! # use quiver_driver::{AuthToken, Driver, Result, Runtime};
//! # async fn example<R: Runtime + Default>() -> Result<()> {
//! let driver = Driver::<R>::new("bolt://localhost:7687", AuthToken::basic("neo4j", "password"))?;
//! let result = driver
//!     .execute_query("MATCH (p:Person) WHERE p.age > $age RETURN p.name AS name")
//!     .param("age", 42)
//!     .database("neo4j")
//!     .await?;
//! for record in &result.records {
//!     let name: String = record.get("name")?;
//!     println!("{name}");
//! }
//! println!("{} records in {:?}", result.records.len(), result.summary.result_available_after);
//! # Ok(()) }
//! ```
//!
//! A session running a transaction function: the driver begins a read transaction, runs the
//! function, commits, and runs it again (with exponential backoff) if it failed with a
//! retryable error such as a deadlock or a lost connection:
//!
//! ```no_run
//! # use quiver_driver::{AuthToken, Driver, Query, Result, Runtime, SessionConfig};
//! # async fn example<R: Runtime + Default>(driver: Driver<R>) -> Result<()> {
//! let mut session = driver.session_with(SessionConfig::new().with_database("neo4j"));
//! let names: Vec<String> = session
//!     .execute_read(|tx| async move {
//!         let mut result = tx.run(Query::new("MATCH (p:Person) RETURN p.name AS name")).await?;
//!         let mut names = Vec::new();
//!         while let Some(record) = result.next().await {
//!             names.push(record?.get("name")?);
//!         }
//!         Ok(names)
//!     })
//!     .await?;
//! // Another session sees this one's writes when it starts from its bookmarks.
//! let _reader = driver.session_with(SessionConfig::new().with_bookmarks(session.last_bookmarks()));
//! # let _ = names; Ok(()) }
//! ```
//!
//! # What happens on the wire
//!
//! * An auto-commit [`Session::run`] sends RUN and the first PULL in one write; an explicit
//!   transaction sends BEGIN together with its first RUN and PULL.
//! * Results are pulled `fetch_size` records at a time (default 1000), and the next PULL is only
//!   sent when the consumer has used up the buffered records: real backpressure.
//! * Several results of one explicit transaction may be open at once (Bolt 4.0+ `qid`): each is
//!   pulled lazily with its own stream id, in any order; committing or rolling back DISCARDs
//!   what is still open.
//! * Each connection is driven by the task that holds it; there are no background tasks. Pool
//!   housekeeping (lifetime, liveness checks, cleanup) happens on acquire and release.
//!
//! # Cancel safety
//!
//! Any future, result or transaction may be dropped at any await point. A connection is never
//! handed out dirty: when it comes back to the pool with responses in flight, an open stream or
//! an open transaction, the next user first sends RESET (which also rolls the transaction back)
//! and drains its answers — and discards the connection if that fails. A connection dropped in
//! the middle of a *write* may carry half a message, so it is closed instead. Inside a
//! transaction, a result dropped before its end is DISCARDed when the transaction ends. A dropped
//! open [`Transaction`] is rolled back (DISCARD + ROLLBACK) when its [`Session`] is used again or
//! closed; if the session is dropped instead, by the RESET before its connection's next use.
//! [`Session::close`] also DISCARDs an unfinished auto-commit result. A FAILURE is followed by
//! a RESET at once, as in the official drivers.
//!
//! # Retries
//!
//! [`Session::execute_read`], [`Session::execute_write`] and [`Driver::execute_query`] retry on
//! [`Error::is_retryable`] errors — transient server errors, [`Error::SessionExpired`],
//! [`Error::ServiceUnavailable`] — with exponential backoff ([`RetryConfig`]: 30 s in total,
//! 1 s first delay, ×2, jitter 0.2). When the connection breaks after COMMIT was sent, the
//! outcome is unknown: that is [`Error::IncompleteCommit`], and it is never retried.
//!
//! # Routing (clusters and Aura)
//!
//! A `neo4j://` URI (`neo4j+s://` for Aura and other TLS clusters, `neo4j+ssc://` for
//! self-signed certificates) makes a routing driver; `bolt://` talks to one server only.
//!
//! ```no_run
//! # use quiver_driver::{AuthToken, Driver, Result, Runtime};
//! # async fn example<R: Runtime + Default>() -> Result<()> {
//! let driver = Driver::<R>::new(
//!     "neo4j+s://xxxxxxxx.databases.neo4j.io",
//!     AuthToken::basic("neo4j", "password"),
//! )?;
//! driver.verify_connectivity().await?;
//! # Ok(()) }
//! ```
//!
//! * The driver asks a router (ROUTE) for each database's **routing table**: its routers,
//!   readers and writers, valid for the table's `ttl`. It asks again when the table expires or
//!   lacks a server for the mode wanted — on demand, from the acquiring task (no background
//!   tasks), at most one refresh per database at a time. A fresh table costs no round trip.
//! * Reads go to readers, writes to writers: the server with the fewest connections in use,
//!   equally busy servers taking turns. Each server has its own pool
//!   ([`Config::max_connection_pool_size`] per server); one acquisition deadline
//!   ([`Config::connection_acquisition_timeout`]) covers routing and acquisition together.
//! * The URI's query string is the **routing context** (`neo4j://host?region=eu`), sent in
//!   every HELLO and ROUTE with `address` (the URI's `host:port`).
//! * Refreshing asks the known routers, and falls back to the URI's address, resolved again
//!   (custom resolver, then DNS: every address it resolves to is tried). A router's failure is
//!   kept and the next one asked; when none answers, [`Error::ServiceUnavailable`] carries
//!   every router's error ([`DiscoveryFailure`]). Mistakes of the client (an unknown database,
//!   bad bookmarks, a security failure) stop discovery at once.
//! * A server that cannot be reached is forgotten in every table and its idle connections
//!   closed; `NotALeader` and `ForbiddenOnReadOnlyDatabase` forget the writer of that database
//!   only; a lost connection is [`Error::SessionExpired`]. All are retried by transaction
//!   functions and `execute_query`.
//! * A session without a database resolves the user's **home database** on first use (ROUTE
//!   without `db`) and keeps it. On Bolt 5.8+, while every server routes queries itself
//!   (`ssr.enabled`), the driver remembers home databases per user (1000 users, least recently
//!   used evicted) and routes at once with the remembered one.
//! * [`Driver::routing_table`], [`Driver::update_routing_table`] and [`Driver::pool_metrics`]
//!   show and steer what the driver holds.
//!
//! # TLS
//!
//! `bolt+s://` and `neo4j+s://` verify the server certificate and host name against the bundled
//! Mozilla roots or [`TrustedCertificates::CustomCa`]; `bolt+ssc://` and `neo4j+ssc://` accept
//! any certificate. rustls 0.23 (ring)
//! runs over any runtime's stream, so TLS is the same code on every runtime.
//!
//! # Features
//!
//! - `chrono`: temporal values to and from `chrono` types — as parameters (`Value::from`,
//!   `Value::try_from`) and as record fields ([`Record::get`] into `NaiveDate`, `NaiveTime`,
//!   `NaiveDateTime`, `DateTime<FixedOffset>`, `DateTime<Utc>`, `TimeDelta`).
//! - `chrono-tz`: zoned date-times (`datetime(... [Europe/Stockholm])`) with the IANA rules
//!   of `chrono-tz`, as `chrono::DateTime<chrono_tz::Tz>`; implies `chrono`.
//!
//! The adapter crates (`quiver-tokio`, …) forward both features. The crates are re-exported
//! (`quiver_driver::chrono`, `quiver_driver::chrono_tz`) so their versions match.
#![warn(missing_docs)]

mod auth;
mod bookmarks;
#[cfg(feature = "chrono")]
mod chrono_values;
mod cluster;
mod config;
mod conn;
mod driver;
mod error;
mod io;
pub mod notification;
mod pool;
mod record;
mod result;
mod retry;
mod routing;
mod runtime;
mod serde;
mod session;
mod summary;
mod tls;
mod txcore;

pub use auth::{AuthManager, ExpiringAuth, ExpiringAuthManager, StaticAuthManager};
pub use bookmarks::{BookmarkManager, Bookmarks, BookmarksConsumer, BookmarksSupplier};
pub use cluster::{PoolMetrics, RoutingTable};
pub use config::{
    Address, AddressResolver, Config, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_PORT, RetryConfig,
    Security, ServerAddress,
};
pub use driver::{Driver, ExecuteQuery, RoutingControl};
pub use error::{
    DiscoveryFailure, Error, GqlError, GqlErrorClassification, Result, RoutingTableError,
    ServerError, ServerErrorKind, UNKNOWN_GQL_DESCRIPTION, UNKNOWN_GQL_STATUS,
};
pub use notification::{
    GqlStatusObject, InputPosition, Notification, NotificationCategory, NotificationClassification,
    NotificationSeverity,
};
pub use record::{ConversionError, FromValue, Record};
pub use result::{EagerResult, RecordStream};
pub use runtime::{ConnectTarget, Runtime};
pub use serde::{SerdeError, from_value, to_params, to_value};
pub use session::{Query, Session, SessionConfig, Transaction, TransactionConfig};
pub use summary::{Counters, QueryType, ResultSummary, ServerInfo};
pub use tls::{ClientCertificate, TrustedCertificates};

/// The `chrono` crate the temporal conversions use (feature `chrono`).
#[cfg(feature = "chrono")]
pub use chrono;
/// The `chrono-tz` crate the zoned date-time conversions use (feature `chrono-tz`).
#[cfg(feature = "chrono-tz")]
pub use chrono_tz;
pub use quiver_bolt::value::{self, Map, PackStr, Value};
pub use quiver_bolt::{AccessMode, AuthToken, NotificationFilter};
