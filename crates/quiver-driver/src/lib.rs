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
mod retry;
mod runtime;

pub use bookmarks::{BookmarkManager, Bookmarks};
pub use config::{Config, DEFAULT_PORT, RetryConfig, Security, ServerAddress};
pub use error::{Error, Result, ServerError, ServerErrorKind};
pub use runtime::{ConnectTarget, Runtime};
