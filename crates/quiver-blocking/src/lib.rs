//! Quiver, a Neo4j driver for Rust, as a blocking API — with no async runtime inside.
//!
//! ```no_run
//! use quiver_blocking::{AuthToken, Driver, Query};
//!
//! # fn main() -> quiver_blocking::Result<()> {
//! let driver = Driver::new("bolt://127.0.0.1:7687", AuthToken::basic("neo4j", "password"))?;
//! let result = driver.execute_query("RETURN 'Alice' AS name").run()?;
//! assert_eq!(result.records[0].get::<String>("name")?, "Alice");
//!
//! let mut session = driver.session();
//! let count: i64 = session.execute_read(|tx| {
//!     tx.run(Query::new("MATCH (p:Person {name: $name}) RETURN count(p) AS c").param("name", "Alice"))?
//!         .single()?
//!         .get("c")
//! })?;
//! for record in session.run("UNWIND range(1, 3) AS i RETURN i")? {
//!     println!("{}", record?.get::<i64>("i")?);
//! }
//! # let _ = count;
//! # Ok(())
//! # }
//! ```
//!
//! # Design: the async driver, driven by a 60-line executor over blocking sockets
//!
//! A blocking wrapper usually hides a private async runtime (rust-postgres's `postgres` crate
//! holds a current-thread tokio runtime). Called from code that already runs inside that runtime,
//! it panics with "Cannot start a runtime from within a runtime". This crate has no runtime to
//! start. It runs the *same* `quiver-driver` code as the async adapters — one code path for
//! pooling, retries, bookmarks and results — with three small pieces:
//!
//! * **Sockets**: `std::net::TcpStream` behind the futures-io traits. A write blocks the calling
//!   thread and returns `Ready`; a read returns `Pending` once (waking itself, so TLS can first
//!   send what it has queued — see `BlockingStream`) and then blocks. Read and write timeouts are
//!   socket options (`set_read_timeout`), set from the deadline the driver passes down before
//!   every I/O (and left alone while that deadline keeps the same distance).
//! * **Sleeping** (retry back-off, waiting for a free pooled connection) records its deadline in a
//!   thread-local that the executor reads to time out its park.
//! * **The executor** is a `block_on`: poll the one future on the calling thread; when it is
//!   pending, `thread::park` (with the sleep's deadline, if any) until a waker — another thread
//!   returning a pooled connection — unparks it. No reactor, no task queue, no extra thread.
//!
//! The alternative, a second, synchronous orchestration over the sans-IO `quiver-bolt` core, would
//! duplicate the pool, retries and result handling, which is the two-code-paths trap rustls
//! backed out of. The price of this design is small: it relies on the driver passing deadlines
//! down (it does: `Runtime::set_io_deadline`) instead of racing futures against timers.
//!
//! Calling this API from inside an async task (tokio, smol, …) therefore works — it blocks that
//! task's thread for the duration of the call, as any blocking I/O does, so prefer the async
//! adapter (or `spawn_blocking`) there. [`Driver`] is `Send + Sync` and cheap to clone: share one
//! between threads; give each thread its own [`Session`].
#![warn(missing_docs)]

mod executor;
mod net;

use executor::block_on;
use net::BlockingRuntime;

/// The runtime and executor behind the blocking API, exposed only so that the shared async
/// integration suite can run on them too. Not part of the API: no semver guarantees.
#[doc(hidden)]
pub mod __private {
    pub use crate::executor::block_on;
    pub use crate::net::{BlockingRuntime, BlockingStream};
}

pub use quiver_driver::{
    AccessMode, Address, AddressResolver, AuthToken, BookmarkManager, Bookmarks, ClientCertificate,
    Config, ConversionError, Counters, DEFAULT_PORT, EagerResult, Error, FromValue, GqlError,
    GqlErrorClassification, GqlStatusObject, InputPosition, Map, Notification,
    NotificationCategory, NotificationClassification, NotificationFilter, NotificationSeverity,
    PackStr, Query, QueryType, Record, Result, ResultSummary, RetryConfig, RoutingControl,
    Security, ServerAddress, ServerError, ServerErrorKind, ServerInfo, SessionConfig,
    TransactionConfig, TrustedCertificates, Value, value,
};

/// A Neo4j driver: a connection pool to one server. `Send + Sync`, cheap to clone.
#[derive(Debug, Clone)]
pub struct Driver(quiver_driver::Driver<BlockingRuntime>);

