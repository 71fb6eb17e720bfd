//! Sessions, transactions and transaction functions.

use std::time::Duration;

use quiver_bolt::value::{Map, Value};
use quiver_bolt::{
    AccessMode, NotificationFilter, Request, RequestId, Run, TelemetryApi, TxExtra, metadata,
};

use crate::bookmarks::{BookmarkManager, Bookmarks};
use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::pool::PooledConnection;
use crate::result::{BookmarkState, EagerResult, Owner, RecordStream};
use crate::retry::{RetryDecision, RetryState, seed};
use crate::runtime::Runtime;

/// A query: text, parameters and, for auto-commit queries, transaction metadata and timeout.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub(crate) text: String,
    pub(crate) parameters: Map,
    pub(crate) config: TransactionConfig,
}

impl Query {
    /// A query without parameters.
    pub fn new(text: impl Into<String>) -> Self {
        Query {
            text: text.into(),
            ..Query::default()
        }
    }
    /// Add a parameter (`$name` in the query).
    pub fn param(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.parameters.insert(name, value.into());
        self
    }
    /// Replace all parameters.
    pub fn params(mut self, parameters: Map) -> Self {
        self.parameters = parameters;
        self
    }
    /// Transaction metadata (auto-commit queries; shown by `SHOW TRANSACTIONS`).
    pub fn with_metadata(mut self, metadata: Map) -> Self {
        self.config.metadata = metadata;
        self
    }
    /// Transaction timeout (auto-commit queries).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = Some(timeout);
        self
    }
    /// The query text.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The parameters.
    pub fn parameters(&self) -> &Map {
        &self.parameters
    }
}

impl From<&str> for Query {
    fn from(text: &str) -> Self {
        Query::new(text)
    }
}

impl From<String> for Query {
    fn from(text: String) -> Self {
        Query::new(text)
    }
}

/// Metadata and timeout of a transaction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TransactionConfig {
    /// Metadata attached to the transaction.
    pub metadata: Map,
    /// The server aborts the transaction after this long.
    pub timeout: Option<Duration>,
}

impl TransactionConfig {
    /// No metadata, the server's default timeout.
    pub fn new() -> Self {
        TransactionConfig::default()
    }
    /// Set the metadata.
    pub fn with_metadata(mut self, metadata: Map) -> Self {
        self.metadata = metadata;
        self
    }
    /// Set the timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// Per-session settings. Build with [`SessionConfig::new`] and the `with_*` setters.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SessionConfig {
    /// Target database (`None`: the server's default / the user's home database).
    pub database: Option<String>,
    /// Access mode of `run` and `begin_transaction` (default write).
    pub default_access_mode: AccessMode,
    /// Initial bookmarks: the session's first transaction sees the work they name.
    pub bookmarks: Bookmarks,
    /// Shared bookmark manager (causal consistency across sessions).
    pub bookmark_manager: Option<BookmarkManager>,
    /// Records per PULL (default: the driver's).
    pub fetch_size: Option<i64>,
    /// Run as this user (needs the IMPERSONATE privilege).
    pub impersonated_user: Option<String>,
    /// Notification filters for this session's queries.
    pub notifications: NotificationFilter,
}

impl SessionConfig {
    /// The defaults.
    pub fn new() -> Self {
        SessionConfig::default()
    }
    /// Target `database`.
    pub fn with_database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }
    /// Set the default access mode.
    pub fn with_default_access_mode(mut self, mode: AccessMode) -> Self {
        self.default_access_mode = mode;
        self
    }
    /// Start from these bookmarks.
    pub fn with_bookmarks(mut self, bookmarks: Bookmarks) -> Self {
        self.bookmarks = bookmarks;
        self
    }
    /// Share bookmarks through `manager`.
    pub fn with_bookmark_manager(mut self, manager: BookmarkManager) -> Self {
        self.bookmark_manager = Some(manager);
        self
    }
    /// Set the records per PULL.
    pub fn with_fetch_size(mut self, fetch_size: i64) -> Self {
        self.fetch_size = Some(fetch_size);
        self
    }
    /// Impersonate `user`.
    pub fn with_impersonated_user(mut self, user: impl Into<String>) -> Self {
        self.impersonated_user = Some(user.into());
        self
    }
    /// Set notification filters.
    pub fn with_notifications(mut self, notifications: NotificationFilter) -> Self {
        self.notifications = notifications;
        self
    }
}

