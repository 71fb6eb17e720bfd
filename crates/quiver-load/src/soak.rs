//! The soak: the mixed workload for a long time on each adapter in turn (tokio, smol,
//! async-std, blocking), sampling throughput, resident memory and the connections to the server
//! every 10 s into a CSV and an SVG chart.
//!
//! One iteration of a worker is three transactions: an `execute_write` that bumps a counter the
//! worker owns (`MERGE … SET c.n = c.n + 1`, so the store stays the same size), an
//! `execute_read` with that write's bookmarks that reads it back, and an `execute_query` that
//! streams 100 rows.
//!
//! Pass, per adapter (its first sample, warm-up, left out): the mean RSS of the last quarter of its
//! samples within 10 % of the first quarter's, the mean throughput of the last quarter at least 90 % of the first quarter's, and
//! never more connections to the server than the pool allows.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use quiver_driver::{AuthToken, Config, Driver, Error, Query, Runtime, SessionConfig};

use crate::{option, server_from_env};

const ADAPTERS: [&str; 4] = ["tokio", "smol", "async-std", "blocking"];
const SAMPLE_EVERY: Duration = Duration::from_secs(10);

struct Sample {
    elapsed: f64,
    adapter: &'static str,
    transactions: u64,
    per_second: f64,
    rss_kib: u64,
    /// This process's connections to the server.
    connections: usize,
    /// Everyone's (other clients of the server too).
    all_connections: usize,
}