impl Driver {
    /// A driver for `uri` (`bolt://`, `bolt+s://`, `bolt+ssc://`); nothing is connected yet.
    pub fn new(uri: &str, auth: AuthToken) -> Result<Self> {
        Self::with_config(uri, auth, Config::default())
    }
    /// A driver with `config`.
    pub fn with_config(uri: &str, auth: AuthToken, config: Config) -> Result<Self> {
        quiver_driver::Driver::with_config(uri, auth, config).map(Driver)
    }
    /// Connect (or reuse a connection) to check that the server is reachable and accepts the
    /// credentials.
    pub fn verify_connectivity(&self) -> Result<()> {
        block_on(self.0.verify_connectivity())
    }
    /// Which server the driver talks to.
    pub fn get_server_info(&self) -> Result<ServerInfo> {
        block_on(self.0.get_server_info())
    }
    /// Whether the server supports several databases (Bolt 4.0+).
    pub fn supports_multi_db(&self) -> Result<bool> {
        block_on(self.0.supports_multi_db())
    }
    /// A session with the default configuration.
    pub fn session(&self) -> Session {
        Session(self.0.session())
    }
    /// A session with `config`.
    pub fn session_with(&self, config: SessionConfig) -> Session {
        Session(self.0.session_with(config))
    }
    /// One query in a retried managed transaction; set options on the builder, then
    /// [`run`](ExecuteQuery::run) it.
    pub fn execute_query(&self, query: impl Into<Query>) -> ExecuteQuery<'_> {
        ExecuteQuery(self.0.execute_query(query))
    }
    /// The bookmark manager that chains consecutive [`execute_query`](Self::execute_query) calls.
    pub fn execute_query_bookmark_manager(&self) -> &BookmarkManager {
        self.0.execute_query_bookmark_manager()
    }
    /// The configuration.
    pub fn config(&self) -> &Config {
        self.0.config()
    }
    /// Whether connections use TLS.
    pub fn encrypted(&self) -> bool {
        self.0.encrypted()
    }
    /// Connections in the pool: (total, idle).
    pub fn pool_sizes(&self) -> (usize, usize) {
        self.0.pool_sizes()
    }
    /// Close idle connections and refuse new work.
    pub fn close(&self) {
        block_on(self.0.close())
    }
}

/// Options of [`Driver::execute_query`]; [`run`](Self::run) executes it.
#[must_use = "execute_query does nothing until run"]
pub struct ExecuteQuery<'d>(quiver_driver::ExecuteQuery<'d, BlockingRuntime>);

impl ExecuteQuery<'_> {
    /// Add a parameter.
    pub fn param(self, name: &str, value: impl Into<Value>) -> Self {
        ExecuteQuery(self.0.param(name, value))
    }
    /// Read or write transaction.
    pub fn routing(self, routing: RoutingControl) -> Self {
        ExecuteQuery(self.0.routing(routing))
    }
    /// Target database.
    pub fn database(self, database: impl Into<String>) -> Self {
        ExecuteQuery(self.0.database(database))
    }
    /// Run as another user.
    pub fn impersonate(self, user: impl Into<String>) -> Self {
        ExecuteQuery(self.0.impersonate(user))
    }
    /// Use `manager` instead of the driver's default one (`None`: no causal chaining).
    pub fn bookmark_manager(self, manager: Option<BookmarkManager>) -> Self {
        ExecuteQuery(self.0.bookmark_manager(manager))
    }
    /// Run the query (retrying transient failures) and return all records and the summary.
    pub fn run(self) -> Result<EagerResult> {
        block_on(self.0.into_future())
    }
}

/// A sequence of causally chained transactions on one connection at a time; one per thread.
pub struct Session(quiver_driver::Session<BlockingRuntime>);

