//! Results: a lazily pulled stream of records with real backpressure.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::Stream;
use quiver_bolt::value::{Map, PackStr};
use quiver_bolt::{Event, Request, RequestId, metadata};

use crate::bookmarks::{BookmarkManager, Bookmarks};
use crate::error::{Error, Result, ServerError};
use crate::pool::PooledConnection;
use crate::record::Record;
use crate::runtime::Runtime;
use crate::summary::{self, QueryType, ResultSummary, ServerInfo};
use crate::txcore::{BatchOutcome, OUT_OF_SCOPE, Started, TxShared};

/// Bookmark bookkeeping of a session, shared with its transactions.
#[derive(Debug, Default)]
pub(crate) struct BookmarkState {
    /// The session's bookmarks: the initial ones, then the last commit's.
    last: Mutex<Bookmarks>,
    manager: Option<BookmarkManager>,
}

impl BookmarkState {
    pub(crate) fn new(initial: Bookmarks, manager: Option<BookmarkManager>) -> Self {
        BookmarkState {
            last: Mutex::new(initial),
            manager,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bookmarks> {
        // Replaced in one assignment: a panic elsewhere cannot leave it half-written.
        self.last.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The session's last bookmarks.
    pub(crate) fn last(&self) -> Bookmarks {
        self.lock().clone()
    }

    /// The bookmarks to send with the next transaction.
    pub(crate) fn to_send(&self) -> Bookmarks {
        let mut bookmarks = self.last();
        if let Some(manager) = &self.manager {
            bookmarks.extend(&manager.bookmarks());
        }
        bookmarks
    }

    /// A transaction that started with `sent` committed with `bookmark`.
    pub(crate) fn committed(&self, sent: &Bookmarks, bookmark: Option<&str>) {
        let Some(bookmark) = bookmark else { return };
        let new: Bookmarks = [bookmark].into_iter().collect();
        if let Some(manager) = &self.manager {
            manager.update(sent, &new);
        }
        *self.lock() = new;
    }
}

/// Where a result stream reports its end.
pub(crate) enum Owner<'a> {
    /// Auto-commit: the last PULL's SUCCESS carries the bookmark.
    AutoCommit {
        bookmarks: &'a BookmarkState,
        sent: Bookmarks,
    },
    /// Inside a transaction (its shared core keeps the failure).
    Transaction,
}

/// Whether a failure ended a transaction, and which server failure it was (reported again by
/// every later use of the transaction, as the official drivers do).
#[derive(Debug, Default)]
pub(crate) struct TxFailure {
    pub(crate) failed: bool,
    pub(crate) cause: Option<Box<ServerError>>,
}

impl TxFailure {
    /// The transaction failed with `error` (the first server failure is the one kept).
    pub(crate) fn record(&mut self, error: &Error) {
        self.failed = true;
        if self.cause.is_none() {
            self.cause = error.as_server_error().cloned().map(Box::new);
        }
    }
}

/// The records of one query, pulled from the server `fetch_size` at a time as they are consumed.
///
/// Get records with [`next`](Self::next) (or as a [`Stream`] via [`stream`](Self::stream)); the
/// next batch is requested only when the buffered one is used up. Finish with
/// [`consume`](Self::consume) for the summary.
///
/// Dropping a result before its end is safe: the rest is discarded before the connection is used
/// again (inside a transaction with DISCARD when the transaction ends; otherwise the connection
/// is RESET).
///
/// A result of an explicit transaction ([`Transaction::run`](crate::Transaction::run)) does not
/// borrow the transaction: several can be open at once, each pulled with its own `qid`. Once
/// the transaction is committed or rolled back, its results are out of scope: their methods
/// return [`Error::ResultConsumed`] (records not read by then are gone). After a query of the
/// transaction failed, the other results yield the records they had received and then
/// [`Error::TransactionFailed`] with that failure.
pub struct RecordStream<'a, R: Runtime> {
    conn: ConnSlot<'a, R>,
    owner: Owner<'a>,
    keys: Arc<[PackStr]>,
    run_metadata: Map,
    query: String,
    parameters: Map,
    fetch_size: i64,
    /// The PULL (or DISCARD) in flight.
    pending: Option<RequestId>,
    has_more: bool,
    buffer: VecDeque<Record>,
    /// The stream's last SUCCESS, once it ended: the summary is built from it only when asked
    /// for (`consume`), since most results are read for their records alone.
    ended: Option<Ended>,
    /// Whether any record arrived (even one discarded since): the GQL status filled in for
    /// servers before Bolt 5.6 depends on it.
    had_record: bool,
    failed: bool,
    /// The server failure that ended the stream, reported again by `consume` after the error
    /// itself was returned.
    failure: Option<Box<ServerError>>,
    /// The error that ended the stream, kept until the records received before it are yielded
    /// (as the official drivers do).
    error: Option<Error>,
}

impl<'a, R: Runtime> RecordStream<'a, R> {
    /// RUN's SUCCESS metadata.
    pub(crate) fn run_metadata(&self) -> &Map {
        &self.run_metadata
    }

