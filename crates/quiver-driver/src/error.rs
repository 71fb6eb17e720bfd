//! The driver's error type.
//!
//! One enum, [`Error`], for everything a driver call can fail with. Server failures are kept
//! whole in [`ServerError`] (code, message and the GQL fields of Bolt 5.7+) and classified by
//! [`ServerErrorKind`]. [`Error::is_retryable`] is the rule the transaction functions
//! (`execute_read`, `execute_write`, `execute_query`) use to decide whether to run the work again.

use std::fmt;
use std::io;
use std::time::Duration;

use quiver_bolt::Failure;
use quiver_bolt::value::{Map, Value};

/// Result alias for driver operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a driver operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered a request with FAILURE.
    #[error("{0}")]
    Server(Box<ServerError>),

    /// No connection to the server could be opened or the connection broke before the operation
    /// could complete (a direct driver), or no router of the cluster could tell where to go (a
    /// routing driver). Safe to retry: nothing was committed.
    #[error(
        "service unavailable: {reason}; check that the server at {address} is running and reachable"
    )]
    ServiceUnavailable {
        /// `host:port` of the server (for a routing driver: the URI's address).
        address: String,
        /// What went wrong.
        reason: String,
        /// The underlying error, when there is one: the I/O error, or for a failed routing
        /// table fetch a [`DiscoveryFailure`] with what each router answered.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },

    /// The session can no longer serve requests: its connection was lost (a routing driver, or
    /// inside a transaction), or no server is left for the requested role (e.g. no writer
    /// during a leader election). Retrying the whole unit of work is safe.
    #[error("session expired: {0}; retry the unit of work in a new transaction")]
    SessionExpired(String),

    /// The connection broke (or timed out) after COMMIT was sent and before its answer arrived,
    /// or the server answered COMMIT with `Neo.TransientError.General.DatabaseUnavailable` (a
    /// database shutting down: Neo4j 5.26 was seen to answer so after applying the commit): the
    /// transaction may or may not have been committed. Never retried automatically.
    #[error(
        "the outcome of the commit is unknown: no answer to COMMIT tells whether it was applied ({reason}); \
         the transaction may or may not have been applied, so it was not retried — check the data before retrying"
    )]
    IncompleteCommit {
        /// What broke.
        reason: String,
    },

    /// No pooled connection became free within the acquisition timeout.
    #[error(
        "could not acquire a connection within {timeout:?}: all {max_size} pooled connections are in use; \
         raise `max_connection_pool_size` or `connection_acquisition_timeout`, or hold connections shorter"
    )]
    AcquisitionTimeout {
        /// The configured acquisition timeout.
        timeout: Duration,
        /// The configured maximum pool size.
        max_size: usize,
    },

    /// The result was already consumed (or its transaction ended); its records are gone.
    #[error("the result has been consumed: {0}")]
    ResultConsumed(&'static str),

    /// [`single`](crate::RecordStream::single) found zero or several records.
    #[error("expected exactly one record, found {found}")]
    ResultNotSingle {
        /// `"none"` or `"more than one"`.
        found: &'static str,
    },

    /// The driver or session configuration is invalid (bad URI, unsupported scheme, …).
    #[error("invalid configuration: {0}")]
    Configuration(String),

    /// A server response broke the Bolt protocol (garbage, oversized or unexpected messages), or the
    /// server does not support something the driver asked for. The connection was closed.
    #[error("protocol error: {0}")]
    Protocol(String),

    /// The server does not announce itself as Neo4j: its agent (HELLO's `server`) does not start
    /// with `Neo4j/`. Official drivers refuse such servers too; Neo4j-compatible servers
    /// (ArcadeDB, …) announce a `Neo4j/<version> …` agent. The connection was closed.
    #[error(
        "unsupported server: it announces itself as {agent:?}, not as Neo4j (an agent starting with \"Neo4j/\"); \
         check that the URI points to a Neo4j (or Neo4j-compatible) server"
    )]
    UnsupportedServer {
        /// The agent the server announced.
        agent: String,
    },

    /// An I/O error outside a request (e.g. while closing).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),

    /// A value could not be converted to the requested Rust type, or a key/index does not exist.
    #[error("value conversion failed: {0}")]
    Conversion(String),

    /// The transaction was already closed (committed, rolled back or failed).
    #[error("the transaction is closed: {0}")]
    TransactionClosed(&'static str),

    /// An earlier query of the transaction failed, which ended the transaction on the server:
    /// nothing more can run in it. `cause` is that failure (its code says why);
    /// [`as_server_error`](Error::as_server_error) returns it, and the error is retryable when
    /// the cause is. Roll back (no round trip is needed) and, if retryable, run the unit of work
    /// again in a new transaction.
    #[error("the transaction failed earlier and cannot be used any more: {cause}")]
    TransactionFailed {
        /// The server failure that ended the transaction.
        #[source]
        cause: Box<ServerError>,
    },

    /// The driver was closed with [`Driver::close`](crate::Driver::close).
    #[error("the driver has been closed")]
    DriverClosed,

    /// A router answered ROUTE with a table the driver cannot use. Reported as one of the
    /// per-router causes of a failed discovery ([`DiscoveryFailure`]); the driver tried the next
    /// router.
    #[error("unusable routing table: {0}")]
    Routing(#[from] RoutingTableError),

    /// An error returned by user code inside a transaction function. Not retried.
    #[error("error in the transaction function: {0}")]
    User(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl Error {
    /// Wrap an error of user code so that a transaction function can return it.
    pub fn user(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Error::User(error.into())
    }

    /// Whether running the same unit of work again, in a new transaction, can succeed.
    ///
    /// True for transient server errors (deadlocks, unavailable databases, …) except the two that
    /// mean a client asked for termination, for `NotALeader`/`ForbiddenOnReadOnlyDatabase`/
    /// `AuthorizationExpired`, for a security failure the driver's auth manager said it handled
    /// ([`ServerError::handled_by_auth_manager`]: a new token will be used), and for
    /// [`Error::ServiceUnavailable`] and [`Error::SessionExpired`].
    /// Never for [`Error::IncompleteCommit`]: the work may have been applied.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Server(server) | Error::TransactionFailed { cause: server } => {
                server.is_retryable()
            }
            Error::ServiceUnavailable { .. } | Error::SessionExpired(_) => true,
            _ => false,
        }
    }

    /// The server failure, if this is one (or, for [`Error::TransactionFailed`], its cause).
    pub fn as_server_error(&self) -> Option<&ServerError> {
        match self {
            Error::Server(server) | Error::TransactionFailed { cause: server } => Some(server),
            _ => None,
        }
    }

    /// Whether the error means the connection to the server was lost or could not be opened.
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            Error::ServiceUnavailable { .. }
                | Error::SessionExpired(_)
                | Error::IncompleteCommit { .. }
        )
    }

    pub(crate) fn service_unavailable(
        address: &str,
        reason: impl Into<String>,
        source: Option<io::Error>,
    ) -> Self {
        Error::ServiceUnavailable {
            address: address.to_owned(),
            reason: reason.into(),
            source: source.map(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
        }
    }
}

