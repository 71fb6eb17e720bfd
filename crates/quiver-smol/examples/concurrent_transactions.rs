//! N writer tasks and N reader tasks on one driver. Each writer commits transactions and hands
//! each one's bookmarks to the readers; a reader opens a session with those bookmarks, so it must
//! see that write (causal consistency) — the example checks that every write was seen and prints
//! transactions per second.
//!
//! `cargo run -p quiver-smol --release --example concurrent_transactions [tasks] [writes per task]`

use std::time::Instant;

use quiver_smol::{AuthToken, Bookmarks, Config, Driver, Query, SessionConfig};

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
    let (tasks, writes) = (arg(1, 8), arg(2, 50));
    let executor = smol::Executor::new();
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    // Two executor threads: the driver's futures move freely between them.
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| smol::block_on(executor.run(stopped.recv())));
        }
        let outcome = smol::block_on(executor.run(run(&executor, tasks, writes)));
        drop(stop);
        outcome
    })
}

async fn run(
    executor: &smol::Executor<'_>,
    tasks: usize,
    writes: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::default().with_max_connection_pool_size(2 * tasks);
    let driver = Driver::with_config(
        &env("NEO4J_URI", "bolt://127.0.0.1:7687"),
        AuthToken::basic(
            env("NEO4J_USER", "neo4j"),
            env("NEO4J_PASSWORD", "quiver-test-password"),
        ),
        config,
    )?;
    driver.verify_connectivity().await?;
    let run_id = format!("{}-{:?}", std::process::id(), std::time::SystemTime::now());
    let (written, to_read) = smol::channel::unbounded::<(i64, Bookmarks)>();
    let started = Instant::now();

    let mut writers = Vec::new();
    for writer in 0..tasks {
        let (driver, written, run_id) = (driver.clone(), written.clone(), run_id.clone());
        writers.push(executor.spawn(async move {
            let mut session = driver.session();
            for i in 0..writes {
                let seq = (writer * writes + i) as i64;
                let create = Query::new("CREATE (:ExampleWrite {run: $run, seq: $seq})")
                    .param("run", run_id.as_str())
                    .param("seq", seq);
                session
                    .execute_write(|tx| {
                        let create = create.clone();
                        async move { tx.run(create).await?.consume().await }
                    })
                    .await?;
                // The bookmarks name exactly this commit: a reader holding them must see it.
                let _ = written.send((seq, session.last_bookmarks())).await;
            }
            Ok::<_, quiver_smol::Error>(())
        }));
    }
    drop(written);

    let mut readers = Vec::new();
    for _ in 0..tasks {
        let (driver, to_read, run_id) = (driver.clone(), to_read.clone(), run_id.clone());
        readers.push(executor.spawn(async move {
            let (mut seen, mut missed) = (0usize, 0usize);
            while let Ok((seq, bookmarks)) = to_read.recv().await {
                let mut session =
                    driver.session_with(SessionConfig::new().with_bookmarks(bookmarks));
                let find = Query::new(
                    "MATCH (w:ExampleWrite {run: $run, seq: $seq}) RETURN count(w) AS c",
                )
                .param("run", run_id.as_str())
                .param("seq", seq);
                let found: i64 = session
                    .execute_read(|tx| {
                        let find = find.clone();
                        async move { tx.run(find).await?.single().await?.get("c") }
                    })
                    .await?;
                if found == 1 { seen += 1 } else { missed += 1 }
            }
            Ok::<_, quiver_smol::Error>((seen, missed))
        }));
    }

    for writer in writers {
        writer.await?;
    }
    let write_time = started.elapsed();
    let (mut seen, mut missed) = (0, 0);
    for reader in readers {
        let (s, m) = reader.await?;
        seen += s;
        missed += m;
    }
    let total_time = started.elapsed();
    let total_writes = tasks * writes;
    println!(
        "{tasks} writers: {total_writes} write transactions in {write_time:.2?} ({:.0} tx/s)",
        total_writes as f64 / write_time.as_secs_f64()
    );
    println!(
        "{tasks} readers: {} read transactions; all done in {total_time:.2?} ({:.0} tx/s overall)",
        seen + missed,
        (total_writes + seen + missed) as f64 / total_time.as_secs_f64()
    );
    driver
        .execute_query("MATCH (w:ExampleWrite {run: $run}) DELETE w")
        .param("run", run_id.as_str())
        .await?;
    if missed > 0 || seen != total_writes {
        return Err(format!(
            "readers saw {seen} of {total_writes} writes ({missed} missing despite bookmarks)"
        )
        .into());
    }
    println!("every write was seen by a reader holding its bookmarks");
    Ok(())
}
