//! The crash ledger: concurrent transaction functions append unique ids while the server dies.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quiver_tokio::{
    AuthToken, Bookmarks, Config, Driver, Error, Query, RetryConfig, ServerAddress, SessionConfig,
};
use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;

use crate::proxy::Proxy;
use crate::retries::RetryCauses;
use crate::{option, server_from_env, unix_millis};

/// How one write ended, as its caller saw it.
#[derive(Debug, Clone)]
enum Outcome {
    /// `execute_write` returned `Ok`: the driver acknowledged the commit.
    Acknowledged,
    /// `Error::IncompleteCommit`: the connection broke after COMMIT was sent.
    Unknown,
    /// Any other error: the driver says the write was not applied.
    Failed(String),
}

struct Write {
    id: i64,
    /// How many attempts `execute_write` made.
    attempts: u32,
    outcome: Outcome,
    /// When `execute_write` returned (Unix ms).
    at_ms: u64,
}

#[derive(Default)]
struct ReadStats {
    ok: AtomicU64,
    /// A read with the bookmarks of an acknowledged write that did not see it exactly once.
    stale: AtomicU64,
    errors: AtomicU64,
}

pub(crate) fn main(args: &[String]) -> Result<ExitCode, String> {
    let writers: usize = option(args, "--writers")?.unwrap_or(8);
    let readers: usize = option(args, "--readers")?.unwrap_or(2);
    let events: PathBuf = option(args, "--events")?.ok_or("--events FILE is required")?;
    let run: String = option(args, "--run")?.unwrap_or_else(|| format!("run-{}", unix_millis()));
    let causes = Arc::new(RetryCauses::default());
    tracing::subscriber::set_global_default(ArcSubscriber(causes.clone()))
        .map_err(|e| format!("installing the retry counter: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(crash(writers.max(1), readers, events, run, causes))
}

/// Lets the global subscriber be shared with the report.
struct ArcSubscriber(Arc<RetryCauses>);

impl tracing::Subscriber for ArcSubscriber {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        self.0.new_span(span)
    }
    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        self.0.record(span, values)
    }
    fn record_follows_from(&self, span: &tracing::span::Id, follows: &tracing::span::Id) {
        self.0.record_follows_from(span, follows)
    }
    fn event(&self, event: &tracing::Event<'_>) {
        self.0.event(event)
    }
    fn enter(&self, span: &tracing::span::Id) {
        self.0.enter(span)
    }
    fn exit(&self, span: &tracing::span::Id) {
        self.0.exit(span)
    }
}

