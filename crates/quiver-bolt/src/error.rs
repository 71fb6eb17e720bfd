//! Errors of the Bolt core, split by who is to blame.

use std::sync::Arc;
use std::time::Duration;

use crate::connection::ServerState;
use crate::value::ValueError;
use crate::version::{Version, VersionRange};

/// Everything that can go wrong in the Bolt core.
///
/// The variants say who is to blame:
/// * the server or the network: [`Protocol`](Self::Protocol), [`Decode`](Self::Decode),
///   [`MessageTooLarge`](Self::MessageTooLarge), [`ReceiveTimeout`](Self::ReceiveTimeout) — these are
///   fatal and make the connection DEFUNCT;
/// * no common ground: [`NoCommonVersion`](Self::NoCommonVersion), [`HttpPort`](Self::HttpPort) —
///   also fatal;
/// * the caller: [`InvalidRequest`](Self::InvalidRequest), [`NotSupported`](Self::NotSupported),
///   [`Encode`](Self::Encode) — returned by [`Connection::send`](crate::Connection::send); the
///   connection stays usable and nothing was queued;
/// * [`Defunct`](Self::Defunct): the connection already failed (or said GOODBYE); open a new one;
/// * the server role's ([`crate::server`]): the client broke the protocol
///   ([`ClientProtocol`](Self::ClientProtocol), [`ClientMessageTooLarge`](Self::ClientMessageTooLarge),
///   [`ClientSpokeHttp`](Self::ClientSpokeHttp), [`NoVersionForClient`](Self::NoVersionForClient),
///   [`ClientTimeout`](Self::ClientTimeout): fatal, the connection is closed); a request is not
///   valid ([`InvalidClientRequest`](Self::InvalidClientRequest), per request, not fatal); the
///   application's response does not fit ([`InvalidResponse`](Self::InvalidResponse), not fatal).
///
/// The error is `Clone` so that a fatal error can be both returned and reported as
/// [`Event::Defunct`](crate::Event::Defunct).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BoltError {
    /// The server supports none of the offered protocol versions.
    #[error(
        "the server supports none of the offered Bolt versions (offered: {}; server: {}); \
         use a server or driver version that share a Bolt version",
        fmt_ranges(offered),
        fmt_ranges(server)
    )]
    NoCommonVersion {
        /// What this client offered.
        offered: Vec<VersionRange>,
        /// What the server listed (only known with the manifest handshake; empty otherwise).
        server: Vec<VersionRange>,
    },
    /// The server answered the handshake with HTTP.
    #[error("this port speaks HTTP, not Bolt; Bolt is usually on port 7687 (HTTP is usually 7474)")]
    HttpPort,
    /// The server violated the protocol (garbage, a response nobody asked for, a bad handshake).
    #[error("the server violated the Bolt protocol: {reason}; the connection is unusable")]
    Protocol {
        /// What was wrong.
        reason: String,
    },
    /// A message from the server exceeds the configured maximum size.
    #[error(
        "a message from the server exceeds the maximum message size of {limit} bytes; \
         raise ConnectionConfig::max_message_size if this is expected"
    )]
    MessageTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// A complete message from the server could not be decoded.
    #[error("could not decode a message from the server: {0}")]
    Decode(#[source] Arc<ValueError>),
    /// A request could not be encoded (e.g. a graph entity as a parameter); nothing was sent.
    #[error("could not encode the request: {0}")]
    Encode(#[source] Arc<ValueError>),
    /// The server would refuse this request in its current state; nothing was sent.
    #[error(
        "{request} is not allowed while the server is (or will be) in state {state:?}{hint}",
        hint = state_hint(*state)
    )]
    InvalidRequest {
        /// The state the server will be in when it reads the request.
        state: ServerState,
        /// The request's name, e.g. `"RUN"`.
        request: &'static str,
    },
    /// The negotiated version does not support this request or option; nothing was sent.
    #[error("{what} is not supported by Bolt {version}")]
    NotSupported {
        /// What is missing.
        what: &'static str,
        /// The negotiated version.
        version: Version,
    },
    /// The server sent nothing for longer than its `connection.recv_timeout_seconds` hint.
    #[error(
        "the server sent nothing for {after:?} while a response was due (its \
         connection.recv_timeout_seconds hint); the connection is considered dead"
    )]
    ReceiveTimeout {
        /// The timeout that elapsed.
        after: Duration,
    },
    /// Server role: the client broke the Bolt protocol (a bad preamble or version choice, bytes
    /// that are not PackStream, a message that is not a structure, a message cut off by the
    /// end of the connection); the server closes the connection.
    #[error("the client violated the Bolt protocol: {reason}; the connection is closed")]
    ClientProtocol {
        /// What was wrong.
        reason: String,
    },
    /// Server role: a message from the client exceeds the configured maximum size.
    #[error(
        "a message from the client exceeds the maximum message size of {limit} bytes \
         (ServerConfig::max_message_size); the connection is closed"
    )]
    ClientMessageTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// Server role: the client sent an HTTP request to the Bolt port.
    #[error("the client sent HTTP to the Bolt port; the connection is closed")]
    ClientSpokeHttp,
    /// Server role: the client proposed no version the server offers.
    #[error(
        "the client proposed no Bolt version this server offers (client: {}; server: {}); \
         the connection is closed",
        fmt_ranges(client),
        fmt_ranges(offered)
    )]
    NoVersionForClient {
        /// What the client proposed (manifest v1: its choice).
        client: Vec<VersionRange>,
        /// What the server offers.
        offered: Vec<VersionRange>,
    },
    /// Server role: a well-formed message is not a valid request of the negotiated version
    /// (an unknown message, the wrong number of fields, a field of the wrong type or value).
    /// Reported per request; what a real server does about it is the request's
    /// [`Verdict`](crate::server::Verdict).
    #[error("the client sent an invalid request: {reason}")]
    InvalidClientRequest {
        /// What is wrong, in Neo4j's words where it has some.
        reason: String,
    },
    /// Server role: the client sent nothing for longer than
    /// [`ServerConfig::recv_timeout`](crate::server::ServerConfig::recv_timeout) while the server
    /// waited for it; the connection is closed.
    #[error(
        "the client sent nothing for {after:?} while the server waited for it; the connection is closed"
    )]
    ClientTimeout {
        /// The timeout that elapsed.
        after: Duration,
    },
    /// Server role (strict mode): the application's response does not fit (nothing to answer,
    /// or a RECORD for a request that is not a PULL); nothing was sent.
    #[error("the response cannot be sent: {reason}")]
    InvalidResponse {
        /// What is wrong.
        reason: String,
    },
    /// The connection is defunct (after a fatal error, a failed HELLO/LOGON, or GOODBYE).
    #[error("the connection is defunct or closed; open a new connection")]
    Defunct,
}

fn state_hint(state: ServerState) -> &'static str {
    match state {
        ServerState::Failed => "; send RESET first",
        ServerState::Negotiation => "; wait for Event::Ready",
        _ => "",
    }
}

fn fmt_ranges(ranges: &[VersionRange]) -> String {
    if ranges.is_empty() {
        return "unknown".to_owned();
    }
    ranges
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl BoltError {
    pub(crate) fn protocol(reason: impl Into<String>) -> Self {
        BoltError::Protocol {
            reason: reason.into(),
        }
    }

    /// Whether this error made (or found) the connection defunct.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            BoltError::InvalidRequest { .. }
                | BoltError::NotSupported { .. }
                | BoltError::Encode(_)
                | BoltError::InvalidClientRequest { .. }
                | BoltError::InvalidResponse { .. }
        )
    }
}

/// Equal when of the same kind with the same message (the wrapped value errors are compared by
/// their text); meant for tests.
impl PartialEq for BoltError {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.to_string() == other.to_string()
    }
}
