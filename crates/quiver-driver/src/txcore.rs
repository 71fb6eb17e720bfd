//! The shared core of an explicit transaction: its connection and every result open in it.
//!
//! Bolt 4.0+ lets several results of one transaction be open at once: each RUN gets a `qid`
//! (in its SUCCESS), and PULL/DISCARD name the stream they are for (`qid` −1 = the last RUN's).
//! The results share the transaction's connection, and the server answers strictly in order,
//! so whoever reads the connection may receive answers meant for another result. Everything
//! read goes through [`TxInner::dispatch`], which files each answer with the result it belongs
//! to (its records into that result's inbox, its end or failure into its state); each result
//! then picks up what is filed for it. The connection sits behind an async mutex that a
//! result holds only while it talks to the server (a PULL and its answer), never while the
//! user looks at records already received.
//!
//! The rules follow the Python driver (`AsyncTransaction`, `AsyncResult`): a PULL or DISCARD
//! names its stream's `qid`, or −1 when that stream is the last one opened; COMMIT and ROLLBACK
//! first wait for the PULLs in flight and DISCARD every stream still open; a failure ends the
//! transaction for every result (the failing one reports the server's error, the others
//! [`Error::TransactionFailed`] with it as cause, after the records they already received) and
//! nothing more is sent but a RESET; once the transaction ended, its results are out of scope.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use quiver_bolt::value::{Map, PackStr};
use quiver_bolt::{Event, Request, RequestId, Run, metadata};

use crate::bookmarks::Bookmarks;
use crate::error::{Error, Result};
use crate::pool::PooledConnection;
use crate::record::Record;
use crate::result::{BookmarkState, TxFailure};
use crate::runtime::Runtime;

/// Why a result of an ended transaction cannot be used (the Python driver says the same).
pub(crate) const OUT_OF_SCOPE: &str = "its transaction has been closed (committed or rolled back); \
     a result can only be used while its transaction is open";

/// The transaction's state that results look at without taking the lock.
#[derive(Debug, Default)]
pub(crate) struct TxFlags {
    /// Committed, rolled back, or abandoned and rolled back: its results are out of scope.
    pub(crate) ended: AtomicBool,
    /// A query failed: the server ended the transaction.
    pub(crate) failed: AtomicBool,
}

/// An explicit transaction's connection and results, shared by the [`Transaction`] and its
/// results (which outlive neither the connection's use nor the transaction's end: they report
/// it).
///
/// [`Transaction`]: crate::Transaction
pub(crate) struct TxShared<R: Runtime> {
    pub(crate) inner: async_lock::Mutex<TxInner<R>>,
    pub(crate) flags: TxFlags,
}

/// One result (stream) of the transaction, as the connection's reader files it.
struct StreamState {
    key: u64,
    /// The RUN awaiting its answer.
    run: Option<RequestId>,
    /// RUN's SUCCESS metadata, until [`TxInner::run`] takes it.
    run_metadata: Option<Map>,
    /// The stream's `qid` (−1 until RUN's SUCCESS names it, or if the server sends none).
    qid: i64,
    keys: Arc<[PackStr]>,
    /// The PULL or DISCARD in flight.
    pending: Option<RequestId>,
    /// Still open on the server (more records, or the answer to the PULL in flight, to come).
    has_more: bool,
    /// A batch (PULL answered with `has_more`) is complete and not yet picked up.
    batch_ready: bool,
    /// Records received and not yet picked up.
    inbox: VecDeque<Record>,
    had_record: bool,
    /// The last SUCCESS (the summary's metadata), not yet picked up.
    end: Option<Map>,
    /// This stream's own error, not yet picked up.
    error: Option<Error>,
    /// A result holds this stream and wants its records (not dropped, not discarding).
    wanted: bool,
}

impl StreamState {
    /// The stream is done with: nothing in flight, closed on the server, nobody holding it.
    fn is_done(&self) -> bool {
        !self.wanted && self.run.is_none() && self.pending.is_none() && !self.has_more
    }
}