/// A sequence of transactions against one database, causally chained by bookmarks.
///
/// A session takes a connection from the pool at its first query and keeps it until it is dropped
/// (or a transaction function returns): it is cheap, but not meant to be shared — open one per
/// task. Dropping a session, a result or a transaction at any point is safe (see the crate docs
/// on cancel safety).
pub struct Session<R: Runtime> {
    driver: Driver<R>,
    config: SessionConfig,
    fetch_size: i64,
    conn: Option<PooledConnection<R>>,
    bookmarks: BookmarkState,
}

impl<R: Runtime> Session<R> {
    pub(crate) fn new(driver: Driver<R>, mut config: SessionConfig) -> Self {
        let fetch_size = config.fetch_size.unwrap_or(driver.config().fetch_size);
        let bookmarks = BookmarkState {
            last: std::mem::take(&mut config.bookmarks),
            manager: config.bookmark_manager.clone(),
        };
        Session {
            driver,
            config,
            fetch_size,
            conn: None,
            bookmarks,
        }
    }

    /// The bookmarks of the last committed transaction (or the initial ones): hand them to another
    /// session to let it see this session's work.
    pub fn last_bookmarks(&self) -> Bookmarks {
        self.bookmarks.last.clone()
    }

    /// A READY connection: the session's own (cleaned up if a result or transaction was dropped)
    /// or a new one from the pool.
    async fn connection(&mut self) -> Result<&mut PooledConnection<R>> {
        if let Some(conn) = &mut self.conn {
            if !conn.is_clean() && (!conn.is_reusable() || conn.reset().await.is_err()) {
                if let Some(mut conn) = self.conn.take() {
                    conn.discard();
                }
            }
        }
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => self.driver.pool().acquire().await?,
        };
        Ok(self.conn.insert(conn))
    }

    fn extra(
        &self,
        mode: AccessMode,
        config: &TransactionConfig,
        bookmarks: &Bookmarks,
    ) -> TxExtra {
        TxExtra {
            bookmarks: bookmarks.to_vec(),
            tx_timeout: config.timeout,
            tx_metadata: config.metadata.clone(),
            mode,
            db: self.config.database.clone(),
            imp_user: self.config.impersonated_user.clone(),
            notifications: self.config.notifications.clone(),
        }
    }

    /// Run an auto-commit query (RUN and the first PULL leave in one write).
    pub async fn run(&mut self, query: impl Into<Query>) -> Result<RecordStream<'_, R>> {
        self.run_with_api(query.into(), TelemetryApi::AutoCommit)
            .await
    }

    pub(crate) async fn run_with_api(
        &mut self,
        query: Query,
        api: TelemetryApi,
    ) -> Result<RecordStream<'_, R>> {
        let sent = self.bookmarks.to_send();
        let extra = self.extra(self.config.default_access_mode, &query.config, &sent);
        let fetch_size = self.fetch_size;
        self.connection().await?;
        let conn = self
            .conn
            .as_mut()
            .ok_or(Error::SessionExpired("no connection".into()))?;
        send_telemetry(conn, api)?;
        let run = Run {
            query: query.text,
            parameters: query.parameters,
            extra,
        };
        let owner = Owner::AutoCommit {
            bookmarks: &mut self.bookmarks,
            sent,
        };
        RecordStream::start(conn, owner, run, fetch_size, None).await
    }

    /// Begin an explicit transaction in the default access mode. BEGIN is sent together with the
    /// first query (or COMMIT).
    pub async fn begin_transaction(&mut self) -> Result<Transaction<'_, R>> {
        self.begin(
            self.config.default_access_mode,
            TransactionConfig::default(),
            TelemetryApi::UnmanagedTransaction,
        )
        .await
    }

    /// Begin an explicit transaction with metadata and timeout.
    pub async fn begin_transaction_with(
        &mut self,
        config: TransactionConfig,
    ) -> Result<Transaction<'_, R>> {
        self.begin(
            self.config.default_access_mode,
            config,
            TelemetryApi::UnmanagedTransaction,
        )
        .await
    }

    async fn begin(
        &mut self,
        mode: AccessMode,
        config: TransactionConfig,
        api: TelemetryApi,
    ) -> Result<Transaction<'_, R>> {
        let sent = self.bookmarks.to_send();
        let extra = self.extra(mode, &config, &sent);
        let fetch_size = self.fetch_size;
        self.connection().await?;
        let conn = self
            .conn
            .as_mut()
            .ok_or(Error::SessionExpired("no connection".into()))?;
        send_telemetry(conn, api)?;
        let begin = conn.send(Request::Begin(extra))?;
        Ok(Transaction {
            conn,
            bookmarks: &mut self.bookmarks,
            sent,
            fetch_size,
            pending_begin: Some(begin),
            open: true,
            failed: false,
        })
    }

    /// Run `work` in a read transaction, retrying it on transient failures (see
    /// [`execute_write`](Self::execute_write)).
    pub async fn execute_read<T, F>(&mut self, work: F) -> Result<T>
    where
        F: AsyncFnMut(&mut Transaction<'_, R>) -> Result<T>,
    {
        self.execute(
            AccessMode::Read,
            TransactionConfig::default(),
            TelemetryApi::ManagedTransaction,
            work,
        )
        .await
    }

    /// Run `work` in a write transaction and commit it; on a retryable error (deadlock, other
    /// transient server errors, connection loss before COMMIT) roll back, wait (exponential
    /// backoff with jitter) and run it again, within the driver's `max_retry_time`.
    ///
    /// `work` may therefore run several times: keep side effects outside the database idempotent.
    /// If the connection breaks after COMMIT was sent, the outcome is unknown and the error
    /// ([`Error::IncompleteCommit`]) is returned without retrying.
    pub async fn execute_write<T, F>(&mut self, work: F) -> Result<T>
    where
        F: AsyncFnMut(&mut Transaction<'_, R>) -> Result<T>,
    {
        self.execute(
            AccessMode::Write,
            TransactionConfig::default(),
            TelemetryApi::ManagedTransaction,
            work,
        )
        .await
    }

    /// [`execute_read`](Self::execute_read) or [`execute_write`](Self::execute_write) with
    /// transaction metadata and timeout.
    pub async fn execute_with<T, F>(
        &mut self,
        mode: AccessMode,
        config: TransactionConfig,
        work: F,
    ) -> Result<T>
    where
        F: AsyncFnMut(&mut Transaction<'_, R>) -> Result<T>,
    {
        self.execute(mode, config, TelemetryApi::ManagedTransaction, work)
            .await
    }

    pub(crate) async fn execute<T, F>(
        &mut self,
        mode: AccessMode,
        config: TransactionConfig,
        api: TelemetryApi,
        mut work: F,
    ) -> Result<T>
    where
        F: AsyncFnMut(&mut Transaction<'_, R>) -> Result<T>,
    {
        let mut retry = self.retry_state();
        loop {
            let error = match self.begin(mode, config.clone(), api).await {
                Ok(mut tx) => match work(&mut tx).await {
                    Ok(value) => match tx.commit().await {
                        Ok(()) => {
                            // Give the connection back: the unit of work is done.
                            self.conn = None;
                            return Ok(value);
                        }
                        Err(e) => e,
                    },
                    Err(e) => {
                        if tx.open && !tx.failed {
                            let _ = tx.rollback().await;
                        }
                        e
                    }
                },
                Err(e) => e,
            };
            self.backoff(&mut retry, error).await?;
        }
    }

    /// `execute_query`'s managed transaction. Written without a closure so that its future is
    /// `Send` (async closures borrowing captured state hit rust-lang/rust#110338 here).
    pub(crate) async fn execute_eager(
        &mut self,
        mode: AccessMode,
        config: TransactionConfig,
        query: Query,
    ) -> Result<EagerResult> {
        let mut retry = self.retry_state();
        loop {
            let error = match self
                .begin(mode, config.clone(), TelemetryApi::DriverLevel)
                .await
            {
                Ok(mut tx) => {
                    let eager = match tx.run(query.clone()).await {
                        Ok(result) => result.into_eager().await,
                        Err(e) => Err(e),
                    };
                    match eager {
                        Ok(eager) => match tx.commit().await {
                            Ok(()) => {
                                self.conn = None;
                                return Ok(eager);
                            }
                            Err(e) => e,
                        },
                        Err(e) => e,
                    }
                }
                Err(e) => e,
            };
            self.backoff(&mut retry, error).await?;
        }
    }

    fn retry_state(&self) -> RetryState {
        RetryState::new(
            self.driver.config().retry,
            self.driver.runtime().now(),
            seed(),
        )
    }

    /// After a failed attempt: give the connection back (the pool cleans it up or discards it),
    /// then wait before the next attempt, or return the error.
    async fn backoff(&mut self, retry: &mut RetryState, error: Error) -> Result<()> {
        self.conn = None;
        let runtime = self.driver.runtime().clone();
        match retry.on_error(&error, runtime.now()) {
            RetryDecision::RetryAt(at) => {
                runtime.sleep_until(at).await;
                Ok(())
            }
            RetryDecision::GiveUp => Err(error),
        }
    }

    /// Give the connection back to the pool. Dropping the session does the same.
    pub async fn close(mut self) -> Result<()> {
        if let Some(conn) = &mut self.conn {
            if !conn.is_clean() && conn.is_reusable() {
                conn.reset().await?;
            }
        }
        self.conn = None;
        Ok(())
    }
}

fn send_telemetry<R: Runtime>(conn: &mut PooledConnection<R>, api: TelemetryApi) -> Result<()> {
    if conn.telemetry {
        conn.send(Request::Telemetry(api))?;
        // One per connection and kind of API is enough for the server's statistics.
        conn.telemetry = false;
    }
    Ok(())
}

/// An explicit transaction. Commit with [`commit`](Self::commit); dropping it uncommitted rolls
/// it back (the connection is RESET before its next use).
pub struct Transaction<'a, R: Runtime> {
    conn: &'a mut PooledConnection<R>,
    bookmarks: &'a mut BookmarkState,
    sent: Bookmarks,
    fetch_size: i64,
    /// BEGIN is pipelined with the first RUN (or COMMIT/ROLLBACK).
    pending_begin: Option<RequestId>,
    open: bool,
    failed: bool,
}

impl<R: Runtime> Transaction<'_, R> {
    fn check_open(&self) -> Result<()> {
        if !self.open {
            return Err(Error::TransactionClosed("it was committed or rolled back"));
        }
        if self.failed {
            return Err(Error::TransactionClosed(
                "a query in it failed; its error was returned, and the transaction is rolled back",
            ));
        }
        Ok(())
    }

    /// Map the loss of the connection inside a transaction: the work can be retried in a new one.
    fn lost(error: Error) -> Error {
        match error {
            Error::ServiceUnavailable { reason, .. } => Error::SessionExpired(format!(
                "the connection was lost inside a transaction ({reason}); nothing was committed"
            )),
            other => other,
        }
    }

    /// Run a query in the transaction. BEGIN (the first time), RUN and PULL leave in one write.
    pub async fn run(&mut self, query: impl Into<Query>) -> Result<RecordStream<'_, R>> {
        self.check_open()?;
        let query = query.into();
        if self.pending_begin.is_none() {
            if let Err(e) = self.conn.settle_in_transaction().await {
                self.failed = true;
                return Err(Self::lost(e));
            }
        }
        let run = Run {
            query: query.text,
            parameters: query.parameters,
            extra: TxExtra::default(),
        };
        let begin = self.pending_begin.take();
        let owner = Owner::Transaction {
            failed: &mut self.failed,
        };
        RecordStream::start(self.conn, owner, run, self.fetch_size, begin)
            .await
            .map_err(Self::lost)
    }

    /// Commit. If the connection breaks after COMMIT was sent, the error is
    /// [`Error::IncompleteCommit`]: the outcome is unknown.
    pub async fn commit(mut self) -> Result<()> {
        self.check_open()?;
        self.open = false;
        self.finish_begin().await?;
        let id = self.conn.send(Request::Commit)?;
        match self.conn.expect_success(id).await {
            Ok(metadata) => {
                self.bookmarks
                    .committed(&self.sent, metadata::bookmark(&metadata));
                Ok(())
            }
            Err(Error::ServiceUnavailable { reason, .. }) => {
                Err(Error::IncompleteCommit { reason })
            }
            Err(e) => Err(e),
        }
    }

    /// Roll back.
    pub async fn rollback(mut self) -> Result<()> {
        self.check_open()?;
        self.open = false;
        self.finish_begin().await?;
        let id = self.conn.send(Request::Rollback)?;
        self.conn
            .expect_success(id)
            .await
            .map(drop)
            .map_err(Self::lost)
    }

    /// Before COMMIT/ROLLBACK: BEGIN's answer, and any abandoned result settled.
    async fn finish_begin(&mut self) -> Result<()> {
        let settled = match self.pending_begin.take() {
            Some(begin) => self.conn.expect_success(begin).await.map(drop),
            None => self.conn.settle_in_transaction().await,
        };
        settled.map_err(|e| {
            self.failed = true;
            Self::lost(e)
        })
    }

    /// Whether the transaction is still open (not committed, rolled back or failed).
    pub fn is_open(&self) -> bool {
        self.open && !self.failed
    }
}