async fn crash(
    writers: usize,
    readers: usize,
    events: PathBuf,
    run: String,
    causes: Arc<RetryCauses>,
) -> Result<ExitCode, String> {
    let (uri, user, password) = server_from_env();
    let server = ServerAddress::parse(&uri).map_err(|e| e.to_string())?;
    let proxy = Arc::new(
        Proxy::start(server.authority())
            .await
            .map_err(|e| format!("starting the proxy: {e}"))?,
    );
    // Retries ride through a restart (Neo4j 5.26 is back within ~10 s here); a silent server
    // cannot hang a writer.
    let config = Config::default()
        .with_connection_timeout(Duration::from_secs(5))
        .with_connection_acquisition_timeout(Duration::from_secs(30))
        .with_read_timeout(Some(Duration::from_secs(30)))
        .with_retry(RetryConfig {
            max_retry_time: Duration::from_secs(60),
            ..RetryConfig::default()
        });
    let driver = Driver::with_config(
        &format!("bolt://127.0.0.1:{}", proxy.port()),
        AuthToken::basic(user, password),
        config,
    )
    .map_err(|e| e.to_string())?;
    driver
        .execute_query("CREATE INDEX quiver_entry_id IF NOT EXISTS FOR (e:Entry) ON (e.id)")
        .await
        .map_err(|e| format!("creating the ledger index: {e}"))?;
    println!("READY run={run} proxy-port={}", proxy.port());

    let stop = Arc::new(AtomicBool::new(false));
    {
        let (stop, proxy) = (stop.clone(), proxy.clone());
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                match line.trim() {
                    "cut" => proxy.cut_all(),
                    "stop" => break,
                    _ => {}
                }
            }
            stop.store(true, Ordering::SeqCst);
        });
    }

    let started = Instant::now();
    let (publish, _) = watch::channel::<Vec<Option<(i64, Bookmarks)>>>(vec![None; writers]);
    let publish = Arc::new(publish);
    let mut writer_tasks = Vec::new();
    for writer in 0..writers {
        let (driver, run, stop, publish, causes) = (
            driver.clone(),
            run.clone(),
            stop.clone(),
            publish.clone(),
            causes.clone(),
        );
        writer_tasks.push(tokio::spawn(async move {
            let mut writes = Vec::new();
            let mut seq = 0i64;
            while !stop.load(Ordering::SeqCst) {
                seq += 1;
                let id = writer as i64 * 10_000_000 + seq;
                let mut session = driver.session();
                let run = &run;
                let result = crate::retries::WRITE_ID
                    .scope(
                        id,
                        session.execute_write(|tx| async move {
                            tx.run(
                                Query::new("CREATE (:Entry {run: $run, id: $id})")
                                    .param("run", run.as_str())
                                    .param("id", id),
                            )
                            .await?
                            .consume()
                            .await
                        }),
                    )
                    .await;
                let outcome = match result {
                    Ok(_) => {
                        let bookmarks = session.last_bookmarks();
                        publish.send_modify(|slots| slots[writer] = Some((id, bookmarks)));
                        Outcome::Acknowledged
                    }
                    Err(Error::IncompleteCommit { .. }) => Outcome::Unknown,
                    Err(other) => Outcome::Failed(error_kind(&other)),
                };
                drop(session);
                writes.push(Write {
                    id,
                    // Every retry, also of attempts whose BEGIN failed (the function did
                    // not run then), as the driver reported them.
                    attempts: 1 + causes.of_write(id).len() as u32,
                    outcome,
                    at_ms: unix_millis(),
                });
            }
            writes
        }));
    }
    let reads = Arc::new(ReadStats::default());
    let mut reader_tasks = Vec::new();
    for reader in 0..readers {
        let (driver, run, stop, reads) = (driver.clone(), run.clone(), stop.clone(), reads.clone());
        let slots = publish.subscribe();
        reader_tasks.push(tokio::spawn(async move {
            let mut turn = reader;
            while !stop.load(Ordering::SeqCst) {
                turn += 1;
                let published = slots.borrow()[turn % writers].clone();
                let Some((id, bookmarks)) = published else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let mut session =
                    driver.session_with(SessionConfig::new().with_bookmarks(bookmarks));
                let run = &run;
                let seen = session
                    .execute_read(|tx| async move {
                        tx.run(
                            Query::new(
                                "MATCH (e:Entry {id: $id}) WHERE e.run = $run RETURN count(e) AS c",
                            )
                            .param("run", run.as_str())
                            .param("id", id),
                        )
                        .await?
                        .single()
                        .await?
                        .get::<i64>("c")
                    })
                    .await;
                match seen {
                    Ok(1) => reads.ok.fetch_add(1, Ordering::Relaxed),
                    Ok(count) => {
                        eprintln!("STALE READ: write {id} seen {count} times with its bookmarks");
                        reads.stale.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        reads.errors.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }

    let mut writes = Vec::new();
    for task in writer_tasks {
        writes.extend(task.await.map_err(|e| format!("a writer panicked: {e}"))?);
    }
    for task in reader_tasks {
        task.await.map_err(|e| format!("a reader panicked: {e}"))?;
    }
    let seconds = started.elapsed().as_secs_f64();

    // The ledger as the server has it (after the last restart: what it recovered).
    let stored = driver
        .execute_query("MATCH (e:Entry) WHERE e.run = $run RETURN e.id AS id")
        .param("run", run.as_str())
        .await
        .map_err(|e| format!("reading the ledger: {e}"))?;
    let mut copies: HashMap<i64, u64> = HashMap::new();
    for record in &stored.records {
        let id: i64 = record.get("id").map_err(|e| e.to_string())?;
        *copies.entry(id).or_default() += 1;
    }
    let _ = driver.close().await;

    let report = Report::new(&writes, &copies, &reads, proxy.connections_cut());
    for write in &writes {
        if copies.get(&write.id).is_some_and(|n| *n > 1) {
            for cause in causes.of_write(write.id) {
                println!("  id {} was retried after: {cause}", write.id);
            }
        }
    }
    let faults = read_events(&events, &writes);
    println!(
        "crash ledger, run {run}: {writers} writers and {readers} readers (execute_write / execute_read with bookmarks) for {seconds:.1} s"
    );
    report.print();
    for (cause, count) in causes.snapshot() {
        println!("  retried {count}x after: {cause}");
    }
    println!(
        "faults (times from the first event; 'serving' = first acknowledged write after the server was back):"
    );
    for line in &faults.lines {
        println!("  {line}");
    }
    println!(
        "SUMMARY acknowledged={} retried={} unknown_outcome={} unknown_stored={} failed={} stored={} duplicates={} lost={} failed_but_stored={} never_written={} stale_reads={} reads={} connections_cut={} max_serve_again_ms={} seconds={seconds:.1}",
        report.acknowledged,
        report.retried,
        report.unknown,
        report.unknown_stored,
        report.failed,
        report.stored,
        report.duplicates,
        report.lost,
        report.failed_but_stored,
        report.never_written,
        report.stale_reads,
        report.reads_ok,
        report.connections_cut,
        faults
            .max_serve_again_ms
            .map_or_else(|| "none".to_owned(), |ms| ms.to_string()),
    );
    let broken = report.problems();
    if broken.is_empty() {
        println!("RESULT: PASS");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("RESULT: FAIL ({})", broken.join(", "));
        Ok(ExitCode::FAILURE)
    }
}

/// A short name for an error, for the histogram of failures.
fn error_kind(error: &Error) -> String {
    let text = error.to_string();
    let cut = text.char_indices().nth(70).map_or(text.len(), |(at, _)| at);
    text[..cut].to_owned()
}

struct Report {
    attempted: usize,
    acknowledged: usize,
    /// Acknowledged writes whose transaction function ran more than once.
    retried: usize,
    retries: u64,
    unknown: usize,
    unknown_stored: usize,
    failed: usize,
    failure_kinds: BTreeMap<String, usize>,
    stored: usize,
    /// Extra copies of ids stored more than once.
    duplicates: u64,
    lost: usize,
    failed_but_stored: usize,
    /// Stored ids no writer wrote (must never happen).
    never_written: usize,
    reads_ok: u64,
    stale_reads: u64,
    read_errors: u64,
    connections_cut: u64,
}

impl Report {
    fn new(writes: &[Write], copies: &HashMap<i64, u64>, reads: &ReadStats, cut: u64) -> Report {
        let mut report = Report {
            attempted: writes.len(),
            acknowledged: 0,
            retried: 0,
            retries: 0,
            unknown: 0,
            unknown_stored: 0,
            failed: 0,
            failure_kinds: BTreeMap::new(),
            stored: copies.len(),
            duplicates: copies.values().map(|n| n.saturating_sub(1)).sum(),
            lost: 0,
            failed_but_stored: 0,
            never_written: 0,
            reads_ok: reads.ok.load(Ordering::Relaxed),
            stale_reads: reads.stale.load(Ordering::Relaxed),
            read_errors: reads.errors.load(Ordering::Relaxed),
            connections_cut: cut,
        };
        let mut written = std::collections::HashSet::new();
        for write in writes {
            written.insert(write.id);
            let stored = copies.contains_key(&write.id);
            report.retries += u64::from(write.attempts.saturating_sub(1));
            match &write.outcome {
                Outcome::Acknowledged => {
                    report.acknowledged += 1;
                    report.retried += usize::from(write.attempts > 1);
                    report.lost += usize::from(!stored);
                }
                Outcome::Unknown => {
                    report.unknown += 1;
                    report.unknown_stored += usize::from(stored);
                }
                Outcome::Failed(kind) => {
                    report.failed += 1;
                    report.failed_but_stored += usize::from(stored);
                    *report.failure_kinds.entry(kind.clone()).or_default() += 1;
                }
            }
        }
        report.never_written = copies.keys().filter(|id| !written.contains(id)).count();
        for write in writes {
            if copies.get(&write.id).is_some_and(|n| *n > 1) {
                println!(
                    "DUPLICATE: id {} stored {} times; its caller saw {:?} after {} attempt(s) at {} ms",
                    write.id, copies[&write.id], write.outcome, write.attempts, write.at_ms
                );
            }
        }
        report
    }

    fn print(&self) {
        println!(
            "writes: {} attempted; {} acknowledged ({} of them retried, {} retries in all); {} of unknown outcome (reported as IncompleteCommit; {} of them stored); {} failed",
            self.attempted,
            self.acknowledged,
            self.retried,
            self.retries,
            self.unknown,
            self.unknown_stored,
            self.failed
        );
        for (kind, count) in &self.failure_kinds {
            println!("  failed {count}x: {kind}");
        }
        println!(
            "ledger: {} ids stored; duplicates {} (must be 0); acknowledged but lost {} (must be 0); failed but stored {} (must be 0); stored but never written {} (must be 0)",
            self.stored, self.duplicates, self.lost, self.failed_but_stored, self.never_written
        );
        println!(
            "reads with a writer's bookmarks: {} saw the write exactly once, {} did not (must be 0), {} failed (server down)",
            self.reads_ok, self.stale_reads, self.read_errors
        );
        println!("connections cut by the proxy: {}", self.connections_cut);
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut check = |count: u64, what: &str| {
            if count > 0 {
                problems.push(format!("{count} {what}"));
            }
        };
        check(self.duplicates, "duplicated writes");
        check(self.lost as u64, "acknowledged writes lost");
        check(self.failed_but_stored as u64, "failed writes stored");
        check(self.never_written as u64, "ids stored that nobody wrote");
        check(self.stale_reads, "stale reads despite bookmarks");
        check(
            u64::from(self.acknowledged == 0),
            "runs without a single acknowledged write",
        );
        problems
    }
}

struct Faults {
    lines: Vec<String>,
    max_serve_again_ms: Option<u64>,
}

/// Reads xtask's event file (`<unix ms> <fault> <down|up>` lines) and measures, for each time the
/// server was back (`up`), how long until the next write was acknowledged.
fn read_events(path: &PathBuf, writes: &[Write]) -> Faults {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut acks: Vec<u64> = writes
        .iter()
        .filter(|write| matches!(write.outcome, Outcome::Acknowledged))
        .map(|write| write.at_ms)
        .collect();
    acks.sort_unstable();
    let events: Vec<(u64, &str, &str)> = text
        .lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            Some((parts.next()?.parse().ok()?, parts.next()?, parts.next()?))
        })
        .collect();
    let origin = events.first().map_or(0, |(at, _, _)| *at);
    let secs = |ms: u64| ms.saturating_sub(origin) as f64 / 1000.0;
    let mut lines = Vec::new();
    let mut max_serve_again_ms = None;
    let mut down_at = None;
    for (at, fault, phase) in &events {
        match *phase {
            "down" => down_at = Some(*at),
            "up" => {
                let first_ack = acks.iter().find(|ack| **ack >= *at).copied();
                let serve = first_ack.map(|ack| ack - at);
                if let Some(ms) = serve {
                    max_serve_again_ms = Some(max_serve_again_ms.unwrap_or(0).max(ms));
                }
                let down = down_at.take().map_or_else(String::new, |down| {
                    format!("down at {:>6.1} s, ", secs(down))
                });
                lines.push(format!(
                    "{fault:<8} {down}back at {:>6.1} s, serving again {}",
                    secs(*at),
                    serve.map_or_else(|| "never".to_owned(), |ms| format!("{ms} ms later"))
                ));
            }
            _ => {}
        }
    }
    Faults {
        lines,
        max_serve_again_ms,
    }
}