/// Why a routing driver could not get a routing table: the source of the
/// [`Error::ServiceUnavailable`] it reports, with what each router it asked answered, in the
/// order asked.
#[derive(Debug)]
#[non_exhaustive]
pub struct DiscoveryFailure {
    /// The database whose table was wanted (`None`: the user's home database).
    pub database: Option<String>,
    /// Each router asked (`host:port`, as connected to) and why it gave no usable table.
    pub failures: Vec<(String, Error)>,
}

impl fmt::Display for DiscoveryFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.failures.is_empty() {
            return f.write_str("no router was left to ask");
        }
        f.write_str("the routers answered: ")?;
        for (i, (router, error)) in self.failures.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{router}: {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DiscoveryFailure {
    /// The last router's error (all of them are in [`failures`](Self::failures)).
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.failures
            .last()
            .map(|(_, error)| error as &(dyn std::error::Error + 'static))
    }
}

/// Why a router's ROUTE reply was not used (one of the [`DiscoveryFailure::failures`], as
/// [`Error::Routing`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoutingTableError {
    /// The reply is malformed (missing or mistyped fields, a negative ttl, too many addresses).
    #[error("malformed routing table: {0}")]
    Malformed(#[from] quiver_bolt::RoutingTableError),
    /// An address in the reply is not `host[:port]`.
    #[error("the routing table lists an invalid address `{0}`")]
    InvalidAddress(String),
    /// The reply names no router: the driver could never refresh it.
    #[error("the routing table has no routers")]
    NoRouters,
    /// The reply names no reader.
    #[error("the routing table has no readers")]
    NoReaders,
}

impl From<ServerError> for Error {
    fn from(value: ServerError) -> Self {
        Error::Server(Box::new(value))
    }
}

/// The classification of a server failure, from the second part of its status code
/// (`Neo.<Classification>.<Category>.<Title>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerErrorKind {
    /// The request was wrong (syntax, constraint, security, …): do not retry.
    Client,
    /// A temporary condition (deadlock, database unavailable, …): retrying may succeed.
    Transient,
    /// The database failed: do not retry.
    Database,
    /// An unrecognised code.
    Unknown,
}

/// The GQL classification of an error (`_classification` in its diagnostic record, Bolt 5.7+),
/// as the Python driver's `GqlErrorClassification`.
///
/// Unknown or missing classifications (and every error of a server older than Bolt 5.7) are
/// [`Unknown`](Self::Unknown); the text as sent is kept in the error's `raw_classification`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GqlErrorClassification {
    /// `CLIENT_ERROR`.
    ClientError,
    /// `DATABASE_ERROR`.
    DatabaseError,
    /// `TRANSIENT_ERROR`.
    TransientError,
    /// Anything else, or none.
    Unknown,
}

