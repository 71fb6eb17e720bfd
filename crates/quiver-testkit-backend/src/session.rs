//! One task per session.
//!
//! An auto-commit result borrows its session, exactly as a Rust user holds it. A task per
//! session keeps such borrows alive across suite requests: it owns the `Session` and its open
//! transactions, and while an auto-commit result is open it runs a nested loop that holds it and
//! serves the requests about it. A request about something else ends that loop first: the result
//! is then read to its end and buffered, which is what the official drivers do when a new query
//! runs in the same session.
//!
//! A result of a transaction borrows nothing (several can be open at once, each pulled with its
//! own `qid`): the task keeps those in a map and serves their requests whenever they come, so
//! nothing is read that the suite did not ask for.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use quiver_tokio::{AccessMode, Error, Query, Record, ResultSummary, TransactionConfig};
use serde_json::{Value as Json, json};
use tokio::sync::{mpsc, oneshot};

use crate::clock::{RecordStream, Session, Transaction};
use crate::convert::{self, map_from_json};
use crate::errors::Shared;
use crate::protocol::{Request, backend_error, frontend_error, not_implemented, response};

/// A request for a session task, with where to send the answer.
pub(crate) struct Command {
    /// The suite's request.
    pub(crate) request: Request,
    /// The answer goes here.
    pub(crate) reply: oneshot::Sender<Json>,
}

impl Command {
    fn answer(self, answer: Json) {
        // The connection task only goes away when the suite hung up: nobody to answer then.
        let _ = self.reply.send(answer);
    }
}

/// Whether a request belongs to a session task (by its name).
pub(crate) fn handles(name: &str) -> bool {
    ["Session", "Transaction", "Result", "Retryable"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// Start the task of `session`; requests go in through the returned sender.
pub(crate) fn spawn(
    session: Session,
    id: String,
    shared: Rc<Shared>,
) -> mpsc::UnboundedSender<Command> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let actor = Actor {
        id,
        shared,
        receiver,
        pending: None,
        finished: HashMap::new(),
        tx_results: HashMap::new(),
        transactions: HashMap::new(),
        ended_transactions: HashSet::new(),
    };
    tokio::task::spawn_local(actor.run(session));
    sender
}

/// The error a transaction function returns for `RetryableNegative` without an error id: a
/// failure of the suite's own "user code".
#[derive(Debug, thiserror::Error)]
#[error("the transaction function (TestKit's client code) failed")]
struct ClientCodeFailed;

/// The suite hung up while a transaction function was waiting for it.
#[derive(Debug, thiserror::Error)]
#[error("the TestKit connection closed during a transaction function")]
struct SuiteGone;

/// A result that is no longer held open: read to its end (records buffered), consumed, or
/// failed.
#[derive(Debug, Default)]
struct Finished {
    records: VecDeque<Record>,
    summary: Option<ResultSummary>,
    error: Option<Error>,
    consumed: bool,
    /// The transaction it ran in: once that has ended, the result is out of scope.
    tx: Option<String>,
}

/// An open result of a transaction (explicit or a transaction function's).
struct TxResult {
    stream: RecordStream<'static>,
    tx: String,
}

/// What became of an open result after a request about it.
#[allow(
    clippy::large_enum_variant,
    reason = "a return value moved once per TestKit request; boxing would only add an allocation"
)]
enum Served<'a> {
    Open(RecordStream<'a>),
    Finished(Finished),
}

struct Actor {
    id: String,
    shared: Rc<Shared>,
    receiver: mpsc::UnboundedReceiver<Command>,
    /// A request a nested loop received but that belongs to an outer one.
    pending: Option<Command>,
    finished: HashMap<String, Finished>,
    /// Open results of transactions, by result id.
    tx_results: HashMap<String, TxResult>,
    /// Open explicit transactions (they own their connections; none borrows the session).
    transactions: HashMap<String, Transaction>,
    ended_transactions: HashSet<String>,
}

/// Where the answer to the current step of a transaction function goes.
type PendingReply = Rc<RefCell<Option<oneshot::Sender<Json>>>>;

