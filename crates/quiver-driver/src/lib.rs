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
//! # TLS
//!
//! `bolt+s://` verifies the server certificate and host name against the bundled Mozilla roots or
//! [`TrustedCertificates::CustomCa`]; `bolt+ssc://` accepts any certificate. rustls 0.23 (ring)
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
mod runtime;
mod serde;
mod session;
mod summary;
mod tls;
mod txcore;

pub use auth::{AuthManager, ExpiringAuth, ExpiringAuthManager, StaticAuthManager};
pub use bookmarks::{BookmarkManager, Bookmarks, BookmarksConsumer, BookmarksSupplier};
pub use config::{
    Address, AddressResolver, Config, DEFAULT_PORT, RetryConfig, Security, ServerAddress,
};
pub use driver::{Driver, ExecuteQuery, RoutingControl};
pub use error::{
    Error, GqlError, GqlErrorClassification, Result, ServerError, ServerErrorKind,
    UNKNOWN_GQL_DESCRIPTION, UNKNOWN_GQL_STATUS,
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