impl GqlErrorClassification {
    /// The classification named by `raw`; never fails (unknown text is [`Unknown`](Self::Unknown)).
    pub fn from_raw(raw: Option<&str>) -> Self {
        match raw {
            Some("CLIENT_ERROR") => Self::ClientError,
            Some("DATABASE_ERROR") => Self::DatabaseError,
            Some("TRANSIENT_ERROR") => Self::TransientError,
            _ => Self::Unknown,
        }
    }

    /// The name as the server and the official drivers spell it, e.g. `"CLIENT_ERROR"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientError => "CLIENT_ERROR",
            Self::DatabaseError => "DATABASE_ERROR",
            Self::TransientError => "TRANSIENT_ERROR",
            Self::Unknown => "UNKNOWN",
        }
    }
}

impl fmt::Display for GqlErrorClassification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The GQLSTATUS the official drivers use for an error the server did not describe in GQL terms
/// (servers before Bolt 5.7, or a FAILURE missing its GQL fields).
pub const UNKNOWN_GQL_STATUS: &str = "50N42";
/// The status description that goes with [`UNKNOWN_GQL_STATUS`].
pub const UNKNOWN_GQL_DESCRIPTION: &str = "error: general processing exception - unexpected error";
const UNKNOWN_GQL_MESSAGE: &str =
    "50N42: Unexpected error has occurred. See debug log for details.";
const UNKNOWN_NEO4J_CODE: &str = "Neo.DatabaseError.General.UnknownError";
const UNKNOWN_MESSAGE: &str = "An unknown error occurred";

/// The diagnostic record entries every GQL status and error has (added where the server left
/// them out, as the official drivers do): `OPERATION` `""`, `OPERATION_CODE` `"0"`,
/// `CURRENT_SCHEMA` `"/"`.
pub(crate) fn fill_default_diagnostic_record(record: &mut Map) {
    for (key, value) in [
        ("OPERATION", ""),
        ("OPERATION_CODE", "0"),
        ("CURRENT_SCHEMA", "/"),
    ] {
        if record.get(key).is_none() {
            record.insert(key, Value::String(value.into()));
        }
    }
}

fn default_diagnostic_record() -> Map {
    let mut record = Map::new();
    fill_default_diagnostic_record(&mut record);
    record
}

/// One link of a server error's GQL cause chain (Bolt 5.7+): a GQL error without a Neo4j code,
/// as the Python driver's `GqlError`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GqlError {
    /// The GQLSTATUS, e.g. `"42I06"` ([`UNKNOWN_GQL_STATUS`] when the server left the GQL fields
    /// out).
    pub gql_status: String,
    /// The message.
    pub message: String,
    /// The GQLSTATUS description, e.g. `"error: syntax error or access rule violation - invalid
    /// syntax"`.
    pub description: String,
    /// The parsed [`raw_classification`](Self::raw_classification).
    pub classification: GqlErrorClassification,
    /// `_classification` from the diagnostic record, when it is a string.
    pub raw_classification: Option<String>,
    /// The diagnostic record as sent, with the default `OPERATION`, `OPERATION_CODE` and
    /// `CURRENT_SCHEMA` entries filled in where missing.
    pub diagnostic_record: Map,
    /// The next cause, if any.
    pub cause: Option<Box<GqlError>>,
}