/// What a result picks up from the transaction.
pub(crate) struct Batch {
    pub(crate) records: VecDeque<Record>,
    pub(crate) had_record: bool,
    pub(crate) outcome: BatchOutcome,
}

pub(crate) enum BatchOutcome {
    /// More records are on the server.
    More,
    /// The stream ended with this SUCCESS metadata.
    End(Map),
    /// The stream failed (or its transaction did).
    Failed(Error),
}

/// What RUN started: the stream's key, its fields and RUN's metadata.
pub(crate) struct Started {
    pub(crate) key: u64,
    pub(crate) keys: Arc<[PackStr]>,
    pub(crate) metadata: Map,
}

pub(crate) struct TxInner<R: Runtime> {
    /// `None` once the transaction ended (the connection went back to the pool) or the
    /// connection was closed.
    conn: Option<PooledConnection<R>>,
    pub(crate) bookmarks: Arc<BookmarkState>,
    pub(crate) sent: Bookmarks,
    fetch_size: i64,
    /// BEGIN is pipelined with the first RUN (or COMMIT/ROLLBACK); its answer is awaited here.
    begin: Option<RequestId>,
    /// The failure came from BEGIN (then the first RUN reports it as is).
    begin_failed: bool,
    pub(crate) open: bool,
    pub(crate) failure: TxFailure,
    streams: Vec<StreamState>,
    next_key: u64,
    /// The `qid` of the last RUN: its stream is addressed with −1.
    last_qid: i64,
    /// The session guessed the home database: BEGIN's SUCCESS names the real one here.
    pin: Option<Arc<std::sync::Mutex<Option<String>>>>,
}

/// How [`TxInner::dispatch`] filed an event.
enum Filed {
    /// For a stream (or BEGIN).
    Done,
    /// A stream's request (or BEGIN) failed: the transaction is over, RESET now.
    Failed,
    /// Not a stream's: the answer to COMMIT/ROLLBACK or something nobody waits for.
    Other(Event),
}

impl<R: Runtime> TxShared<R> {
    pub(crate) fn new(
        conn: PooledConnection<R>,
        bookmarks: Arc<BookmarkState>,
        sent: Bookmarks,
        fetch_size: i64,
        begin: RequestId,
        pin: Option<Arc<std::sync::Mutex<Option<String>>>>,
    ) -> Self {
        TxShared {
            inner: async_lock::Mutex::new(TxInner {
                conn: Some(conn),
                bookmarks,
                sent,
                fetch_size,
                begin: Some(begin),
                begin_failed: false,
                open: true,
                failure: TxFailure::default(),
                streams: Vec::new(),
                next_key: 0,
                last_qid: -1,
                pin,
            }),
            flags: TxFlags::default(),
        }
    }

    pub(crate) fn is_ended(&self) -> bool {
        self.flags.ended.load(Ordering::Acquire)
    }

    pub(crate) fn is_failed(&self) -> bool {
        self.flags.failed.load(Ordering::Acquire)
    }

    /// A result was dropped: its records are no longer wanted (a stream still open on the
    /// server is DISCARDed when the transaction ends). If the transaction is busy right now,
    /// its records are dropped when it ends instead.
    pub(crate) fn release_stream(&self, key: u64) {
        if let Some(mut inner) = self.inner.try_lock() {
            if let Some(st) = inner.stream_mut(key) {
                st.wanted = false;
                st.inbox = VecDeque::new();
                st.end = None;
                st.error = None;
            }
            inner.streams.retain(|st| !st.is_done());
        }
    }
}

impl<R: Runtime> TxInner<R> {
    fn stream_mut(&mut self, key: u64) -> Option<&mut StreamState> {
        self.streams.iter_mut().find(|st| st.key == key)
    }

    /// The error for using a transaction that failed earlier.
    pub(crate) fn failed_error(&self) -> Error {
        match &self.failure.cause {
            Some(cause) => Error::TransactionFailed {
                cause: cause.clone(),
            },
            None => Error::TransactionClosed(
                "a query in it failed; its error was returned, and the transaction is rolled back",
            ),
        }
    }