pub(crate) fn main(args: &[String]) -> Result<ExitCode, String> {
    let minutes: f64 = option(args, "--minutes")?.unwrap_or(20.0);
    let total: u64 = option(args, "--transactions")?.unwrap_or(1_000_000);
    let workers: usize = option(args, "--workers")?.unwrap_or(8);
    let csv: PathBuf = option(args, "--csv")?.ok_or("--csv FILE is required")?;
    let svg: PathBuf = option(args, "--svg")?.ok_or("--svg FILE is required")?;
    let (uri, user, password) = server_from_env();
    let server_port = quiver_driver::ServerAddress::parse(&uri)
        .map_err(|e| e.to_string())?
        .port;
    // The pool as large as the workers: each holds one connection at a time.
    let config = Config::default().with_max_connection_pool_size(workers);
    let per_adapter_time = Duration::from_secs_f64(minutes * 60.0 / ADAPTERS.len() as f64);
    let per_adapter_transactions = total / ADAPTERS.len() as u64;
    println!(
        "soak: {workers} workers per adapter, up to {per_adapter_transactions} transactions or {:.1} min per adapter, pool {workers}",
        per_adapter_time.as_secs_f64() / 60.0
    );

    let started = Instant::now();
    let mut samples = Vec::new();
    let mut verdicts = Vec::new();
    for adapter in ADAPTERS {
        let count = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(AtomicU64::new(0));
        let runner = {
            let (count, stop, failures) = (count.clone(), stop.clone(), failures.clone());
            let (uri, user, password, config) =
                (uri.clone(), user.clone(), password.clone(), config.clone());
            thread::spawn(move || {
                let auth = AuthToken::basic(user, password);
                run_adapter(
                    adapter, &uri, auth, config, workers, &count, &stop, &failures,
                )
            })
        };
        let phase_start = Instant::now();
        let first = samples.len();
        let mut last_count = 0;
        let mut last_at = Instant::now();
        while !runner.is_finished() {
            thread::sleep(SAMPLE_EVERY.min(Duration::from_millis(200)));
            if last_at.elapsed() < SAMPLE_EVERY {
                continue;
            }
            let now = count.load(Ordering::Relaxed);
            let interval = last_at.elapsed().as_secs_f64();
            last_at = Instant::now();
            let (connections, all_connections) = connections_to(server_port);
            let sample = Sample {
                elapsed: started.elapsed().as_secs_f64(),
                adapter,
                transactions: now,
                per_second: (now - last_count) as f64 / interval,
                rss_kib: rss_kib(),
                connections,
                all_connections,
            };
            last_count = now;
            println!(
                "  {:>7.0} s {adapter:<9} {:>9} tx {:>8.0} tx/s  RSS {:>6} KiB  {} connections ({} to the server from all processes)",
                sample.elapsed,
                sample.transactions,
                sample.per_second,
                sample.rss_kib,
                sample.connections,
                sample.all_connections
            );
            samples.push(sample);
            if phase_start.elapsed() >= per_adapter_time || now >= per_adapter_transactions {
                stop.store(true, Ordering::Relaxed);
            }
        }
        let result = runner
            .join()
            .map_err(|_| format!("the {adapter} workers panicked"))?;
        let done = count.load(Ordering::Relaxed);
        if let Err(e) = result {
            verdicts.push(format!("{adapter}: FAIL, a worker stopped: {e}"));
            continue;
        }
        verdicts.push(judge(
            adapter,
            &samples[first..],
            done,
            failures.load(Ordering::Relaxed),
            workers,
            phase_start.elapsed(),
        ));
    }
    write_csv(&csv, &samples)?;
    crate::chart::draw(&svg, &samples_for_chart(&samples))?;
    println!("samples: {}; chart: {}", csv.display(), svg.display());
    let mut passed = true;
    for verdict in &verdicts {
        println!("{verdict}");
        passed &= !verdict.contains("FAIL");
    }
    println!("RESULT: {}", if passed { "PASS" } else { "FAIL" });
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn judge(
    adapter: &str,
    samples: &[Sample],
    transactions: u64,
    failures: u64,
    pool: usize,
    took: Duration,
) -> String {
    // The first sample is warm-up (connections opening, the server's query caches filling): it
    // would flatter the memory check and the throughput check alike.
    let samples = samples.get(1..).unwrap_or_default();
    let quarter = (samples.len() / 4).max(1);
    if samples.len() < 4 {
        return format!(
            "{adapter}: FAIL, only {} samples (run longer)",
            samples.len()
        );
    }
    let mean = |part: &[Sample], f: fn(&Sample) -> f64| {
        part.iter().map(f).sum::<f64>() / part.len() as f64
    };
    let (head, tail) = (&samples[..quarter], &samples[samples.len() - quarter..]);
    let rss = (
        mean(head, |s| s.rss_kib as f64),
        mean(tail, |s| s.rss_kib as f64),
    );
    let rate = (mean(head, |s| s.per_second), mean(tail, |s| s.per_second));
    let max_connections = samples.iter().map(|s| s.connections).max().unwrap_or(0);
    let mut problems = Vec::new();
    if rss.1 > rss.0 * 1.10 {
        problems.push("memory grew more than 10 %");
    }
    if rate.1 < rate.0 * 0.90 {
        problems.push("throughput fell more than 10 %");
    }
    if max_connections > pool {
        problems.push("more connections than the pool allows");
    }
    let mut line = format!(
        "{adapter}: {} in {:.0} s: {transactions} transactions ({failures} failed calls), RSS first/last quarter {:.1}/{:.1} MiB ({:+.1} %), tx/s {:.0}/{:.0} ({:+.1} %), max {max_connections} connections (pool {pool})",
        if problems.is_empty() { "PASS" } else { "FAIL" },
        took.as_secs_f64(),
        rss.0 / 1024.0,
        rss.1 / 1024.0,
        (rss.1 / rss.0 - 1.0) * 100.0,
        rate.0,
        rate.1,
        (rate.1 / rate.0 - 1.0) * 100.0,
    );
    if !problems.is_empty() {
        let _ = write!(line, ": {}", problems.join(", "));
    }
    line
}

#[allow(clippy::too_many_arguments)]
fn run_adapter(
    adapter: &str,
    uri: &str,
    auth: AuthToken,
    config: Config,
    workers: usize,
    count: &Arc<AtomicU64>,
    stop: &Arc<AtomicBool>,
    failures: &Arc<AtomicU64>,
) -> Result<(), String> {
    let text = |e: Error| e.to_string();
    match adapter {
        "tokio" => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            let driver = quiver_tokio::Driver::with_config(uri, auth, config).map_err(text)?;
            runtime.block_on(async {
                let tasks: Vec<_> = (0..workers)
                    .map(|w| {
                        tokio::spawn(worker(
                            driver.clone(),
                            w,
                            count.clone(),
                            stop.clone(),
                            failures.clone(),
                        ))
                    })
                    .collect();
                for task in tasks {
                    task.await.map_err(|e| e.to_string())??;
                }
                driver.close().await;
                Ok(())
            })
        }
        "smol" => {
            let driver = quiver_smol::Driver::with_config(uri, auth, config).map_err(text)?;
            smol::block_on(async {
                let tasks: Vec<_> = (0..workers)
                    .map(|w| {
                        smol::spawn(worker(
                            driver.clone(),
                            w,
                            count.clone(),
                            stop.clone(),
                            failures.clone(),
                        ))
                    })
                    .collect();
                for task in tasks {
                    task.await?;
                }
                driver.close().await;
                Ok(())
            })
        }
        "async-std" => {
            let driver = quiver_async_std::Driver::with_config(uri, auth, config).map_err(text)?;
            async_std::task::block_on(async {
                let tasks: Vec<_> = (0..workers)
                    .map(|w| {
                        async_std::task::spawn(worker(
                            driver.clone(),
                            w,
                            count.clone(),
                            stop.clone(),
                            failures.clone(),
                        ))
                    })
                    .collect();
                for task in tasks {
                    task.await?;
                }
                driver.close().await;
                Ok(())
            })
        }
        _ => {
            let driver = quiver_blocking::Driver::with_config(uri, auth, config).map_err(text)?;
            let threads: Vec<_> = (0..workers)
                .map(|w| {
                    let (driver, count, stop, failures) = (
                        driver.clone(),
                        count.clone(),
                        stop.clone(),
                        failures.clone(),
                    );
                    thread::spawn(move || blocking_worker(&driver, w, &count, &stop, &failures))
                })
                .collect();
            for handle in threads {
                handle
                    .join()
                    .map_err(|_| "a blocking worker panicked".to_owned())??;
            }
            driver.close();
            Ok(())
        }
    }
}