fn record_answer(shared: &Shared, record: &Record) -> Json {
    match convert::record_json(record) {
        Ok(data) => response("Record", data),
        Err(why) => shared.json_error(why),
    }
}

fn records_answer(shared: &Shared, records: &[Record]) -> Json {
    match records
        .iter()
        .map(convert::record_json)
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(list) => response("RecordList", json!({ "records": list })),
        Err(why) => shared.json_error(why),
    }
}

fn summary_answer(shared: &Shared, summary: &ResultSummary) -> Json {
    match convert::summary_json(summary) {
        Ok(data) => response("Summary", data),
        Err(why) => shared.json_error(why),
    }
}

/// `RecordOptional`: the first of `records` (if any), with a warning when there was more than
/// one, as the Python driver's `single(strict=False)` does.
fn optional_record_answer(shared: &Shared, records: &[Record]) -> Json {
    let record = match records.first().map(convert::record_json) {
        None => Json::Null,
        Some(Ok(record)) => record,
        Some(Err(why)) => return shared.json_error(why),
    };
    let warnings: Vec<String> = if records.len() > 1 {
        vec![format!(
            "expected a result with a single record, but found multiple ({})",
            records.len()
        )]
    } else {
        Vec::new()
    };
    response(
        "RecordOptional",
        json!({ "record": record, "warnings": warnings }),
    )
}

fn null_record() -> Json {
    response("NullRecord", json!({}))
}

/// Transaction metadata and timeout from `txMeta` / `timeout` (milliseconds).
fn transaction_config(request: &Request) -> Result<TransactionConfig, Json> {
    let mut config = TransactionConfig::new();
    if let Some(meta) = request.field("txMeta") {
        config = config.with_metadata(map_from_json(meta).map_err(backend_error)?);
    }
    if let Some(ms) = request.int("timeout") {
        let ms = u64::try_from(ms).map_err(|_| {
            backend_error(format!(
                "a negative transaction timeout ({ms} ms) cannot be expressed: Quiver takes a \
                 std::time::Duration"
            ))
        })?;
        config = config.with_timeout(Duration::from_millis(ms));
    }
    Ok(config)
}

/// The query of `SessionRun` / `TransactionRun`.
fn query(request: &Request) -> Result<Query, Json> {
    let mut query = Query::new(request.str("cypher").unwrap_or_default());
    if let Some(params) = request.field("params") {
        query = query.params(map_from_json(params).map_err(backend_error)?);
    }
    Ok(query)
}

fn consumed_error() -> Error {
    Error::ResultConsumed("the result was consumed (or its transaction ended)")
}

/// What Quiver says about a result of a transaction that has ended (the driver's own words; a
/// result the backend finished earlier no longer asks the driver).
fn out_of_scope_error() -> Error {
    Error::ResultConsumed(
        "its transaction has been closed (committed or rolled back); a result can only be used \
         while its transaction is open",
    )
}

impl Actor {
    async fn next(&mut self) -> Option<Command> {
        match self.pending.take() {
            Some(command) => Some(command),
            None => self.receiver.recv().await,
        }
    }

    fn error(&self, error: Error) -> Json {
        self.shared.driver_error(error)
    }