impl Session {
    /// Run an auto-commit query; iterate the result for its records.
    pub fn run(&mut self, query: impl Into<Query>) -> Result<RecordIter<'_>> {
        block_on(self.0.run(query)).map(RecordIter)
    }
    /// Begin an explicit transaction.
    pub fn begin_transaction(&mut self) -> Result<Transaction> {
        block_on(self.0.begin_transaction()).map(Transaction)
    }
    /// Begin an explicit transaction with metadata and timeout.
    pub fn begin_transaction_with(&mut self, config: TransactionConfig) -> Result<Transaction> {
        block_on(self.0.begin_transaction_with(config)).map(Transaction)
    }
    /// Run `work` in a read transaction, retried on transient failures (see
    /// [`execute_write`](Self::execute_write)).
    pub fn execute_read<T>(
        &mut self,
        work: impl FnMut(&mut Transaction) -> Result<T>,
    ) -> Result<T> {
        self.execute_with(AccessMode::Read, TransactionConfig::default(), work)
    }
    /// Run `work` in a write transaction and commit it when it returns `Ok`; on a retryable
    /// error (deadlock, transient server error, connection lost before COMMIT) roll back, back off
    /// and run it again, within the driver's `max_retry_time`. `work` may run several times.
    pub fn execute_write<T>(
        &mut self,
        work: impl FnMut(&mut Transaction) -> Result<T>,
    ) -> Result<T> {
        self.execute_with(AccessMode::Write, TransactionConfig::default(), work)
    }
    /// [`execute_read`](Self::execute_read) / [`execute_write`](Self::execute_write) with
    /// transaction metadata and timeout.
    pub fn execute_with<T>(
        &mut self,
        mode: AccessMode,
        config: TransactionConfig,
        mut work: impl FnMut(&mut Transaction) -> Result<T>,
    ) -> Result<T> {
        // The closure runs synchronously inside the driver's future (its queries block on their
        // own, nested), and hands the transaction back by dropping it.
        block_on(self.0.execute_with(mode, config, |inner| {
            std::future::ready(work(&mut Transaction(inner)))
        }))
    }
    /// The bookmarks of the last committed transaction: give them to another session to let it
    /// see this session's work.
    pub fn last_bookmarks(&self) -> Bookmarks {
        self.0.last_bookmarks()
    }
    /// Give the connection back to the pool (dropping the session does the same).
    pub fn close(self) -> Result<()> {
        block_on(self.0.close())
    }
}

/// An explicit transaction; dropping it uncommitted rolls it back.
pub struct Transaction(quiver_driver::Transaction<BlockingRuntime>);

impl Transaction {
    /// Run a query in the transaction. Results of earlier queries may stay open: each is
    /// pulled with its own stream id (Bolt `qid`) as it is iterated; committing or rolling back
    /// discards what they did not read.
    pub fn run(&self, query: impl Into<Query>) -> Result<RecordIter<'static>> {
        block_on(self.0.run(query)).map(RecordIter)
    }
    /// Commit. [`Error::IncompleteCommit`] means the connection broke after COMMIT was sent.
    pub fn commit(self) -> Result<()> {
        block_on(self.0.commit())
    }
    /// Roll back.
    pub fn rollback(self) -> Result<()> {
        block_on(self.0.rollback())
    }
    /// Whether the transaction is still open.
    pub fn is_open(&self) -> bool {
        self.0.is_open()
    }
}

/// The records of one query, pulled from the server a batch (`fetch_size`) at a time as the
/// iterator advances. Dropping it early is safe: the rest is discarded.
pub struct RecordIter<'a>(quiver_driver::RecordStream<'a, BlockingRuntime>);

impl Iterator for RecordIter<'_> {
    type Item = Result<Record>;
    fn next(&mut self) -> Option<Result<Record>> {
        block_on(self.0.next())
    }
}

impl RecordIter<'_> {
    /// The column names.
    pub fn keys(&self) -> &[PackStr] {
        self.0.keys()
    }
    /// The next record without consuming it.
    pub fn peek(&mut self) -> Option<Result<&Record>> {
        block_on(self.0.peek())
    }
    /// Up to `n` records.
    pub fn fetch(&mut self, n: usize) -> Result<Vec<Record>> {
        block_on(self.0.fetch(n))
    }
    /// Exactly one record ([`Error::ResultNotSingle`] otherwise).
    pub fn single(self) -> Result<Record> {
        block_on(self.0.single())
    }
    /// Discard the remaining records and return the summary.
    pub fn consume(self) -> Result<ResultSummary> {
        block_on(self.0.consume())
    }
    /// All remaining records and the summary.
    pub fn into_eager(self) -> Result<EagerResult> {
        block_on(self.0.into_eager())
    }
}

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn the_driver_can_be_shared_between_threads() {
        assert_send_sync::<super::Driver>();
        fn assert_send<T: Send>() {}
        assert_send::<super::Session>();
    }
}