fn write_query(worker: usize, i: u64) -> Query {
    Query::new("MERGE (c:SoakCounter {id: $id}) SET c.n = coalesce(c.n, 0) + 1")
        .param("id", (worker as i64) * 1000 + (i % 1000) as i64)
}

fn read_query(worker: usize, i: u64) -> Query {
    Query::new("MATCH (c:SoakCounter {id: $id}) RETURN c.n AS n")
        .param("id", (worker as i64) * 1000 + (i % 1000) as i64)
}

const STREAM: &str = "UNWIND range(1, 100) AS i RETURN i";

/// A call that fails counts; too many in a row stop the worker (the server is gone).
fn note_failure(failures: &AtomicU64, streak: &mut u32, error: Error) -> Result<(), String> {
    failures.fetch_add(1, Ordering::Relaxed);
    *streak += 1;
    if *streak >= 20 {
        Err(format!("20 calls in a row failed, the last with: {error}"))
    } else {
        Ok(())
    }
}

async fn worker<R: Runtime>(
    driver: Driver<R>,
    id: usize,
    count: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    failures: Arc<AtomicU64>,
) -> Result<(), String> {
    let mut streak = 0;
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let result: Result<(), Error> = async {
            let mut session = driver.session();
            session
                .execute_write(
                    |tx| async move { tx.run(write_query(id, i)).await?.consume().await },
                )
                .await?;
            count.fetch_add(1, Ordering::Relaxed);
            let bookmarks = session.last_bookmarks();
            drop(session);
            let mut session = driver.session_with(SessionConfig::new().with_bookmarks(bookmarks));
            let n: i64 = session
                .execute_read(|tx| async move {
                    tx.run(read_query(id, i)).await?.single().await?.get("n")
                })
                .await?;
            debug_assert!(n > 0);
            count.fetch_add(1, Ordering::Relaxed);
            let rows = driver.execute_query(STREAM).await?;
            debug_assert_eq!(rows.records.len(), 100);
            count.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        .await;
        match result {
            Ok(()) => streak = 0,
            Err(e) => note_failure(&failures, &mut streak, e)?,
        }
    }
    Ok(())
}