    /// Whether new work may start: open and not failed.
    pub(crate) fn check_usable(&self) -> Result<()> {
        if !self.open {
            return Err(Error::TransactionClosed("it was committed or rolled back"));
        }
        if self.failure.failed {
            return Err(self.failed_error());
        }
        Ok(())
    }

    fn conn(&mut self) -> Result<&mut PooledConnection<R>> {
        if self.conn.is_none() {
            return Err(if self.failure.failed {
                self.failed_error()
            } else {
                Error::TransactionClosed("its connection was closed or went back to the pool")
            });
        }
        self.conn.as_mut().ok_or(Error::TransactionClosed(
            "its connection was closed or went back to the pool",
        ))
    }

    /// The transaction failed with `error` (kept as the cause of later errors).
    fn record_failure(&mut self, error: &Error, flags: &TxFlags) {
        self.failure.record(error);
        flags.failed.store(true, Ordering::Release);
    }

    /// File one event with whoever it belongs to.
    fn dispatch(&mut self, event: Event, flags: &TxFlags) -> Filed {
        match event {
            Event::RawRecord { id, record } => {
                if let Some(st) = self.streams.iter_mut().find(|st| st.pending == Some(id)) {
                    st.had_record = true;
                    if st.wanted {
                        st.inbox
                            .push_back(Record::from_raw(st.keys.clone(), record));
                    }
                }
                Filed::Done
            }
            Event::Record { id, fields } => {
                if let Some(st) = self.streams.iter_mut().find(|st| st.pending == Some(id)) {
                    st.had_record = true;
                    if st.wanted {
                        st.inbox.push_back(Record::new(st.keys.clone(), fields));
                    }
                }
                Filed::Done
            }
            Event::Success { id, metadata } => {
                if self.begin == Some(id) {
                    self.begin = None;
                    if let Some(pin) = &self.pin {
                        crate::session::pin_database(pin, &metadata);
                    }
                    return Filed::Done;
                }
                if let Some(st) = self.streams.iter_mut().find(|st| st.pending == Some(id)) {
                    st.pending = None;
                    st.has_more = metadata::has_more(&metadata);
                    if st.has_more {
                        st.batch_ready = true;
                    } else if st.wanted {
                        st.end = Some(metadata);
                    }
                    return Filed::Done;
                }
                if let Some(st) = self.streams.iter_mut().find(|st| st.run == Some(id)) {
                    st.run = None;
                    st.qid = metadata::qid(&metadata).unwrap_or(-1);
                    st.keys = metadata::fields(&metadata).unwrap_or_default().into();
                    st.run_metadata = Some(metadata);
                    if st.qid != -1 {
                        self.last_qid = st.qid;
                    }
                    return Filed::Done;
                }
                Filed::Other(Event::Success { id, metadata })
            }
            Event::Failure { id, failure } => {
                let Some(conn) = self.conn.as_ref() else {
                    return Filed::Other(Event::Failure { id, failure });
                };
                if self.begin == Some(id) {
                    let error = conn.failure_error(*failure);
                    self.begin = None;
                    self.begin_failed = true;
                    self.record_failure(&error, flags);
                    return Filed::Failed;
                }
                let stream = self
                    .streams
                    .iter()
                    .position(|st| st.pending == Some(id) || st.run == Some(id));
                match stream {
                    Some(index) => {
                        let error = conn.failure_error(*failure);
                        self.record_failure(&error, flags);
                        if let Some(st) = self.streams.get_mut(index) {
                            st.pending = None;
                            st.run = None;
                            st.has_more = false;
                            st.error = Some(error);
                        }
                        Filed::Failed
                    }
                    None => Filed::Other(Event::Failure { id, failure }),
                }
            }
            Event::Ignored { id } => {
                if self.begin == Some(id) {
                    self.begin = None;
                    return Filed::Done;
                }
                let stream = self
                    .streams
                    .iter()
                    .position(|st| st.pending == Some(id) || st.run == Some(id));
                let Some(index) = stream else {
                    return Filed::Other(Event::Ignored { id });
                };
                // Ignored after an earlier failure: that failure explains it.
                let error = if self.failure.failed && !self.begin_failed {
                    self.failed_error()
                } else {
                    match self.conn.as_ref() {
                        Some(conn) => conn.ignored_error(),
                        None => self.failed_error(),
                    }
                };
                self.record_failure(&error, flags);
                if let Some(st) = self.streams.get_mut(index) {
                    st.pending = None;
                    st.run = None;
                    st.has_more = false;
                    st.error.get_or_insert(error);
                }
                Filed::Failed
            }
            other => Filed::Other(other),
        }
    }