    /// Send `run` + PULL (pipelined, one write) and wait for RUN's answer.
    pub(crate) async fn start(
        mut conn: ConnSlot<'a, R>,
        owner: Owner<'a>,
        run: quiver_bolt::Run,
        fetch_size: i64,
        before: Option<RequestId>,
    ) -> Result<Self> {
        let query = run.query.clone();
        let parameters = run.parameters.clone();
        let run_id = conn.get()?.send(Request::Run(run))?;
        let pull_id = conn.get()?.send(Request::Pull {
            n: fetch_size,
            qid: -1,
        })?;
        let mut stream = RecordStream {
            conn,
            owner,
            keys: Arc::from(Vec::new()),
            run_metadata: Map::new(),
            query,
            parameters,
            fetch_size,
            pending: Some(pull_id),
            has_more: true,
            buffer: VecDeque::new(),
            ended: None,
            had_record: false,
            failed: false,
            failure: None,
            error: None,
        };
        if let Some(before) = before {
            // A pipelined BEGIN: its failure explains everything after it.
            if let Err(e) = stream.conn.get()?.expect_success(before).await {
                stream.fail(&e);
                stream.reset_after_failure().await;
                return Err(e);
            }
        }
        match stream.conn.get()?.expect_success(run_id).await {
            Ok(metadata) => {
                stream.keys = metadata::fields(&metadata).unwrap_or_default().into();
                stream.run_metadata = metadata;
                Ok(stream)
            }
            Err(e) => {
                stream.fail(&e);
                stream.reset_after_failure().await;
                Err(e)
            }
        }
    }

    /// A result of an explicit transaction whose RUN succeeded (`started`); its first PULL is
    /// in flight.
    pub(crate) fn in_transaction(
        tx: Arc<TxShared<R>>,
        started: Started,
        query: String,
        parameters: Map,
        fetch_size: i64,
        server: Arc<ServerInfo>,
    ) -> RecordStream<'static, R> {
        RecordStream {
            conn: ConnSlot::Transaction(TxStream {
                tx,
                key: started.key,
                server,
            }),
            owner: Owner::Transaction,
            keys: started.keys,
            run_metadata: started.metadata,
            query,
            parameters,
            fetch_size,
            pending: None,
            has_more: true,
            buffer: VecDeque::new(),
            ended: None,
            had_record: false,
            failed: false,
            failure: None,
            error: None,
        }
    }

    /// After a FAILURE: RESET the connection right away (as official drivers do), so the server
    /// leaves its FAILED state promptly rather than at the connection's next use. A RESET that
    /// fails marks the connection broken; the pool then closes it.
    ///
    /// An auto-commit query's connection then goes back to the pool (a transaction keeps its
    /// own), as the official drivers' sessions let it go when a result fails: the session's next
    /// query acquires one again, with the auth manager's current token (which a security failure
    /// may just have made it refresh).
    async fn reset_after_failure(&mut self) {
        if let Ok(conn) = self.conn.get() {
            if conn.is_reusable() {
                let _ = conn.reset().await;
            }
        }
        self.conn.release();
    }

    fn fail(&mut self, error: &Error) {
        self.failed = true;
        self.has_more = false;
        if self.failure.is_none() {
            self.failure = error.as_server_error().cloned().map(Box::new);
        }
    }

    /// Whether this is a result of a transaction that has ended (committed or rolled back,
    /// not failed): it cannot be used any more.
    fn out_of_scope(&self) -> bool {
        match &self.conn {
            ConnSlot::Transaction(stream) => stream.tx.is_ended() && !stream.tx.is_failed(),
            ConnSlot::Session(_) => false,
        }
    }

    /// The column names.
    pub fn keys(&self) -> &[PackStr] {
        &self.keys
    }

    /// The next record, or `None` at the end.
    ///
    /// When the server fails the query (or the connection drops) mid-stream, the records that
    /// arrived before the failure are yielded first, then the error, once.
    ///
    /// In an explicit transaction that has ended, this returns [`Error::ResultConsumed`] every
    /// time (the transaction's end discarded what was left).
    pub async fn next(&mut self) -> Option<Result<Record>> {
        if self.out_of_scope() {
            self.buffer.clear();
            return Some(Err(Error::ResultConsumed(OUT_OF_SCOPE)));
        }
        loop {
            if let Some(record) = self.buffer.pop_front() {
                return Some(Ok(record));
            }
            if let Some(e) = self.error.take() {
                return Some(Err(e));
            }
            if self.ended.is_some() || self.failed {
                return None;
            }
            if let Err(e) = self.fetch_batch(false).await {
                // Records of the failing batch are still buffered: they come before the error.
                self.error = Some(e);
            }
        }
    }