impl GqlError {
    fn from_cause(failure: Failure) -> Self {
        let (gql_status, description, message) =
            match (failure.gql_status, failure.description, failure.message) {
                (Some(status), Some(description), Some(message)) => (status, description, message),
                _ => (
                    UNKNOWN_GQL_STATUS.to_owned(),
                    UNKNOWN_GQL_DESCRIPTION.to_owned(),
                    UNKNOWN_GQL_MESSAGE.to_owned(),
                ),
            };
        let mut diagnostic_record = failure.diagnostic_record;
        fill_default_diagnostic_record(&mut diagnostic_record);
        GqlError {
            gql_status,
            message,
            description,
            classification: GqlErrorClassification::from_raw(failure.classification.as_deref()),
            raw_classification: failure.classification,
            diagnostic_record,
            cause: failure
                .cause
                .map(|cause| Box::new(GqlError::from_cause(*cause))),
        }
    }
}

impl fmt::Display for GqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GQL error {}: {}", self.gql_status, self.message)
    }
}

impl std::error::Error for GqlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

/// A FAILURE sent by the server.
///
/// Carries the Neo4j status code and message and, as the Python driver's `Neo4jError`, the GQL
/// fields. Servers before Bolt 5.7 send no GQL fields; the driver then fills in what the official
/// drivers do: GQLSTATUS [`UNKNOWN_GQL_STATUS`] (`50N42`), the description
/// `"error: general processing exception - unexpected error. <message>"`, classification
/// [`GqlErrorClassification::Unknown`] and the default diagnostic record (`OPERATION` `""`,
/// `OPERATION_CODE` `"0"`, `CURRENT_SCHEMA` `"/"`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ServerError {
    /// The Neo4j status code, e.g. `Neo.ClientError.Statement.SyntaxError`
    /// (`Neo.DatabaseError.General.UnknownError` if the server sent none).
    pub code: String,
    /// The server's message.
    pub message: String,
    /// The GQLSTATUS, e.g. `42001`; [`UNKNOWN_GQL_STATUS`] before Bolt 5.7.
    pub gql_status: String,
    /// The GQLSTATUS description.
    pub description: String,
    /// The parsed [`raw_classification`](Self::raw_classification).
    pub classification: GqlErrorClassification,
    /// `_classification` from the diagnostic record (Bolt 5.7+), when it is a string:
    /// `CLIENT_ERROR`, `TRANSIENT_ERROR`, `DATABASE_ERROR` or anything newer.
    pub raw_classification: Option<String>,
    /// The GQL diagnostic record (values as sent, plus the default entries where missing).
    pub diagnostic_record: Map,
    /// The GQL cause chain (Bolt 5.7+); also [`std::error::Error::source`].
    pub cause: Option<Box<GqlError>>,
    /// The driver's [`AuthManager`](crate::AuthManager) answered `true` to
    /// [`handle_security_error`](crate::AuthManager::handle_security_error) for this failure
    /// (it will supply a new token): the work is worth retrying.
    pub(crate) handled_by_auth_manager: bool,
}