    /// Read one event from the connection (without I/O if one is buffered) and file it;
    /// returns what belongs to no stream. A failure of a stream's request ends the
    /// transaction: the rest in flight is filed (all IGNORED) and the connection RESET.
    ///
    /// Records are only filed, so after one the records already buffered behind it are filed in
    /// the same call: a batch's records do not each make a round through the caller's loop.
    async fn pump(&mut self, flags: &TxFlags) -> Result<Option<Event>> {
        let conn = self.conn()?;
        let mut event = match conn.buffered_event() {
            Some(event) => event,
            None => conn.next_event().await,
        };
        let event = loop {
            match event {
                Ok(record @ (Event::RawRecord { .. } | Event::Record { .. })) => {
                    let _ = self.dispatch(record, flags);
                    match self.conn.as_mut().and_then(|conn| conn.buffered_event()) {
                        Some(next) => event = next,
                        None => return Ok(None),
                    }
                }
                Ok(event) => break event,
                Err(e) => {
                    self.connection_failed(&e, flags);
                    return Err(e);
                }
            }
        };
        match self.dispatch(event, flags) {
            Filed::Done => Ok(None),
            Filed::Other(event) => Ok(Some(event)),
            Filed::Failed => {
                self.abort_after_failure(flags).await;
                Ok(None)
            }
        }
    }

    /// The connection broke: every result with something in flight learns it from its own
    /// read, the others from [`failed_error`](Self::failed_error).
    fn connection_failed(&mut self, error: &Error, flags: &TxFlags) {
        self.record_failure(error, flags);
        let failed = self.failed_error();
        self.end_streams(&failed);
        // A connection that broke or timed out is closed now, as the official drivers do: the
        // server sees the hang-up at once, and nothing in the transaction waits on it again.
        if let Some(mut conn) = self.conn.take() {
            if conn.is_reusable() {
                self.conn = Some(conn);
            } else {
                conn.discard();
            }
        }
    }

    /// Nothing more will be read for any stream: those waiting for an answer get `failed`
    /// (unless they already hold an error), and none has more records.
    fn end_streams(&mut self, failed: &Error) {
        for st in &mut self.streams {
            if st.run.is_some() || st.pending.is_some() {
                st.run = None;
                st.pending = None;
                st.error.get_or_insert_with(|| clone_error(failed));
            }
            st.has_more = false;
        }
        self.begin = None;
    }

    /// After a FAILURE ended the transaction: file the answers still in flight (IGNORED), then
    /// RESET the connection right away (as the official drivers do) so the server leaves its
    /// FAILED state promptly; a connection that cannot be reset is closed.
    async fn abort_after_failure(&mut self, flags: &TxFlags) {
        while let Some(conn) = self.conn.as_mut() {
            if conn.in_flight() == 0 || !conn.is_reusable() {
                break;
            }
            match conn.next_event().await {
                // A second FAILURE cannot come (the server ignores everything after the
                // first); whatever it is, it is filed and the loop goes on.
                Ok(event) => {
                    let _ = self.dispatch(event, flags);
                }
                Err(_) => break,
            }
        }
        self.reset_connection().await;
        // After a failed BEGIN nothing ran: the query that carried it reports BEGIN's failure
        // as is (as `close_streams` does), not as a failure of an earlier query.
        let failed = match (&self.failure.cause, self.begin_failed) {
            (Some(cause), true) => Error::Server(cause.clone()),
            _ => self.failed_error(),
        };
        self.end_streams(&failed);
    }