    /// Receive the answer to the PULL (or, with `discard`, DISCARD) in flight, asking for one
    /// if none is, buffering its records.
    async fn fetch_batch(&mut self, discard: bool) -> Result<()> {
        if let ConnSlot::Transaction(stream) = &self.conn {
            let tx = stream.tx.clone();
            let key = stream.key;
            // The emptied buffer goes to the inbox, to be filled and handed back.
            let spare = if self.buffer.is_empty() {
                std::mem::take(&mut self.buffer)
            } else {
                VecDeque::new()
            };
            let batch = tx
                .inner
                .lock()
                .await
                .fetch(key, discard, spare, &tx.flags)
                .await;
            self.had_record |= batch.had_record;
            if self.buffer.is_empty() {
                self.buffer = batch.records;
            } else {
                self.buffer.extend(batch.records);
            }
            return match batch.outcome {
                BatchOutcome::More => Ok(()),
                BatchOutcome::End(end) => self.finish(end),
                BatchOutcome::Failed(e) => {
                    self.fail(&e);
                    Err(e)
                }
            };
        }
        let id = match self.pending {
            Some(id) => id,
            None => {
                let request = if discard {
                    Request::Discard { n: -1, qid: -1 }
                } else {
                    Request::Pull {
                        n: self.fetch_size,
                        qid: -1,
                    }
                };
                let id = self.conn.get()?.send(request)?;
                self.pending = Some(id);
                id
            }
        };
        loop {
            let conn = self.conn.get()?;
            let event = match conn.buffered_event() {
                Some(event) => event,
                None => conn.next_event().await,
            };
            let event = match event {
                Ok(event) => event,
                Err(e) => {
                    self.fail(&e);
                    return Err(e);
                }
            };
            match event {
                Event::RawRecord { id: got, record } if got == id => {
                    self.had_record = true;
                    self.buffer
                        .push_back(Record::from_raw(self.keys.clone(), record));
                }
                Event::Record { id: got, fields } if got == id => {
                    self.had_record = true;
                    self.buffer
                        .push_back(Record::new(self.keys.clone(), fields));
                }
                Event::Success { id: got, metadata } if got == id => {
                    self.pending = None;
                    self.has_more = metadata::has_more(&metadata);
                    if !self.has_more {
                        return self.finish(metadata);
                    }
                    return Ok(());
                }
                Event::Failure { id: got, failure } if got == id => {
                    self.pending = None;
                    let error = self.conn.get()?.failure_error(*failure);
                    self.fail(&error);
                    self.reset_after_failure().await;
                    return Err(error);
                }
                Event::Ignored { id: got } if got == id => {
                    self.pending = None;
                    let error = self.conn.get()?.ignored_error();
                    self.fail(&error);
                    return Err(error);
                }
                _ => {}
            }
        }
    }

    /// The stream ended with `end` (the last SUCCESS): keep what the summary is made of and let
    /// the connection go. A summary the driver cannot read (an unknown query type) ends the
    /// result with an error, here already, whether or not the summary is ever asked for.
    fn finish(&mut self, end: Map) -> Result<()> {
        if let Owner::AutoCommit { bookmarks, sent } = &mut self.owner {
            bookmarks.committed(sent, metadata::bookmark(&end));
        }
        let server = match &mut self.conn {
            ConnSlot::Transaction(stream) => stream.server.clone(),
            slot => match slot.get() {
                Ok(conn) => conn.server.clone(),
                Err(_) => return Ok(()),
            },
        };
        let checked = summary::query_type(&end);
        // An auto-commit query is done: its connection (READY again) goes back to the pool.
        self.conn.release();
        match checked {
            Ok(query_type) => {
                self.ended = Some(Ended {
                    end,
                    query_type,
                    server,
                });
                Ok(())
            }
            Err(e) => {
                // The server is fine (the stream ended normally): only this result is unusable.
                self.failed = true;
                Err(e)
            }
        }
    }