    async fn run(mut self, session: Session) {
        // After SessionClose the task stays to answer about the session's finished results
        // (their summaries outlive the session).
        let mut open = Some(session);
        while let Some(command) = self.next().await {
            let Some(command) = self.serve_known_result(command).await else {
                continue;
            };
            let request = &command.request;
            let Some(session) = open.as_mut() else {
                let answer = match request.name.as_str() {
                    "SessionClose" => response("Session", json!({ "id": self.id })),
                    name if name.starts_with("Result") => self.error(consumed_error()),
                    _ => self.error(Error::TransactionClosed("the session was closed")),
                };
                command.answer(answer);
                continue;
            };
            match request.name.as_str() {
                "SessionRun" => {
                    let mut query = match query(request) {
                        Ok(query) => query,
                        Err(answer) => {
                            command.answer(answer);
                            continue;
                        }
                    };
                    match transaction_config(request) {
                        Ok(config) => {
                            if !config.metadata.is_empty() {
                                query = query.with_metadata(config.metadata);
                            }
                            if let Some(timeout) = config.timeout {
                                query = query.with_timeout(timeout);
                            }
                        }
                        Err(answer) => {
                            command.answer(answer);
                            continue;
                        }
                    }
                    match session.run(query).await {
                        Ok(stream) => {
                            let id = self.shared.new_owned_id(&self.id);
                            command.answer(Self::result_answer(&id, &stream));
                            self.serve_result(id, stream).await;
                        }
                        Err(e) => command.answer(self.error(e)),
                    }
                }
                "SessionBeginTransaction" => {
                    let config = match transaction_config(request) {
                        Ok(config) => config,
                        Err(answer) => {
                            command.answer(answer);
                            continue;
                        }
                    };
                    match session.begin_transaction_with(config).await {
                        Ok(tx) => {
                            let id = self.shared.new_owned_id(&self.id);
                            command.answer(response("Transaction", json!({ "id": id })));
                            self.transactions.insert(id, tx);
                        }
                        Err(e) => command.answer(self.error(e)),
                    }
                }
                "SessionReadTransaction" | "SessionWriteTransaction" => {
                    let mode = if request.name == "SessionReadTransaction" {
                        AccessMode::Read
                    } else {
                        AccessMode::Write
                    };
                    match self.transaction_function(session, command, mode).await {
                        Some(actor) => self = actor,
                        None => return,
                    }
                }
                "SessionLastBookmarks" => {
                    let bookmarks = session.last_bookmarks().to_vec();
                    command.answer(response("Bookmarks", json!({ "bookmarks": bookmarks })));
                }
                "SessionClose" => {
                    // Open transactions end with the session (dropped: rolled back).
                    let ended: Vec<String> = self.transactions.drain().map(|(id, _)| id).collect();
                    self.ended_transactions.extend(ended);
                    let id = self.id.clone();
                    let closing = open.take();
                    let outcome = match closing {
                        Some(session) => session.close().await,
                        None => Ok(()),
                    };
                    match outcome {
                        Ok(()) => command.answer(response("Session", json!({ "id": id }))),
                        Err(e) => command.answer(self.error(e)),
                    }
                }
                name if name.starts_with("Transaction") => self.transaction_request(command).await,
                name => {
                    let answer = not_implemented(name, "not a request about an open object");
                    command.answer(answer);
                }
            }
        }
    }

    /// Serve a request about a finished result or an open result of a transaction; other
    /// requests are returned.
    async fn serve_known_result(&mut self, command: Command) -> Option<Command> {
        let command = self.serve_finished(command)?;
        let Some(id) = command.request.id("resultId") else {
            return Some(command);
        };
        let Some(TxResult { stream, tx }) = self.tx_results.remove(&id) else {
            return Some(command);
        };
        match self.serve_one(stream, command).await {
            Served::Open(stream) => {
                self.tx_results.insert(id, TxResult { stream, tx });
            }
            Served::Finished(finished) => {
                self.finished.insert(
                    id,
                    Finished {
                        tx: Some(tx),
                        ..finished
                    },
                );
            }
        }
        None
    }

    fn result_answer(id: &str, stream: &RecordStream<'_>) -> Json {
        let keys: Vec<&str> = stream.keys().iter().map(|k| k.as_str()).collect();
        response("Result", json!({ "id": id, "keys": keys }))
    }