    /// RESET the connection to READY; close it if that fails.
    pub(crate) async fn reset_connection(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            if !conn.is_reusable() || conn.reset().await.is_err() {
                conn.discard();
                self.conn = None;
            }
        }
    }

    /// The `qid` to address `st` with: −1 for the last RUN's stream (as the Python driver does),
    /// unless a RUN is still unanswered (a cancelled `run`): then −1 would mean that one.
    fn qid_of(last_qid: i64, run_in_flight: bool, st: &StreamState) -> i64 {
        if st.qid == last_qid && !run_in_flight {
            -1
        } else {
            st.qid
        }
    }

    /// RUN `run` and PULL its first batch (pipelined with BEGIN the first time, one write);
    /// wait for RUN's answer. The PULL's answer is picked up by [`fetch`](Self::fetch).
    pub(crate) async fn run(&mut self, run: Run, flags: &TxFlags) -> Result<Started> {
        self.check_usable()?;
        let fetch_size = self.fetch_size;
        let conn = self.conn()?;
        let run_id = conn.send(Request::Run(run))?;
        let pull_id = conn.send(Request::Pull {
            n: fetch_size,
            qid: -1,
        })?;
        let key = self.next_key;
        self.next_key += 1;
        // Finished streams nobody holds are forgotten here (their results were dropped).
        self.streams.retain(|st| !st.is_done());
        self.streams.push(StreamState {
            key,
            run: Some(run_id),
            run_metadata: None,
            qid: -1,
            keys: Arc::from(Vec::new()),
            pending: Some(pull_id),
            has_more: true,
            batch_ready: false,
            inbox: VecDeque::new(),
            had_record: false,
            end: None,
            error: None,
            // Until this call returns the result, nobody holds it (a cancelled call leaves a
            // stream that is DISCARDed at the end).
            wanted: false,
        });
        loop {
            let begin_pending = self.begin.is_some();
            let Some(st) = self.stream_mut(key) else {
                return Err(Error::TransactionClosed("it ended while the query started"));
            };
            if st.run.is_none() && !begin_pending {
                if let Some(error) = st.error.take() {
                    return Err(error);
                }
                if let Some(metadata) = st.run_metadata.take() {
                    st.wanted = true;
                    return Ok(Started {
                        key,
                        keys: st.keys.clone(),
                        metadata,
                    });
                }
                // BEGIN failed and the RUN was drained unanswered.
                return Err(self.failed_error());
            }
            // BEGIN's or RUN's answer is not in yet; an answer to nobody's request is dropped.
            let _ = self.pump(flags).await?;
        }
    }

    /// Pick up the next batch of stream `key`, asking for it (PULL, or DISCARD when
    /// `discard`) if it is not on its way. `spare` is the caller's emptied record buffer: an
    /// empty inbox takes it, so its capacity is reused rather than the inbox growing from
    /// nothing for every batch.
    pub(crate) async fn fetch(
        &mut self,
        key: u64,
        discard: bool,
        spare: VecDeque<Record>,
        flags: &TxFlags,
    ) -> Batch {
        if let Some(st) = self.stream_mut(key) {
            if st.inbox.is_empty() && st.inbox.capacity() < spare.capacity() {
                st.inbox = spare;
            }
        }
        loop {
            let failed = self.failure.failed;
            let last_qid = self.last_qid;
            let run_in_flight = self.streams.iter().any(|st| st.run.is_some());
            let fetch_size = self.fetch_size;
            let Some(st) = self.streams.iter_mut().find(|st| st.key == key) else {
                return Batch::failed(if failed {
                    self.failed_error()
                } else {
                    Error::ResultConsumed(OUT_OF_SCOPE)
                });
            };
            if discard {
                st.inbox.clear();
            }
            if st.pending.is_none() && st.run.is_none() {
                if let Some(error) = st.error.take() {
                    return st.take(BatchOutcome::Failed(error));
                }
                if let Some(end) = st.end.take() {
                    return st.take(BatchOutcome::End(end));
                }
                if st.batch_ready && !discard {
                    st.batch_ready = false;
                    return st.take(BatchOutcome::More);
                }
                if !st.has_more && !failed {
                    // Ended, its end picked up already (or not wanted).
                    return st.take(BatchOutcome::End(Map::new()));
                }
                if failed {
                    let error = self.failed_error();
                    return match self.stream_mut(key) {
                        Some(st) => st.take(BatchOutcome::Failed(error)),
                        None => Batch::failed(error),
                    };
                }
                st.batch_ready = false;
                let qid = Self::qid_of(last_qid, run_in_flight, st);
                let request = if discard {
                    Request::Discard { n: -1, qid }
                } else {
                    Request::Pull { n: fetch_size, qid }
                };
                let sent = match self.conn() {
                    Ok(conn) => conn.send(request),
                    Err(e) => Err(e),
                };
                match sent {
                    Ok(id) => {
                        if let Some(st) = self.stream_mut(key) {
                            st.pending = Some(id);
                        }
                    }
                    Err(e) => {
                        self.record_failure(&e, flags);
                        return Batch::failed(e);
                    }
                }
                continue;
            }
            // Drain what is already buffered without an await per record.
            if let Err(e) = self.pump(flags).await {
                return match self.stream_mut(key) {
                    Some(st) => {
                        st.error = None;
                        st.take(BatchOutcome::Failed(e))
                    }
                    None => Batch::failed(e),
                };
            }
        }
    }

    /// Before COMMIT/ROLLBACK: BEGIN's answer, the PULLs in flight answered, and every stream
    /// still open DISCARDed (one after the other, as the Python driver does). Afterwards no
    /// result can be read any more.
    async fn close_streams(&mut self, flags: &TxFlags) -> Result<()> {
        while self.begin.is_some() {
            self.pump(flags).await?;
        }
        if self.begin_failed {
            // Nothing ran: BEGIN's failure is the answer, as is.
            if let Some(cause) = &self.failure.cause {
                return Err(Error::Server(cause.clone()));
            }
        }
        if self.failure.failed {
            return Err(self.failed_error());
        }
        let keys: Vec<u64> = self.streams.iter().map(|st| st.key).collect();
        for key in keys {
            if let Some(st) = self.stream_mut(key) {
                st.wanted = false;
                st.inbox = VecDeque::new();
            }
            while let Some(st) = self.stream_mut(key) {
                if st.run.is_none() && st.pending.is_none() && !st.has_more {
                    break;
                }
                if st.run.is_none() && st.pending.is_none() {
                    // Open on the server with nothing in flight: DISCARD the rest.
                    match self.fetch(key, true, VecDeque::new(), flags).await.outcome {
                        BatchOutcome::Failed(e) => return Err(e),
                        BatchOutcome::More | BatchOutcome::End(_) => {}
                    }
                    continue;
                }
                self.pump(flags).await?;
                if self.failure.failed {
                    return Err(self.failed_error());
                }
            }
        }
        if self.failure.failed {
            return Err(self.failed_error());
        }
        self.streams.clear();
        Ok(())
    }

    /// Wait for the answer to `id` (COMMIT/ROLLBACK), filing everything before it.
    async fn response(&mut self, id: RequestId, flags: &TxFlags) -> Result<Map> {
        loop {
            match self.pump(flags).await? {
                Some(Event::Success { id: got, metadata }) if got == id => return Ok(metadata),
                Some(Event::Failure { id: got, failure }) if got == id => {
                    return Err(self.conn()?.failure_error(*failure));
                }
                Some(Event::Ignored { id: got }) if got == id => {
                    return Err(self.conn()?.ignored_error());
                }
                _ => {}
            }
        }
    }

    /// The transaction ended: results are out of scope, the connection goes back to the pool
    /// (RESET there if it is not READY).
    fn end(&mut self, flags: &TxFlags) {
        self.open = false;
        flags.ended.store(true, Ordering::Release);
        self.streams.clear();
        self.conn = None;
    }

    /// Close the open streams and COMMIT. The error keeps the server's failure; a connection
    /// lost after COMMIT was sent is [`Error::IncompleteCommit`].
    pub(crate) async fn commit(&mut self, flags: &TxFlags) -> Result<()> {
        if let Err(e) = self.check_usable() {
            if self.open {
                // Failed earlier (the connection was RESET then): the transaction is over, and
                // its connection goes back to the pool even while results are still held.
                self.end(flags);
            }
            return Err(e);
        }
        let outcome = async {
            self.close_streams(flags).await?;
            let id = self.conn()?.send(Request::Commit)?;
            match self.response(id, flags).await {
                Ok(metadata) => {
                    self.bookmarks
                        .committed(&self.sent, metadata::bookmark(&metadata));
                    Ok(())
                }
                // The connection was lost (a routing driver says SessionExpired).
                Err(Error::ServiceUnavailable { reason, .. } | Error::SessionExpired(reason)) => {
                    Err(Error::IncompleteCommit { reason })
                }
                // A database going down answers COMMIT with this transient failure even when
                // the commit was applied: `cargo xtask faults` found writes stored twice after a
                // graceful restart of Neo4j 5.26 (the answer came, the commit was recovered).
                // Retrying it, as the error's class suggests, may apply the work twice.
                Err(Error::Server(failure)) if failure.code == DATABASE_UNAVAILABLE => {
                    Err(Error::IncompleteCommit {
                        reason: format!(
                            "the server answered COMMIT with {}: {} (a database shutting down may \
                             have applied the commit before it answered so)",
                            failure.code, failure.message
                        ),
                    })
                }
                Err(e) => Err(e),
            }
        }
        .await;
        self.end(flags);
        outcome
    }

    /// Roll back: after a failure only RESET (already done when the failure was read; the
    /// server ended the transaction), otherwise close the open streams (DISCARD) and ROLLBACK.
    pub(crate) async fn rollback(&mut self, flags: &TxFlags) -> Result<()> {
        if !self.open {
            return Err(Error::TransactionClosed("it was committed or rolled back"));
        }
        if self.failure.failed {
            self.reset_connection().await;
            self.end(flags);
            return Ok(());
        }
        let outcome = async {
            self.close_streams(flags).await?;
            let id = self.conn()?.send(Request::Rollback)?;
            self.response(id, flags).await.map(drop)
        }
        .await;
        if outcome.is_err() {
            // Whatever state the failure left, READY again (or closed).
            self.reset_connection().await;
        }
        self.end(flags);
        outcome
    }

    /// The owner dropped the transaction while open: roll it back, telling nobody about errors
    /// (a connection that fails is not reused).
    pub(crate) async fn roll_back_quietly(&mut self, flags: &TxFlags) {
        if !self.open {
            return;
        }
        if let Err(e) = self.rollback(flags).await {
            tracing::debug!(error = %e, "rolling back an abandoned transaction failed");
        }
    }
}

impl StreamState {
    /// Hand over the inbox with `outcome`.
    fn take(&mut self, outcome: BatchOutcome) -> Batch {
        Batch {
            records: std::mem::take(&mut self.inbox),
            had_record: self.had_record,
            outcome,
        }
    }
}

impl Batch {
    fn failed(error: Error) -> Self {
        Batch {
            records: VecDeque::new(),
            had_record: false,
            outcome: BatchOutcome::Failed(error),
        }
    }
}

/// The failure a database that is stopping gives; on COMMIT it does not mean "not applied".
const DATABASE_UNAVAILABLE: &str = "Neo.TransientError.General.DatabaseUnavailable";

/// A copy of a transaction-failure error for a second result (only the kinds
/// [`TxInner::failed_error`] produces, and a failed BEGIN's `Error::Server`, are copied exactly).
fn clone_error(error: &Error) -> Error {
    match error {
        Error::TransactionFailed { cause } => Error::TransactionFailed {
            cause: cause.clone(),
        },
        Error::TransactionClosed(why) => Error::TransactionClosed(why),
        Error::Server(server) => Error::Server(server.clone()),
        _ => Error::TransactionClosed("a query in it failed"),
    }
}