impl ServerError {
    /// A server error with just a code and a message, and the GQL fields a server before Bolt
    /// 5.7 implies (see the type's documentation).
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        ServerError {
            code: code.into(),
            description: format!("{UNKNOWN_GQL_DESCRIPTION}. {message}"),
            message,
            gql_status: UNKNOWN_GQL_STATUS.to_owned(),
            classification: GqlErrorClassification::Unknown,
            raw_classification: None,
            diagnostic_record: default_diagnostic_record(),
            cause: None,
            handled_by_auth_manager: false,
        }
    }

    /// A FAILURE as the Python driver reads it: `gql_aware` for Bolt 5.7+ (GQL fields taken from
    /// the server, all three of status, description and message or none of them), otherwise the
    /// pre-GQL defaults.
    pub(crate) fn from_failure(failure: Failure, gql_aware: bool) -> Self {
        let code = if failure.code.is_empty() {
            UNKNOWN_NEO4J_CODE.to_owned()
        } else {
            failure.code
        };
        if !gql_aware {
            let message = failure
                .message
                .filter(|message| !message.is_empty())
                .unwrap_or_else(|| UNKNOWN_MESSAGE.to_owned());
            return ServerError::new(code, message);
        }
        let (gql_status, description, message) =
            match (failure.gql_status, failure.description, failure.message) {
                (Some(status), Some(description), Some(message)) => (status, description, message),
                _ => (
                    UNKNOWN_GQL_STATUS.to_owned(),
                    UNKNOWN_GQL_DESCRIPTION.to_owned(),
                    UNKNOWN_MESSAGE.to_owned(),
                ),
            };
        let mut diagnostic_record = failure.diagnostic_record;
        fill_default_diagnostic_record(&mut diagnostic_record);
        ServerError {
            code,
            message,
            gql_status,
            description,
            classification: GqlErrorClassification::from_raw(failure.classification.as_deref()),
            raw_classification: failure.classification,
            diagnostic_record,
            cause: failure
                .cause
                .map(|cause| Box::new(GqlError::from_cause(*cause))),
            handled_by_auth_manager: false,
        }
    }

    /// Whether the driver's [`AuthManager`](crate::AuthManager) said it can fix this security
    /// failure (its [`handle_security_error`](crate::AuthManager::handle_security_error)
    /// answered `true`, e.g. a bearer manager on `TokenExpired`): the next attempt gets a new
    /// token, so the error is [retryable](Self::is_retryable). Always false for a connection
    /// authenticated with per-session auth ([`SessionConfig::with_auth`](crate::SessionConfig::with_auth)),
    /// whose failures the manager is not told about.
    pub fn handled_by_auth_manager(&self) -> bool {
        self.handled_by_auth_manager
    }

    /// Whether the code is a `Neo.ClientError.Security.*` one: the failures the auth manager
    /// hears about.
    pub fn is_security_error(&self) -> bool {
        self.code.starts_with("Neo.ClientError.Security.")
    }

    /// The GQL causes, nearest first.
    pub fn causes(&self) -> impl Iterator<Item = &GqlError> {
        std::iter::successors(self.cause.as_deref(), |cause| cause.cause.as_deref())
    }

    /// Whether this error or one of its [`causes`](Self::causes) has GQLSTATUS `status` (the
    /// Python driver's `find_by_gql_status`).
    pub fn has_gql_status(&self, status: &str) -> bool {
        self.gql_status == status || self.causes().any(|cause| cause.gql_status == status)
    }

    /// The classification of the code, with the official drivers' corrections: the two
    /// "terminated by the client" transient codes are client errors.
    pub fn kind(&self) -> ServerErrorKind {
        match self.code.as_str() {
            "Neo.TransientError.Transaction.Terminated"
            | "Neo.TransientError.Transaction.LockClientStopped" => {
                return ServerErrorKind::Client;
            }
            _ => {}
        }
        match self.code.split('.').nth(1) {
            Some("ClientError") => ServerErrorKind::Client,
            Some("TransientError") => ServerErrorKind::Transient,
            Some("DatabaseError") => ServerErrorKind::Database,
            _ => ServerErrorKind::Unknown,
        }
    }

    /// Whether retrying the unit of work can succeed (see [`Error::is_retryable`]).
    pub fn is_retryable(&self) -> bool {
        if self.handled_by_auth_manager {
            return true;
        }
        match self.code.as_str() {
            "Neo.ClientError.Cluster.NotALeader"
            | "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase"
            | "Neo.ClientError.Security.AuthorizationExpired" => true,
            _ => self.kind() == ServerErrorKind::Transient,
        }
    }

    /// Whether this is an authentication failure (wrong credentials, unknown scheme, …).
    pub fn is_authentication_error(&self) -> bool {
        self.code == "Neo.ClientError.Security.Unauthorized"
            || self.code.starts_with("Neo.ClientError.Security.Auth")
    }

    /// Whether the auth token expired (an [`AuthManager`](crate::AuthManager) may refresh it).
    pub fn is_token_expired(&self) -> bool {
        self.code == "Neo.ClientError.Security.TokenExpired"
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "server error {}: {}", self.code, self.message)?;
        // 50N42 is the placeholder for "no GQL status": not worth repeating in every message.
        if self.gql_status != UNKNOWN_GQL_STATUS {
            write!(f, " (GQL status {})", self.gql_status)?;
        }
        Ok(())
    }
}