    /// Answer requests about results that are no longer open; other requests are returned.
    fn serve_finished(&mut self, command: Command) -> Option<Command> {
        let Some(id) = command.request.id("resultId") else {
            return Some(command);
        };
        let Some(finished) = self.finished.get_mut(&id) else {
            return Some(command);
        };
        let out_of_scope = finished
            .tx
            .as_ref()
            .is_some_and(|tx| self.ended_transactions.contains(tx));
        let answer = match command.request.name.as_str() {
            "ResultNext"
            | "ResultPeek"
            | "ResultSingle"
            | "ResultSingleOptional"
            | "ResultList"
            | "ResultConsume"
                if out_of_scope && finished.error.is_none() =>
            {
                self.shared.driver_error(out_of_scope_error())
            }
            "ResultNext"
            | "ResultPeek"
            | "ResultSingle"
            | "ResultSingleOptional"
            | "ResultList"
                if finished.consumed =>
            {
                self.shared.driver_error(consumed_error())
            }
            "ResultNext" => match finished.records.pop_front() {
                Some(record) => record_answer(&self.shared, &record),
                None => match finished.error.take() {
                    Some(e) => self.shared.driver_error(e),
                    None => null_record(),
                },
            },
            "ResultPeek" => match finished.records.front() {
                Some(record) => record_answer(&self.shared, record),
                None => match finished.error.take() {
                    Some(e) => self.shared.driver_error(e),
                    None => null_record(),
                },
            },
            "ResultSingle" => {
                let records: Vec<Record> = finished.records.drain(..).collect();
                finished.consumed = true;
                match (records.as_slice(), finished.error.take()) {
                    (_, Some(e)) => self.shared.driver_error(e),
                    ([one], None) => record_answer(&self.shared, one),
                    ([], None) => self
                        .shared
                        .driver_error(Error::ResultNotSingle { found: "none" }),
                    (_, None) => self.shared.driver_error(Error::ResultNotSingle {
                        found: "more than one",
                    }),
                }
            }
            "ResultSingleOptional" => {
                let records: Vec<Record> = finished.records.drain(..).collect();
                match finished.error.take() {
                    Some(e) => self.shared.driver_error(e),
                    None => optional_record_answer(&self.shared, &records),
                }
            }
            "ResultList" => {
                let records: Vec<Record> = finished.records.drain(..).collect();
                match finished.error.take() {
                    Some(e) => self.shared.driver_error(e),
                    None => records_answer(&self.shared, &records),
                }
            }
            "ResultConsume" => {
                finished.records.clear();
                finished.consumed = true;
                match (&finished.summary, finished.error.take()) {
                    (_, Some(e)) => self.shared.driver_error(e),
                    (Some(summary), None) => summary_answer(&self.shared, summary),
                    (None, None) => self.shared.driver_error(consumed_error()),
                }
            }
            name => not_implemented(name, "Quiver's results have no such method"),
        };
        command.answer(answer);
        None
    }

    /// Serve requests about the open auto-commit result `id` until one is about something else.
    async fn serve_result(&mut self, id: String, mut stream: RecordStream<'_>) {
        while let Some(command) = self.next().await {
            if command.request.id("resultId").as_deref() != Some(id.as_str()) {
                let Some(command) = self.serve_known_result(command).await else {
                    continue;
                };
                let finished = match command.request.name.as_str() {
                    // A new query in the same session: keep the records, as the official
                    // drivers do (a Rust program would collect them first).
                    "SessionRun"
                    | "TransactionRun"
                    | "SessionBeginTransaction"
                    | "SessionReadTransaction"
                    | "SessionWriteTransaction" => Self::buffer(stream).await,
                    // Otherwise the result's scope ends (close, …): dropping the stream discards
                    // the rest, and using the result later is an error.
                    _ => Finished {
                        consumed: true,
                        ..Finished::default()
                    },
                };
                self.finished.insert(id, finished);
                self.pending = Some(command);
                return;
            }
            match self.serve_one(stream, command).await {
                Served::Open(open) => stream = open,
                Served::Finished(finished) => {
                    self.finished.insert(id, finished);
                    return;
                }
            }
        }
    }

