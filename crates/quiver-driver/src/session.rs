//! Sessions, transactions and transaction functions.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use tracing::Instrument;

use quiver_bolt::value::{Map, Value};
use quiver_bolt::{AccessMode, AuthToken, NotificationFilter, Request, Run, TelemetryApi, TxExtra};

use crate::bookmarks::{BookmarkManager, Bookmarks};
use crate::driver::{Driver, Work};
use crate::error::{Error, Result};
use crate::pool::PooledConnection;
use crate::result::{BookmarkState, ConnSlot, EagerResult, Owner, RecordStream};
use crate::retry::{RetryDecision, RetryState, seed};
use crate::runtime::Runtime;
use crate::txcore::TxShared;

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
    /// Run as another user, with LOGOFF/LOGON on the pooled connection (Bolt 5.1+).
    pub auth: Option<AuthToken>,
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
    /// Authenticate this session's work with `auth` (Bolt 5.1+ re-auth; cheaper than a second
    /// driver, but each switch costs a round trip).
    pub fn with_auth(mut self, auth: AuthToken) -> Self {
        self.auth = Some(auth);
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
/// A session takes a connection from the pool for each unit of work and gives it back when the
/// unit of work is done (an auto-commit result when its last record has arrived, a transaction
/// when it ends). It is cheap, but not meant to be shared: open one per task. Dropping a
/// session, a result or a transaction at any point is safe (see the crate docs on cancel
/// safety).
pub struct Session<R: Runtime> {
    driver: Driver<R>,
    config: SessionConfig,
    fetch_size: i64,
    conn: Option<PooledConnection<R>>,
    bookmarks: Arc<BookmarkState>,
    /// Explicit transactions dropped while open: rolled back at the session's next use or close.
    abandoned: Arc<Mutex<Vec<Arc<TxShared<R>>>>>,
    /// The database the work goes to (resolved on first use by a routing driver).
    target: TargetDb,
}

/// Where a session's work goes.
#[derive(Debug)]
pub(crate) enum TargetDb {
    /// Known: configured, a direct driver's (`None`: the server's default), or the home
    /// database a routing driver resolved and pinned for the rest of the session.
    Known(Option<String>),
    /// A routing driver's session without a database, before its first unit of work.
    Unresolved,
    /// A home database guessed from the cache (Bolt 5.8): BEGIN/RUN go without `db`, and the
    /// database their SUCCESS names lands in `pin`, to be pinned at the next acquisition.
    Guessed {
        database: String,
        pin: Arc<Mutex<Option<String>>>,
    },
}

impl TargetDb {
    /// The `db` of BEGIN/RUN.
    fn request_db(&self) -> Option<String> {
        match self {
            TargetDb::Known(db) => db.clone(),
            TargetDb::Unresolved | TargetDb::Guessed { .. } => None,
        }
    }

    /// Where BEGIN/RUN's SUCCESS reports the database, while guessing.
    fn pin(&self) -> Option<Arc<Mutex<Option<String>>>> {
        match self {
            TargetDb::Guessed { pin, .. } => Some(pin.clone()),
            _ => None,
        }
    }

    /// The name for tracing spans.
    fn name(&self) -> Option<&str> {
        match self {
            TargetDb::Known(db) => db.as_deref(),
            TargetDb::Unresolved => None,
            TargetDb::Guessed { database, .. } => Some(database),
        }
    }
}

impl<R: Runtime> Session<R> {
    pub(crate) fn new(driver: Driver<R>, mut config: SessionConfig) -> Self {
        let fetch_size = config.fetch_size.unwrap_or(driver.config().fetch_size);
        let bookmarks = Arc::new(BookmarkState::new(
            std::mem::take(&mut config.bookmarks),
            config.bookmark_manager.clone(),
        ));
        let target = match &config.database {
            None if driver.is_routing() => TargetDb::Unresolved,
            database => TargetDb::Known(database.clone()),
        };
        Session {
            driver,
            config,
            fetch_size,
            conn: None,
            bookmarks,
            abandoned: Arc::new(Mutex::new(Vec::new())),
            target,
        }
    }

    /// Roll back the explicit transactions of this session that were dropped while open (with
    /// DISCARD of an open result, then ROLLBACK, as official drivers do when a session closes);
    /// their connections then go back to the pool.
    async fn end_abandoned_transactions(&mut self) {
        let abandoned = std::mem::take(
            &mut *self
                .abandoned
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for tx in abandoned {
            tx.inner.lock().await.roll_back_quietly(&tx.flags).await;
        }
    }

    /// The bookmarks of the last committed transaction (or the initial ones): hand them to another
    /// session to let it see this session's work.
    pub fn last_bookmarks(&self) -> Bookmarks {
        self.bookmarks.last()
    }

    /// A READY connection for work in `mode` starting from `bookmarks`: a direct driver's
    /// session reuses its own (cleaned up if a result was dropped); otherwise one from the
    /// pool (a routing driver resolves the session's home database first, and gives its own
    /// connection back: the next work may need another server).
    async fn connection(&mut self, mode: AccessMode) -> Result<PooledConnection<R>> {
        self.end_abandoned_transactions().await;
        if let Some(mut conn) = self.conn.take() {
            if !self.driver.is_routing()
                && (conn.is_clean() || (conn.is_reusable() && conn.reset().await.is_ok()))
            {
                return Ok(conn);
            }
            if !conn.is_reusable() {
                conn.discard();
            }
        }
        let state = self.bookmarks.clone();
        let bookmarks = move || state.to_send();
        let work = Work {
            mode,
            imp_user: self.config.impersonated_user.as_deref(),
            bookmarks: &bookmarks,
            auth: self.config.auth.as_ref(),
        };
        self.driver.acquire_for(&mut self.target, &work).await
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
            db: self.target.request_db(),
            imp_user: self.config.impersonated_user.clone(),
            notifications: self.config.notifications.clone(),
        }
    }

    /// Run an auto-commit query (RUN and the first PULL leave in one write).
    pub async fn run(&mut self, query: impl Into<Query>) -> Result<RecordStream<'_, R>> {
        let query = query.into();
        let span = tracing::info_span!(
            "neo4j.query",
            "db.system" = "neo4j",
            "db.namespace" = self.target.name(),
            "db.query.text" = query.text.as_str(),
            "server.address" = %self.driver.address(),
        );
        self.run_inner(query).instrument(span).await
    }

    async fn run_inner(&mut self, query: Query) -> Result<RecordStream<'_, R>> {
        let mode = self.config.default_access_mode;
        let fetch_size = self.fetch_size;
        let mut conn = self.connection(mode).await?;
        // Asked for after the connection (a ROUTE on the way asked for its own).
        let sent = self.bookmarks.to_send();
        let extra = self.extra(mode, &query.config, &sent);
        let pin = self.target.pin();
        conn.send_telemetry(TelemetryApi::AutoCommit, None)?;
        self.conn = Some(conn);
        let run = Run {
            query: query.text,
            parameters: query.parameters,
            extra,
        };
        let owner = Owner::AutoCommit {
            bookmarks: &self.bookmarks,
            sent,
        };
        let stream = RecordStream::start(
            ConnSlot::Session(&mut self.conn),
            owner,
            run,
            fetch_size,
            None,
        )
        .await?;
        if let Some(pin) = pin {
            pin_database(&pin, stream.run_metadata());
        }
        Ok(stream)
    }

    /// Begin an explicit transaction in the default access mode. BEGIN is sent together with the
    /// first query (or COMMIT).
    ///
    /// The transaction owns its connection: it does not borrow the session, and can be moved into
    /// another task.
    pub async fn begin_transaction(&mut self) -> Result<Transaction<R>> {
        self.begin(
            self.config.default_access_mode,
            TransactionConfig::default(),
            Telemetry::Always(TelemetryApi::UnmanagedTransaction),
        )
        .await
    }

    /// Begin an explicit transaction with metadata and timeout.
    pub async fn begin_transaction_with(
        &mut self,
        config: TransactionConfig,
    ) -> Result<Transaction<R>> {
        self.begin(
            self.config.default_access_mode,
            config,
            Telemetry::Always(TelemetryApi::UnmanagedTransaction),
        )
        .await
    }

    async fn begin(
        &mut self,
        mode: AccessMode,
        config: TransactionConfig,
        telemetry: Telemetry<'_>,
    ) -> Result<Transaction<R>> {
        let mut conn = self.connection(mode).await?;
        // Asked for after the connection (a ROUTE on the way asked for its own).
        let sent = self.bookmarks.to_send();
        let extra = self.extra(mode, &config, &sent);
        let pin = self.target.pin();
        match telemetry {
            Telemetry::Always(api) => conn.send_telemetry(api, None)?,
            Telemetry::UntilAcknowledged(api, acked) => {
                if !acked.load(Ordering::Relaxed) {
                    conn.send_telemetry(api, Some(acked))?;
                }
            }
        }
        let begin = conn.send(Request::Begin(extra))?;
        let server = conn.server.clone();
        Ok(Transaction {
            shared: Some(Arc::new(TxShared::new(
                conn,
                self.bookmarks.clone(),
                sent,
                self.fetch_size,
                begin,
                pin,
            ))),
            fetch_size: self.fetch_size,
            server,
            home: None,
            session: Arc::downgrade(&self.abandoned),
        })
    }

    /// Run `work` in a read transaction, retrying it on transient failures (see
    /// [`execute_write`](Self::execute_write)).
    pub async fn execute_read<T, F, Fut>(&mut self, work: F) -> Result<T>
    where
        F: FnMut(Transaction<R>) -> Fut,
        Fut: Future<Output = Result<T>>,
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
    /// `work` receives the transaction by value and returns a future (`|tx| async move { … }`):
    /// that way the future it returns is an ordinary value whose `Send`-ness the compiler can see,
    /// so the call can be spawned (an async closure borrowing the transaction cannot be, today:
    /// rust-lang/rust#110338). Don't commit inside: the driver commits when the future returns
    /// `Ok`, and rolls back when it returns `Err`.
    ///
    /// `work` may run several times: keep side effects outside the database idempotent. If the
    /// connection breaks after COMMIT was sent, the outcome is unknown and the error
    /// ([`Error::IncompleteCommit`]) is returned without retrying.
    pub async fn execute_write<T, F, Fut>(&mut self, work: F) -> Result<T>
    where
        F: FnMut(Transaction<R>) -> Fut,
        Fut: Future<Output = Result<T>>,
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
    pub async fn execute_with<T, F, Fut>(
        &mut self,
        mode: AccessMode,
        config: TransactionConfig,
        work: F,
    ) -> Result<T>
    where
        F: FnMut(Transaction<R>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.execute(mode, config, TelemetryApi::ManagedTransaction, work)
            .await
    }

    pub(crate) async fn execute<T, F, Fut>(
        &mut self,
        mode: AccessMode,
        config: TransactionConfig,
        api: TelemetryApi,
        work: F,
    ) -> Result<T>
    where
        F: FnMut(Transaction<R>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let span = tracing::info_span!(
            "neo4j.transaction",
            "db.system" = "neo4j",
            "db.namespace" = self.target.name(),
            "server.address" = %self.driver.address(),
            "db.neo4j.access_mode" = ?mode,
        );
        self.execute_inner(mode, config, api, work)
            .instrument(span)
            .await
    }

    async fn execute_inner<T, F, Fut>(
        &mut self,
        mode: AccessMode,
        config: TransactionConfig,
        api: TelemetryApi,
        mut work: F,
    ) -> Result<T>
    where
        F: FnMut(Transaction<R>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut retry = self.retry_state();
        // TELEMETRY goes with each attempt until the server acknowledged one (as the official
        // drivers do): a retry after a lost connection reports the API use again, a retry after
        // a failed transaction does not.
        let telemetry_acked = Arc::new(AtomicBool::new(false));
        loop {
            let telemetry = Telemetry::UntilAcknowledged(api, &telemetry_acked);
            let error = match self.begin(mode, config.clone(), telemetry).await {
                Ok(mut tx) => {
                    // The transaction comes back here when the work drops it.
                    let home = Arc::new(Mutex::new(None));
                    tx.home = Some(home.clone());
                    let outcome = work(tx).await;
                    let shared = home.lock().unwrap_or_else(PoisonError::into_inner).take();
                    match (outcome, shared) {
                        (Ok(value), Some(tx)) => {
                            match tx.inner.lock().await.commit(&tx.flags).await {
                                Ok(()) => return Ok(value),
                                Err(e) => e,
                            }
                        }
                        (Err(e), Some(tx)) => {
                            // Rolled back (after a failure: no ROLLBACK, the connection was
                            // RESET then). Either way the transaction ends here, so its
                            // connection goes back to the pool for the next attempt even if
                            // the function kept one of its results.
                            let mut inner = tx.inner.lock().await;
                            if inner.open {
                                let _ = inner.rollback(&tx.flags).await;
                            }
                            e
                        }
                        (Ok(_), None) => {
                            return Err(Error::Configuration(
                                "the transaction function kept its transaction (e.g. returned or stored it); \
                                 it must be dropped when the function's future completes"
                                    .into(),
                            ));
                        }
                        (Err(e), None) => e,
                    }
                }
                Err(e) => e,
            };
            self.backoff(&mut retry, error).await?;
        }
    }

    /// `execute_query`'s managed transaction.
    pub(crate) async fn execute_eager(
        &mut self,
        mode: AccessMode,
        config: TransactionConfig,
        query: Query,
    ) -> Result<EagerResult> {
        let span = tracing::info_span!(
            "neo4j.execute_query",
            "db.system" = "neo4j",
            "db.namespace" = self.target.name(),
            "db.query.text" = query.text.as_str(),
            "server.address" = %self.driver.address(),
        );
        self.execute_eager_inner(mode, config, query)
            .instrument(span)
            .await
    }

    async fn execute_eager_inner(
        &mut self,
        mode: AccessMode,
        config: TransactionConfig,
        query: Query,
    ) -> Result<EagerResult> {
        let mut retry = self.retry_state();
        let telemetry_acked = Arc::new(AtomicBool::new(false));
        loop {
            let telemetry =
                Telemetry::UntilAcknowledged(TelemetryApi::DriverLevel, &telemetry_acked);
            let error = match self.begin(mode, config.clone(), telemetry).await {
                Ok(tx) => {
                    let eager = match tx.run(query.clone()).await {
                        Ok(result) => result.into_eager().await,
                        Err(e) => Err(e),
                    };
                    match eager {
                        Ok(eager) => match tx.commit().await {
                            Ok(()) => return Ok(eager),
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

    /// After a failed attempt (whose connection went back to the pool, which cleans it up or
    /// discards it), wait before the next attempt, or return the error.
    ///
    /// A security failure the auth manager said it handled (an expired token) is retryable: the
    /// connection told the manager when the failure arrived, once, so it is not asked again here.
    async fn backoff(&mut self, retry: &mut RetryState, error: Error) -> Result<()> {
        let runtime = self.driver.runtime().clone();
        let now = runtime.now();
        match retry.on_error(&error, now) {
            RetryDecision::RetryAt(at) => {
                tracing::debug!(
                    attempt = retry.attempts,
                    delay_ms = at.saturating_duration_since(now).as_millis() as u64,
                    error = %error,
                    "transaction failed with a retryable error; retrying"
                );
                runtime.sleep_until(at).await;
                Ok(())
            }
            RetryDecision::GiveUp => Err(error),
        }
    }

    /// Close the session: roll back its explicit transactions that were dropped while open,
    /// DISCARD the rest of an unfinished auto-commit result, and give the connections back to
    /// the pool. A connection that fails meanwhile is closed: closing never fails because of it.
    ///
    /// Dropping the session instead is safe too, but lazier: its connection is RESET when the
    /// pool hands it out again.
    pub async fn close(mut self) -> Result<()> {
        self.end_abandoned_transactions().await;
        if let Some(mut conn) = self.conn.take() {
            if conn.is_reusable() && !conn.is_clean() && conn.discard_open_result().await.is_err() {
                conn.discard();
            }
        }
        Ok(())
    }
}

/// A guessed home database's BEGIN/RUN answered: keep the database its SUCCESS names (Bolt
/// 5.8 servers name it), for the session to pin.
pub(crate) fn pin_database(pin: &Mutex<Option<String>>, metadata: &Map) {
    if let Some(db) = quiver_bolt::metadata::db(metadata) {
        *pin.lock().unwrap_or_else(PoisonError::into_inner) = Some(db.to_owned());
    }
}

/// When a transaction's BEGIN is preceded by TELEMETRY (if the connection has telemetry on).
#[derive(Clone, Copy)]
enum Telemetry<'a> {
    /// Every time (`begin_transaction`).
    Always(TelemetryApi),
    /// Until the server acknowledged one of the attempts' (transaction functions and
    /// `execute_query`, which may run several attempts for one API call).
    UntilAcknowledged(TelemetryApi, &'a Arc<AtomicBool>),
}

/// Where a transaction function's transaction goes back to when the function drops it.
type Home<R> = Arc<Mutex<Option<Arc<TxShared<R>>>>>;

/// An explicit transaction. It owns its connection. Commit with [`commit`](Self::commit);
/// dropping it uncommitted rolls it back: with ROLLBACK when its session is used again or
/// closed (until then the connection stays with the session, out of the pool), otherwise (the
/// session is dropped) by a RESET before the connection's next use.
///
/// Several results can be open at once ([`run`](Self::run) takes `&self`, and a result does not
/// borrow the transaction): each is pulled lazily with its own `qid` (Bolt 4.0+), in any order.
/// Committing or rolling back with results still open discards what they did not read (DISCARD)
/// and puts them out of scope; after a query failed, the other results report that failure.
pub struct Transaction<R: Runtime> {
    /// `None` once committed or rolled back (or handed back home).
    shared: Option<Arc<TxShared<R>>>,
    fetch_size: i64,
    server: Arc<crate::summary::ServerInfo>,
    /// Where a transaction function's transaction goes back to when dropped.
    home: Option<Home<R>>,
    /// Where an explicit transaction dropped while open goes, for its session to roll it back.
    session: Weak<Mutex<Vec<Arc<TxShared<R>>>>>,
}

impl<R: Runtime> Drop for Transaction<R> {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        if let Some(home) = &self.home {
            *home.lock().unwrap_or_else(PoisonError::into_inner) = Some(shared);
        } else if !shared.is_ended() {
            if let Some(session) = self.session.upgrade() {
                session
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(shared);
            }
            // Without its session, the connection goes back to the pool (when the transaction's
            // last result is dropped too), RESET before reuse.
        }
    }
}

impl<R: Runtime> Transaction<R> {
    fn shared(&self) -> Result<&Arc<TxShared<R>>> {
        self.shared
            .as_ref()
            .ok_or(Error::TransactionClosed("it was committed or rolled back"))
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

    /// Run a query in the transaction. BEGIN (the first time), RUN and PULL leave in one write;
    /// this waits for RUN's answer, and the records are pulled as the result is read.
    ///
    /// Results of earlier queries may stay open: each keeps its place in its own stream.
    pub async fn run(&self, query: impl Into<Query>) -> Result<RecordStream<'static, R>> {
        let query = query.into();
        let shared = self.shared()?;
        let run = Run {
            query: query.text,
            parameters: query.parameters,
            extra: TxExtra::default(),
        };
        // Kept for the summary.
        let (text, parameters) = (run.query.clone(), run.parameters.clone());
        let started = shared
            .inner
            .lock()
            .await
            .run(run, &shared.flags)
            .await
            .map_err(Self::lost)?;
        Ok(RecordStream::in_transaction(
            shared.clone(),
            started,
            text,
            parameters,
            self.fetch_size,
            self.server.clone(),
        ))
    }

    /// Commit. Results still open are discarded first (DISCARD) and are out of scope afterwards.
    /// If the connection breaks after COMMIT was sent, the error is
    /// [`Error::IncompleteCommit`]: the outcome is unknown.
    pub async fn commit(mut self) -> Result<()> {
        if self.home.is_some() {
            return Err(Error::TransactionClosed(
                "a transaction function's transaction is committed by the driver when the function returns Ok",
            ));
        }
        let shared = self
            .shared
            .take()
            .ok_or(Error::TransactionClosed("it was committed or rolled back"))?;
        let outcome = shared.inner.lock().await.commit(&shared.flags).await;
        outcome.map_err(|e| match e {
            e @ Error::IncompleteCommit { .. } => e,
            e => Self::lost(e),
        })
    }

    /// Roll back. Results still open are discarded first (DISCARD) and are out of scope
    /// afterwards.
    ///
    /// After a query in the transaction failed, this succeeds without a ROLLBACK: the server
    /// already ended the transaction with the FAILURE. The connection is RESET to READY at once
    /// (a dead one is just closed), as the official drivers do.
    pub async fn rollback(mut self) -> Result<()> {
        if self.home.is_some() {
            return Err(Error::TransactionClosed(
                "a transaction function's transaction is rolled back by the driver when the function returns Err",
            ));
        }
        let shared = self
            .shared
            .take()
            .ok_or(Error::TransactionClosed("it was committed or rolled back"))?;
        let outcome = shared.inner.lock().await.rollback(&shared.flags).await;
        outcome.map_err(Self::lost)
    }

    /// Whether the transaction is still open (not committed, rolled back or failed).
    pub fn is_open(&self) -> bool {
        self.shared
            .as_ref()
            .is_some_and(|shared| !shared.is_ended() && !shared.is_failed())
    }
}
