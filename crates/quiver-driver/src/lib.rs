//! A runtime-agnostic Neo4j driver core (work in progress).
//!
//! `quiver-driver` drives the sans-IO Bolt state machine of `quiver-bolt` over any
//! `futures-io` stream. It contains no tokio, async-std or smol code: a runtime adapter crate
//! (`quiver-tokio`, …) implements the small [`Runtime`] trait — connect, sleep, clock; no
//! spawning — and re-exports this crate with the runtime filled in.
#![warn(missing_docs)]

mod bookmarks;
mod config;
mod error;
#[allow(dead_code)] // used by the connection layer, which waits for quiver-bolt's Connection
mod io;
mod record;
mod retry;
mod runtime;
#[allow(dead_code)]
mod tls;

pub use bookmarks::{BookmarkManager, Bookmarks};
pub use config::{Config, DEFAULT_PORT, RetryConfig, Security, ServerAddress};
pub use error::{Error, Result, ServerError, ServerErrorKind};
pub use record::{ConversionError, FromValue, Record};
pub use runtime::{ConnectTarget, Runtime};
pub use tls::{ClientCertificate, TrustedCertificates};

pub use quiver_bolt::value::{self, Map, PackStr, Value};