    /// Serve one request about an open result.
    async fn serve_one<'a>(&self, mut stream: RecordStream<'a>, command: Command) -> Served<'a> {
        let finished = |summary, consumed| {
            Served::Finished(Finished {
                summary,
                consumed,
                ..Finished::default()
            })
        };
        match command.request.name.as_str() {
            "ResultNext" => match stream.next().await {
                Some(Ok(record)) => command.answer(record_answer(&self.shared, &record)),
                Some(Err(e)) => command.answer(self.error(e)),
                None => {
                    command.answer(null_record());
                    let summary = stream.consume().await.ok();
                    return finished(summary, false);
                }
            },
            "ResultPeek" => {
                let answer = match stream.peek().await {
                    Some(Ok(record)) => record_answer(&self.shared, record),
                    Some(Err(e)) => self.error(e),
                    None => null_record(),
                };
                command.answer(answer);
            }
            "ResultSingle" => {
                let answer = match stream.single().await {
                    Ok(record) => record_answer(&self.shared, &record),
                    Err(e) => self.error(e),
                };
                command.answer(answer);
                return finished(None, true);
            }
            // Reads the whole result, so that it cannot serve as another `next`.
            "ResultSingleOptional" => match stream.collect().await {
                Ok(records) => {
                    command.answer(optional_record_answer(&self.shared, &records));
                    let summary = stream.consume().await.ok();
                    return finished(summary, false);
                }
                Err(e) => command.answer(self.error(e)),
            },
            "ResultList" => match stream.collect().await {
                Ok(records) => {
                    command.answer(records_answer(&self.shared, &records));
                    let summary = stream.consume().await.ok();
                    return finished(summary, false);
                }
                Err(e) => command.answer(self.error(e)),
            },
            "ResultConsume" => {
                let (answer, summary) = match stream.consume().await {
                    Ok(summary) => (summary_answer(&self.shared, &summary), Some(summary)),
                    Err(e) => (self.error(e), None),
                };
                command.answer(answer);
                return finished(summary, true);
            }
            name => {
                let answer = not_implemented(name, "Quiver's results have no such method");
                command.answer(answer);
            }
        }
        Served::Open(stream)
    }

    /// Read the rest of a result into memory, as the official drivers do when its session or
    /// transaction moves on.
    async fn buffer(mut stream: RecordStream<'_>) -> Finished {
        let mut finished = Finished::default();
        loop {
            match stream.next().await {
                Some(Ok(record)) => finished.records.push_back(record),
                Some(Err(e)) => {
                    finished.error = Some(e);
                    return finished;
                }
                None => break,
            }
        }
        finished.summary = stream.consume().await.ok();
        finished
    }

    /// `TransactionRun` in `tx` (whose id is `tx_id`): the result joins the open ones.
    async fn run_in(&mut self, tx: &Transaction, tx_id: &str, command: Command) {
        let query = match query(&command.request) {
            Ok(query) => query,
            Err(answer) => {
                command.answer(answer);
                return;
            }
        };
        match tx.run(query).await {
            Ok(stream) => {
                let id = self.shared.new_owned_id(&self.id);
                command.answer(Self::result_answer(&id, &stream));
                self.tx_results.insert(
                    id,
                    TxResult {
                        stream,
                        tx: tx_id.to_owned(),
                    },
                );
            }
            Err(e) => command.answer(self.error(e)),
        }
    }

    /// Transaction `tx_id` ended: its open results are out of scope (the driver says so when
    /// they are used; their streams stay until then).
    fn transaction_ended(&mut self, tx_id: String) {
        self.ended_transactions.insert(tx_id);
    }

    /// `TransactionRun` / `Commit` / `Rollback` / `Close` on an explicit transaction.
    async fn transaction_request(&mut self, command: Command) {
        let id = command.request.id("txId").unwrap_or_default();
        let Some(tx) = self.transactions.remove(&id) else {
            let answer = if command.request.name == "TransactionClose"
                && self.ended_transactions.contains(&id)
            {
                // Closing a transaction that already ended is allowed and does nothing.
                response("Transaction", json!({ "id": id }))
            } else {
                self.error(Error::TransactionClosed(
                    "it was committed, rolled back or closed",
                ))
            };
            command.answer(answer);
            return;
        };
        let ended = |outcome: Result<(), Error>, actor: &Self| match outcome {
            Ok(()) => response("Transaction", json!({ "id": id })),
            Err(e) => actor.error(e),
        };
        match command.request.name.as_str() {
            "TransactionRun" => {
                self.run_in(&tx, &id, command).await;
                self.transactions.insert(id, tx);
            }
            "TransactionCommit" => {
                let answer = ended(tx.commit().await, self);
                command.answer(answer);
                self.transaction_ended(id);
            }
            "TransactionRollback" => {
                let answer = ended(tx.rollback().await, self);
                command.answer(answer);
                self.transaction_ended(id);
            }
            "TransactionClose" => {
                let outcome = if tx.is_open() {
                    tx.rollback().await
                } else {
                    Ok(())
                };
                let answer = ended(outcome, self);
                command.answer(answer);
                self.transaction_ended(id);
            }
            name => {
                let answer = not_implemented(name, "Quiver's transactions have no such method");
                command.answer(answer);
                self.transactions.insert(id, tx);
            }
        }
    }

    /// `SessionReadTransaction` / `SessionWriteTransaction`: run `execute_with`, whose work
    /// function hands each attempt's transaction to the suite (`RetryableTry`) and serves its
    /// requests until `RetryablePositive` (commit) or `RetryableNegative` (fail).
    ///
    /// The work function's futures must own what they use, so the task's state moves behind a
    /// shared lock for the duration and comes back at the end (`None` if it could not, which
    /// ends the task).
    async fn transaction_function(
        self,
        session: &mut Session,
        command: Command,
        mode: AccessMode,
    ) -> Option<Self> {
        let config = match transaction_config(&command.request) {
            Ok(config) => config,
            Err(answer) => {
                command.answer(answer);
                return Some(self);
            }
        };
        // Where the next answer goes: first the Session…Transaction request, later the
        // RetryablePositive/Negative that ended an attempt.
        let reply: PendingReply = Rc::new(RefCell::new(Some(command.reply)));
        let actor = Rc::new(tokio::sync::Mutex::new(self));
        let outcome = session
            .execute_with(mode, config, |tx| {
                let actor = actor.clone();
                let reply = reply.clone();
                async move { actor.lock().await.attempt(tx, &reply).await }
            })
            .await;
        let actor = Rc::try_unwrap(actor).ok()?.into_inner();
        let answer = match outcome {
            Ok(()) => response("RetryableDone", json!({})),
            Err(Error::User(e)) if e.is::<ClientCodeFailed>() => frontend_error(e.to_string()),
            Err(e) => actor.error(e),
        };
        if let Some(reply) = reply.borrow_mut().take() {
            let _ = reply.send(answer);
        }
        Some(actor)
    }

    /// One attempt of a transaction function.
    async fn attempt(&mut self, tx: Transaction, reply: &PendingReply) -> Result<(), Error> {
        let tx_id = self.shared.new_owned_id(&self.id);
        let outcome = self.attempt_steps(&tx, &tx_id, reply).await;
        // The driver commits or rolls back when the function returns: its results go out of
        // scope.
        self.transaction_ended(tx_id);
        outcome
    }

    /// The suite's steps of one attempt of a transaction function.
    async fn attempt_steps(
        &mut self,
        tx: &Transaction,
        tx_id: &str,
        reply: &PendingReply,
    ) -> Result<(), Error> {
        if let Some(reply) = reply.borrow_mut().take() {
            let _ = reply.send(response("RetryableTry", json!({ "id": tx_id })));
        }
        loop {
            let Some(command) = self.next().await else {
                return Err(Error::user(SuiteGone));
            };
            let Some(command) = self.serve_known_result(command).await else {
                continue;
            };
            let mine = command.request.id("txId").as_deref() == Some(tx_id);
            match command.request.name.as_str() {
                "TransactionRun" if mine => self.run_in(tx, tx_id, command).await,
                "RetryablePositive" => {
                    *reply.borrow_mut() = Some(command.reply);
                    return Ok(());
                }
                "RetryableNegative" => {
                    let error_id = command.request.id("errorId").unwrap_or_default();
                    *reply.borrow_mut() = Some(command.reply);
                    if error_id.is_empty() {
                        return Err(Error::user(ClientCodeFailed));
                    }
                    return Err(self
                        .shared
                        .take_error(&error_id)
                        .unwrap_or_else(|| Error::user(ClientCodeFailed)));
                }
                name @ ("TransactionCommit" | "TransactionRollback" | "TransactionClose") => {
                    let answer = backend_error(format!(
                        "{name} inside a transaction function: Quiver commits or rolls back a \
                         managed transaction itself and gives the function no way to end it"
                    ));
                    command.answer(answer);
                }
                name => {
                    let answer = backend_error(format!(
                        "{name} is not possible inside a transaction function"
                    ));
                    command.answer(answer);
                }
            }
        }
    }
}