impl std::error::Error for ServerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_the_code_with_the_official_corrections() {
        let deadlock = ServerError::new("Neo.TransientError.Transaction.DeadlockDetected", "x");
        assert_eq!(deadlock.kind(), ServerErrorKind::Transient);
        assert!(Error::from(deadlock).is_retryable());
        let terminated = ServerError::new("Neo.TransientError.Transaction.Terminated", "x");
        assert_eq!(terminated.kind(), ServerErrorKind::Client);
        assert!(!terminated.is_retryable());
        let syntax = ServerError::new("Neo.ClientError.Statement.SyntaxError", "x");
        assert_eq!(syntax.kind(), ServerErrorKind::Client);
        assert!(!syntax.is_retryable());
        assert!(ServerError::new("Neo.ClientError.Cluster.NotALeader", "x").is_retryable());
        assert_eq!(
            ServerError::new("Neo.DatabaseError.General.UnknownError", "x").kind(),
            ServerErrorKind::Database
        );
        assert_eq!(
            ServerError::new("garbage", "x").kind(),
            ServerErrorKind::Unknown
        );
        assert!(
            ServerError::new("Neo.ClientError.Security.Unauthorized", "x")
                .is_authentication_error()
        );
    }

    #[test]
    fn connection_errors_are_retryable_but_an_unknown_commit_is_not() {
        assert!(Error::service_unavailable("h:1", "refused", None).is_retryable());
        assert!(Error::SessionExpired("x".into()).is_retryable());
        let unknown = Error::IncompleteCommit {
            reason: "eof".into(),
        };
        assert!(!unknown.is_retryable());
        assert!(unknown.to_string().contains("not retried"));
    }

    fn text(value: &str) -> Value {
        Value::String(value.into())
    }

    fn gql_failure(message: Option<&str>, record: &[(&str, Value)]) -> Failure {
        let mut diagnostic_record = Map::new();
        for (key, value) in record {
            diagnostic_record.insert(*key, value.clone());
        }
        Failure {
            code: "Neo.ClientError.User.Uncool".into(),
            message: message.map(str::to_owned),
            gql_status: Some("01N00".into()),
            description: Some("cool class - mediocre subclass".into()),
            classification: diagnostic_record
                .get("_classification")
                .and_then(Value::as_str)
                .map(str::to_owned),
            diagnostic_record,
            cause: None,
        }
    }

    fn defaults() -> Map {
        let mut record = Map::new();
        fill_default_diagnostic_record(&mut record);
        record
    }

    #[test]
    fn before_bolt_5_7_errors_get_the_python_gql_defaults() {
        let mut failure = gql_failure(Some("Sever ain't cool with this!"), &[]);
        failure.gql_status = None;
        failure.description = None;
        let error = ServerError::from_failure(failure, false);
        assert_eq!(error.code, "Neo.ClientError.User.Uncool");
        assert_eq!(error.gql_status, "50N42");
        assert_eq!(
            error.description,
            "error: general processing exception - unexpected error. Sever ain't cool with this!"
        );
        assert_eq!(error.classification, GqlErrorClassification::Unknown);
        assert_eq!(error.raw_classification, None);
        assert_eq!(error.diagnostic_record, defaults());
        assert!(error.cause.is_none());
        assert_eq!(
            error,
            ServerError::new(error.code.clone(), error.message.clone())
        );
        // A missing code or message: the Python driver's placeholders.
        let mut bare = gql_failure(None, &[]);
        bare.code = String::new();
        let bare = ServerError::from_failure(bare, false);
        assert_eq!(bare.code, "Neo.DatabaseError.General.UnknownError");
        assert_eq!(bare.message, "An unknown error occurred");
        assert_eq!(bare.kind(), ServerErrorKind::Database);
    }

    #[test]
    fn bolt_5_7_errors_keep_the_server_fields_and_fill_the_record() {
        let record = [
            ("_classification", text("CLIENT_ERROR")),
            ("OPERATION", Value::Null),
            ("_status_parameters", Value::Integer(1)),
        ];
        let error = ServerError::from_failure(gql_failure(Some("m"), &record), true);
        assert_eq!(
            (error.gql_status.as_str(), error.message.as_str()),
            ("01N00", "m")
        );
        assert_eq!(error.description, "cool class - mediocre subclass");
        assert_eq!(error.classification, GqlErrorClassification::ClientError);
        assert_eq!(error.raw_classification.as_deref(), Some("CLIENT_ERROR"));
        // Present entries are kept even when odd (OPERATION = null), missing ones filled in.
        assert_eq!(error.diagnostic_record.get("OPERATION"), Some(&Value::Null));
        assert_eq!(
            error.diagnostic_record.get("OPERATION_CODE"),
            Some(&text("0"))
        );
        assert_eq!(
            error.diagnostic_record.get("CURRENT_SCHEMA"),
            Some(&text("/"))
        );
        assert_eq!(error.diagnostic_record.len(), 5);
        let made_up = gql_failure(Some("m"), &[("_classification", text("SECURITY_ERROR"))]);
        let made_up = ServerError::from_failure(made_up, true);
        assert_eq!(made_up.classification, GqlErrorClassification::Unknown);
        assert_eq!(
            made_up.raw_classification.as_deref(),
            Some("SECURITY_ERROR")
        );
        assert!(made_up.to_string().contains("GQL status 01N00"));
    }

    #[test]
    fn bolt_5_7_errors_missing_a_gql_field_get_all_the_defaults() {
        let error = ServerError::from_failure(gql_failure(None, &[]), true);
        assert_eq!(error.gql_status, "50N42");
        assert_eq!(error.message, "An unknown error occurred");
        assert_eq!(
            error.description,
            "error: general processing exception - unexpected error"
        );
        assert_eq!(error.code, "Neo.ClientError.User.Uncool");
        assert_eq!(error.diagnostic_record, defaults());
    }

    #[test]
    fn the_cause_chain_is_kept_with_its_own_defaults() {
        let mut inner = gql_failure(None, &[]);
        inner.code = String::new();
        let mut middle = gql_failure(
            Some("middle"),
            &[("_classification", text("TRANSIENT_ERROR"))],
        );
        middle.gql_status = Some("42I06".into());
        middle.cause = Some(Box::new(inner));
        let mut top = gql_failure(Some("top"), &[]);
        top.cause = Some(Box::new(middle));
        let error = ServerError::from_failure(top, true);
        let causes: Vec<&GqlError> = error.causes().collect();
        assert_eq!(causes.len(), 2);
        assert_eq!(causes[0].gql_status, "42I06");
        assert_eq!(causes[0].message, "middle");
        assert_eq!(
            causes[0].classification,
            GqlErrorClassification::TransientError
        );
        assert_eq!(
            causes[0].diagnostic_record.get("CURRENT_SCHEMA"),
            Some(&text("/"))
        );
        // A cause without a message: the Python driver's unknown-error placeholders.
        assert_eq!(causes[1].gql_status, "50N42");
        assert_eq!(
            causes[1].message,
            "50N42: Unexpected error has occurred. See debug log for details."
        );
        assert_eq!(causes[1].diagnostic_record, defaults());
        assert!(error.has_gql_status("42I06") && error.has_gql_status("01N00"));
        assert!(!error.has_gql_status("22000"));
        // The chain is the std error source chain too.
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("GQL error 42I06: middle"));
        // Before 5.7 there are no causes.
        let mut old = gql_failure(Some("old"), &[]);
        old.cause = Some(Box::new(gql_failure(Some("ignored"), &[])));
        assert!(ServerError::from_failure(old, false).cause.is_none());
    }

    #[test]
    fn gql_classifications_parse_leniently() {
        for (raw, parsed) in [
            ("CLIENT_ERROR", GqlErrorClassification::ClientError),
            ("DATABASE_ERROR", GqlErrorClassification::DatabaseError),
            ("TRANSIENT_ERROR", GqlErrorClassification::TransientError),
        ] {
            assert_eq!(GqlErrorClassification::from_raw(Some(raw)), parsed);
            assert_eq!(parsed.as_str(), raw);
        }
        assert_eq!(
            GqlErrorClassification::from_raw(Some("client_error")),
            GqlErrorClassification::Unknown
        );
        assert_eq!(GqlErrorClassification::from_raw(None).as_str(), "UNKNOWN");
    }
}