    /// The records as a [`Stream`]; the next batch is pulled only when the stream is polled past
    /// the buffered records.
    pub fn stream(&mut self) -> impl Stream<Item = Result<Record>> + '_ {
        futures_util::stream::unfold(self, |result| async move {
            let item = result.next().await?;
            Some((item, result))
        })
    }

    /// The next record without consuming it.
    pub async fn peek(&mut self) -> Option<Result<&Record>> {
        if self.buffer.is_empty() {
            match self.next().await? {
                Ok(record) => self.buffer.push_front(record),
                Err(e) => return Some(Err(e)),
            }
        }
        self.buffer.front().map(Ok)
    }

    /// Up to `n` records.
    pub async fn fetch(&mut self, n: usize) -> Result<Vec<Record>> {
        let mut records = Vec::with_capacity(n.min(self.buffer.len().max(16)));
        while records.len() < n {
            match self.next().await {
                Some(record) => records.push(record?),
                None => break,
            }
        }
        Ok(records)
    }

    /// All remaining records.
    pub async fn collect(&mut self) -> Result<Vec<Record>> {
        self.fetch(usize::MAX).await
    }

    /// Exactly one record: fails with [`Error::ResultNotSingle`] if there are none or more (the
    /// rest is discarded).
    pub async fn single(mut self) -> Result<Record> {
        let first = match self.next().await {
            Some(record) => record?,
            None => return Err(Error::ResultNotSingle { found: "none" }),
        };
        match self.next().await {
            None => Ok(first),
            Some(Err(e)) => Err(e),
            Some(Ok(_)) => {
                self.consume().await?;
                Err(Error::ResultNotSingle {
                    found: "more than one",
                })
            }
        }
    }

    /// Discard the remaining records (server-side, with DISCARD) and return the summary.
    pub async fn consume(mut self) -> Result<ResultSummary> {
        self.buffer.clear();
        if self.out_of_scope() {
            return Err(Error::ResultConsumed(OUT_OF_SCOPE));
        }
        loop {
            if let Some(ended) = self.ended.take() {
                return Ok(ResultSummary::new(
                    std::mem::take(&mut self.query),
                    std::mem::take(&mut self.parameters),
                    &self.run_metadata,
                    ended.end,
                    ended.query_type,
                    (*ended.server).clone(),
                    self.had_record,
                ));
            }
            if let Some(e) = self.error.take() {
                // The failure was not returned yet (only records before it were).
                return Err(e);
            }
            if self.failed {
                // The failure again (its code says why there is no summary), as official
                // drivers report it for a failed result.
                return Err(match &self.failure {
                    Some(failure) => Error::Server(failure.clone()),
                    None => {
                        Error::ResultConsumed("the query failed; its error was already returned")
                    }
                });
            }
            self.fetch_batch(true).await?;
            self.buffer.clear();
        }
    }

    /// All records and the summary.
    pub async fn into_eager(mut self) -> Result<EagerResult> {
        let records = self.collect().await?;
        let keys = self.keys.clone();
        let summary = self.consume().await?;
        Ok(EagerResult {
            keys,
            records,
            summary,
        })
    }
}

/// What a result's summary is made of, kept from the stream's end until `consume` asks.
struct Ended {
    /// The last SUCCESS's metadata.
    end: Map,
    /// Its query type, checked when the stream ended.
    query_type: Option<QueryType>,
    server: Arc<ServerInfo>,
}

/// The connection a result reads from.
pub(crate) enum ConnSlot<'a, R: Runtime> {
    /// A session's: given back to the pool when the auto-commit result ends.
    Session(&'a mut Option<PooledConnection<R>>),
    /// A stream of a transaction, which owns the connection.
    Transaction(TxStream<R>),
}

/// A result's handle on its stream in a transaction's shared core.
pub(crate) struct TxStream<R: Runtime> {
    tx: Arc<TxShared<R>>,
    key: u64,
    server: Arc<ServerInfo>,
}

impl<R: Runtime> Drop for TxStream<R> {
    fn drop(&mut self) {
        self.tx.release_stream(self.key);
    }
}

impl<R: Runtime> ConnSlot<'_, R> {
    fn get(&mut self) -> Result<&mut PooledConnection<R>> {
        match self {
            ConnSlot::Session(slot) => slot.as_mut().ok_or(Error::ResultConsumed(
                "the result ended and its connection went back to the pool",
            )),
            ConnSlot::Transaction(_) => Err(Error::Protocol(
                "internal: a transaction's result reads through its transaction".into(),
            )),
        }
    }

    fn release(&mut self) {
        if let ConnSlot::Session(slot) = self {
            **slot = None;
        }
    }
}

/// A fully fetched result: what [`Driver::execute_query`](crate::Driver::execute_query) returns.
#[derive(Debug, Clone)]
pub struct EagerResult {
    /// The column names.
    pub keys: Arc<[PackStr]>,
    /// All records.
    pub records: Vec<Record>,
    /// The summary.
    pub summary: ResultSummary,
}
