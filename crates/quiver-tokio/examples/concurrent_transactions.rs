//! N writer tasks and N reader tasks over one driver. Each reader starts from the bookmarks of a
//! writer's last transaction, so it must see that write (causal consistency); at the end every
//! write is checked. Prints transactions per second.
//!
//! `cargo run -p quiver-tokio --example concurrent_transactions -- [TASKS] [SECONDS]`
//! (or QUIVER_TASKS / QUIVER_SECONDS; defaults 8 and 5).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quiver_tokio::{AuthToken, Bookmarks, Driver, Error, Query, SessionConfig};

fn arg(position: usize, env: &str, default: u64) -> u64 {
    std::env::args()
        .nth(position)
        .or_else(|| std::env::var(env).ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let tasks = arg(1, "QUIVER_TASKS", 8);
    let seconds = arg(2, "QUIVER_SECONDS", 5);
    let uri = std::env::var("NEO4J_URI").unwrap_or_else(|_| "bolt://127.0.0.1:7687".into());
    let user = std::env::var("NEO4J_USER").unwrap_or_else(|_| "neo4j".into());
    let password =
        std::env::var("NEO4J_PASSWORD").unwrap_or_else(|_| "quiver-test-password".into());
    let driver = Driver::new(&uri, AuthToken::basic(user, password))?;
    driver.verify_connectivity().await?;
    let run = format!("run-{}", std::process::id());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let transactions = Arc::new(AtomicU64::new(0));
    let started = Instant::now();

    // Writers publish (sequence number, bookmarks) after each commit; readers pick them up.
    let (publish, _) =
        tokio::sync::watch::channel::<Vec<(i64, Bookmarks)>>(vec![
            (0, Bookmarks::new());
            tasks as usize
        ]);
    let publish = Arc::new(publish);
    let mut handles = Vec::new();
    for writer in 0..tasks as i64 {
        let (driver, run, transactions, publish) = (
            driver.clone(),
            run.clone(),
            transactions.clone(),
            publish.clone(),
        );
        handles.push(tokio::spawn(async move {
            let mut seq = 0i64;
            while Instant::now() < deadline {
                seq += 1;
                let mut session = driver.session();
                let run = &run;
                session
                    .execute_write(|tx| async move {
                        tx.run(
                            Query::new(
                                "CREATE (:ExampleWrite {run: $run, writer: $writer, seq: $seq})",
                            )
                            .param("run", run.as_str())
                            .param("writer", writer)
                            .param("seq", seq),
                        )
                        .await?
                        .consume()
                        .await
                    })
                    .await?;
                transactions.fetch_add(1, Ordering::Relaxed);
                let bookmarks = session.last_bookmarks();
                publish.send_modify(|slots| slots[writer as usize] = (seq, bookmarks));
            }
            Ok::<u64, Error>(seq as u64)
        }));
    }
    let mut readers = Vec::new();
    for reader in 0..tasks as usize {
        let (driver, run, transactions) = (driver.clone(), run.clone(), transactions.clone());
        let mut watch = publish.subscribe();
        readers.push(tokio::spawn(async move {
            let mut checked = 0u64;
            while Instant::now() < deadline {
                let (seq, bookmarks) = watch.borrow_and_update()[reader].clone();
                if seq == 0 {
                    let _ = tokio::time::timeout(Duration::from_millis(50), watch.changed()).await;
                    continue;
                }
                let mut session = driver.session_with(SessionConfig::new().with_bookmarks(bookmarks));
                let run = &run;
                let seen: i64 = session
                    .execute_read(|tx| async move {
                        tx.run(Query::new("MATCH (w:ExampleWrite {run: $run, writer: $writer, seq: $seq}) RETURN count(w) AS c")
                            .param("run", run.as_str())
                            .param("writer", reader as i64)
                            .param("seq", seq))
                            .await?
                            .single()
                            .await?
                            .get("c")
                    })
                    .await?;
                assert_eq!(seen, 1, "reader {reader} did not see write {seq} of writer {reader} despite its bookmarks");
                transactions.fetch_add(1, Ordering::Relaxed);
                checked += 1;
            }
            Ok::<u64, Error>(checked)
        }));
    }
    let mut written = 0;
    for handle in handles {
        written += handle.await.expect("writer task panicked")?;
    }
    let mut causal_checks = 0;
    for handle in readers {
        causal_checks += handle.await.expect("reader task panicked")?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = transactions.load(Ordering::Relaxed);

    let result = driver
        .execute_query("MATCH (w:ExampleWrite {run: $run}) RETURN count(w) AS c")
        .param("run", run.as_str())
        .await?;
    let stored: i64 = result.records[0].get("c")?;
    println!(
        "{tasks} writers + {tasks} readers for {elapsed:.1} s: {total} transactions, {:.0} tx/s",
        total as f64 / elapsed
    );
    println!(
        "{written} writes committed, {stored} found; {causal_checks} causally consistent reads"
    );
    assert_eq!(
        stored as u64, written,
        "every committed write must be stored exactly once"
    );
    driver
        .execute_query("MATCH (w:ExampleWrite {run: $run}) DELETE w")
        .param("run", run.as_str())
        .await?;
    Ok(())
}
