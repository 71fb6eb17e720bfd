//! A runtime-agnostic Neo4j driver core.
//!
//! `quiver-driver` drives the sans-IO Bolt state machine of `quiver-bolt` over any
//! `futures-io` stream. It contains no tokio, async-std or smol code: a runtime adapter crate
//! (`quiver-tokio`, …) implements the small [`Runtime`] trait — connect, sleep, clock; no
//! spawning — and re-exports this crate with the runtime filled in.
#![warn(missing_docs)]

mod bookmarks;
mod config;
mod conn;
mod driver;
mod error;
mod io;
mod pool;
mod record;
mod result;
mod retry;
mod runtime;
mod session;
mod summary;
mod tls;

pub use bookmarks::{BookmarkManager, Bookmarks};
pub use config::{Config, DEFAULT_PORT, RetryConfig, Security, ServerAddress};
pub use driver::{Driver, ExecuteQuery, RoutingControl};
pub use error::{Error, Result, ServerError, ServerErrorKind};
pub use record::{ConversionError, FromValue, Record};
pub use result::{EagerResult, RecordStream};
pub use runtime::{ConnectTarget, Runtime};
pub use session::{Query, Session, SessionConfig, Transaction, TransactionConfig};
pub use summary::{Counters, Notification, QueryType, ResultSummary, ServerInfo};
pub use tls::{ClientCertificate, TrustedCertificates};

pub use quiver_bolt::value::{self, Map, PackStr, Value};
pub use quiver_bolt::{AccessMode, AuthToken, NotificationFilter};