fn blocking_worker(
    driver: &quiver_blocking::Driver,
    id: usize,
    count: &AtomicU64,
    stop: &AtomicBool,
    failures: &AtomicU64,
) -> Result<(), String> {
    let mut streak = 0;
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let result: Result<(), Error> = (|| {
            let mut session = driver.session();
            session.execute_write(|tx| tx.run(write_query(id, i))?.consume())?;
            count.fetch_add(1, Ordering::Relaxed);
            let bookmarks = session.last_bookmarks();
            drop(session);
            let mut session = driver.session_with(SessionConfig::new().with_bookmarks(bookmarks));
            let _n: i64 =
                session.execute_read(|tx| tx.run(read_query(id, i))?.single()?.get("n"))?;
            count.fetch_add(1, Ordering::Relaxed);
            let rows = driver.execute_query(STREAM).run()?;
            debug_assert_eq!(rows.records.len(), 100);
            count.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })();
        match result {
            Ok(()) => streak = 0,
            Err(e) => note_failure(failures, &mut streak, e)?,
        }
    }
    Ok(())
}

/// This process's resident memory (VmRSS), in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Established TCP connections to `port` on this machine: `(this process's, everyone's)`. The
/// first is what the pool bound applies to; the second also counts other clients of the server
/// (another process probing the port shows up there, not in the first).
fn connections_to(port: u16) -> (usize, usize) {
    let ours: std::collections::HashSet<u64> = std::fs::read_dir("/proc/self/fd")
        .map(|fds| {
            fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
                .filter_map(|target| {
                    let target = target.to_string_lossy().into_owned();
                    target
                        .strip_prefix("socket:[")?
                        .strip_suffix(']')?
                        .parse()
                        .ok()
                })
                .collect()
        })
        .unwrap_or_default();
    let (mut mine, mut all) = (0, 0);
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(table) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in table.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let remote_port = fields
                .get(2)
                .and_then(|remote| remote.rsplit(':').next())
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            // State 01 is ESTABLISHED.
            if remote_port != Some(port) || fields.get(3) != Some(&"01") {
                continue;
            }
            all += 1;
            let inode = fields.get(9).and_then(|inode| inode.parse::<u64>().ok());
            if inode.is_some_and(|inode| ours.contains(&inode)) {
                mine += 1;
            }
        }
    }
    (mine, all)
}

fn write_csv(path: &PathBuf, samples: &[Sample]) -> Result<(), String> {
    let mut text = String::from(
        "elapsed_s,adapter,transactions,tx_per_s,rss_kib,connections,all_connections_to_server\n",
    );
    for s in samples {
        let _ = writeln!(
            text,
            "{:.1},{},{},{:.1},{},{},{}",
            s.elapsed,
            s.adapter,
            s.transactions,
            s.per_second,
            s.rss_kib,
            s.connections,
            s.all_connections
        );
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn samples_for_chart(samples: &[Sample]) -> Vec<crate::chart::Point> {
    samples
        .iter()
        .map(|s| crate::chart::Point {
            elapsed: s.elapsed,
            adapter: s.adapter,
            per_second: s.per_second,
            rss_mib: s.rss_kib as f64 / 1024.0,
            connections: s.connections as f64,
        })
        .collect()
}
