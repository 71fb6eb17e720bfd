//! N writer threads and N reader threads on one driver. Each writer commits transactions and
//! hands each one's bookmarks to the readers; a reader opens a session with those bookmarks, so
//! it must see that write (causal consistency) — the example checks that every write was seen
//! and prints transactions per second.
//!
//! `cargo run -p quiver-blocking --release --example concurrent_transactions [threads] [writes per thread]`

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use quiver_blocking::{AuthToken, Bookmarks, Config, Driver, Query, SessionConfig};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn arg(position: usize, default: usize) -> usize {
    std::env::args()
        .nth(position)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (threads, writes) = (arg(1, 8), arg(2, 50));
    let config = Config::default().with_max_connection_pool_size(2 * threads);
    let driver = Driver::with_config(
        &env("NEO4J_URI", "bolt://127.0.0.1:7687"),
        AuthToken::basic(
            env("NEO4J_USER", "neo4j"),
            env("NEO4J_PASSWORD", "quiver-test-password"),
        ),
        config,
    )?;
    driver.verify_connectivity()?;
    let run_id = format!("{}-{:?}", std::process::id(), std::time::SystemTime::now());
    let (written, to_read) = mpsc::channel::<(i64, Bookmarks)>();
    let to_read = Arc::new(Mutex::new(to_read));
    let started = Instant::now();

    let writers: Vec<_> = (0..threads)
        .map(|writer| {
            let (driver, written, run_id) = (driver.clone(), written.clone(), run_id.clone());
            thread::spawn(move || {
                let mut session = driver.session();
                for i in 0..writes {
                    let seq = (writer * writes + i) as i64;
                    let create = Query::new("CREATE (:ExampleWrite {run: $run, seq: $seq})")
                        .param("run", run_id.as_str())
                        .param("seq", seq);
                    session.execute_write(|tx| tx.run(create.clone())?.consume())?;
                    // The bookmarks name exactly this commit: a reader holding them must see it.
                    let _ = written.send((seq, session.last_bookmarks()));
                }
                Ok::<_, quiver_blocking::Error>(())
            })
        })
        .collect();
    drop(written);

    let readers: Vec<_> = (0..threads)
        .map(|_| {
            let (driver, to_read, run_id) = (driver.clone(), to_read.clone(), run_id.clone());
            thread::spawn(move || {
                let (mut seen, mut missed) = (0usize, 0usize);
                loop {
                    // The lock is held only while taking one item.
                    let next = to_read.lock().map_err(|_| "a reader panicked")?.recv();
                    let Ok((seq, bookmarks)) = next else { break };
                    let mut session =
                        driver.session_with(SessionConfig::new().with_bookmarks(bookmarks));
                    let find = Query::new(
                        "MATCH (w:ExampleWrite {run: $run, seq: $seq}) RETURN count(w) AS c",
                    )
                    .param("run", run_id.as_str())
                    .param("seq", seq);
                    let found: i64 =
                        session.execute_read(|tx| tx.run(find.clone())?.single()?.get("c"))?;
                    if found == 1 { seen += 1 } else { missed += 1 }
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>((seen, missed))
            })
        })
        .collect();

    for writer in writers {
        writer.join().map_err(|_| "a writer panicked")??;
    }
    let write_time = started.elapsed();
    let (mut seen, mut missed) = (0, 0);
    for reader in readers {
        let (s, m) = reader
            .join()
            .map_err(|_| "a reader panicked")?
            .map_err(|e| e.to_string())?;
        seen += s;
        missed += m;
    }
    let total_time = started.elapsed();
    let total_writes = threads * writes;
    println!(
        "{threads} writer threads: {total_writes} write transactions in {write_time:.2?} ({:.0} tx/s)",
        total_writes as f64 / write_time.as_secs_f64()
    );
    println!(
        "{threads} reader threads: {} read transactions; all done in {total_time:.2?} ({:.0} tx/s overall)",
        seen + missed,
        (total_writes + seen + missed) as f64 / total_time.as_secs_f64()
    );
    driver
        .execute_query("MATCH (w:ExampleWrite {run: $run}) DELETE w")
        .param("run", run_id.as_str())
        .run()?;
    if missed > 0 || seen != total_writes {
        return Err(format!(
            "readers saw {seen} of {total_writes} writes ({missed} missing despite bookmarks)"
        )
        .into());
    }
    println!("every write was seen by a reader holding its bookmarks");
    Ok(())
}
