//! The blocking API against a real Neo4j (start one with `cargo xtask server start neo4j-5`).
//!
//! Reads NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD like the shared suite; without a reachable server
//! every test fails saying how to start one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use quiver_blocking::{
    AuthToken, BookmarkManager, Config, Driver, Error, Query, RetryConfig, RoutingControl,
    SessionConfig,
};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn uri() -> String {
    env("NEO4J_URI", "bolt://127.0.0.1:7687")
}

fn auth() -> AuthToken {
    AuthToken::basic(
        env("NEO4J_USER", "neo4j"),
        env("NEO4J_PASSWORD", "quiver-test-password"),
    )
}

fn driver_with(config: Config) -> Driver {
    let driver = Driver::with_config(&uri(), auth(), config).expect("valid driver config");
    if let Err(e) = driver.verify_connectivity() {
        panic!(
            "cannot reach Neo4j at {} ({e}); start it with `cargo xtask server start neo4j-5` \
             (or set NEO4J_URI/NEO4J_USER/NEO4J_PASSWORD)",
            uri()
        );
    }
    driver
}

fn driver() -> Driver {
    driver_with(Config::default())
}

fn label(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("Quiver_blocking_{test}_{}_{nanos}", std::process::id())
}

#[test]
fn execute_query_returns_names() {
    let driver = driver();
    let l = label("names");
    let created = driver
        .execute_query(format!(
            "UNWIND $names AS name CREATE (:{l} {{name: name}})"
        ))
        .param("names", vec!["Alice", "Bob"])
        .run()
        .unwrap();
    assert_eq!(created.summary.counters.nodes_created, 2);
    let result = driver
        .execute_query(format!("MATCH (p:{l}) RETURN p.name AS name ORDER BY name"))
        .routing(RoutingControl::Read)
        .run()
        .unwrap();
    let names: Vec<String> = result
        .records
        .iter()
        .map(|r| r.get("name").unwrap())
        .collect();
    assert_eq!(names, ["Alice", "Bob"]);
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .run()
        .unwrap();
}

#[test]
fn results_are_iterators_pulled_in_batches() {
    let driver = driver_with(Config::default().with_fetch_size(7));
    let mut session = driver.session();
    let mut result = session.run("UNWIND range(1, 50) AS i RETURN i").unwrap();
    assert_eq!(result.keys().len(), 1);
    assert_eq!(result.peek().unwrap().unwrap().get::<i64>("i").unwrap(), 1);
    assert_eq!(result.fetch(10).unwrap().len(), 10);
    let rest: Vec<i64> = result
        .by_ref()
        .map(|r| r.unwrap().get("i").unwrap())
        .collect();
    assert_eq!(rest, (11..=50).collect::<Vec<_>>());
    let summary = result.consume().unwrap();
    assert!(summary.result_consumed_after.is_some());
    // Dropped early: the session still works.
    let mut big = session
        .run("UNWIND range(1, 100000) AS i RETURN i")
        .unwrap();
    assert!(big.next().is_some());
    drop(big);
    let one = session.run("RETURN 1 AS one").unwrap().single().unwrap();
    assert_eq!(one.get::<i64>("one").unwrap(), 1);
}

#[test]
fn explicit_transactions_commit_and_roll_back() {
    let driver = driver();
    let l = label("tx");
    let mut session = driver.session();
    let tx = session.begin_transaction().unwrap();
    tx.run(format!("CREATE (:{l} {{v: 1}})"))
        .unwrap()
        .consume()
        .unwrap();
    tx.commit().unwrap();
    let tx = session.begin_transaction().unwrap();
    tx.run(format!("CREATE (:{l} {{v: 2}})"))
        .unwrap()
        .consume()
        .unwrap();
    tx.rollback().unwrap();
    {
        let tx = session.begin_transaction().unwrap();
        tx.run(format!("CREATE (:{l} {{v: 3}})"))
            .unwrap()
            .consume()
            .unwrap();
        assert!(tx.is_open());
    }
    let values: Vec<i64> = session
        .run(format!("MATCH (n:{l}) RETURN n.v AS v"))
        .unwrap()
        .map(|r| r.unwrap().get("v").unwrap())
        .collect();
    assert_eq!(values, [1]);
    session
        .run(format!("MATCH (n:{l}) DELETE n"))
        .unwrap()
        .consume()
        .unwrap();
}

#[test]
fn transaction_functions_are_plain_closures_and_bookmarks_chain_sessions() {
    let driver = driver();
    let l = label("causal");
    let mut writer = driver.session();
    let id: String = writer
        .execute_write(|tx| {
            tx.run(
                Query::new(format!(
                    "CREATE (n:{l} {{v: $v, uid: $uid}}) RETURN n.uid AS id"
                ))
                .param("v", 42)
                .param("uid", format!("{l}-first")),
            )?
            .single()?
            .get("id")
        })
        .unwrap();
    let mut reader =
        driver.session_with(SessionConfig::new().with_bookmarks(writer.last_bookmarks()));
    let v: i64 = reader
        .execute_read(|tx| {
            tx.run(
                Query::new(format!("MATCH (n:{l} {{uid: $id}}) RETURN n.v AS v"))
                    .param("id", id.clone()),
            )?
            .single()?
            .get("v")
        })
        .unwrap();
    assert_eq!(v, 42);
    // An error from the closure rolls back and is returned as is (a client error: no retry).
    let err = writer
        .execute_write(|tx| {
            tx.run(format!("CREATE (:{l} {{v: 0}})"))?.consume()?;
            tx.run("RETURN 1 +")?.consume()
        })
        .unwrap_err();
    assert!(err.as_server_error().is_some(), "{err}");
    let r = driver
        .execute_query(format!("MATCH (n:{l}) RETURN count(n) AS c"))
        .run()
        .unwrap();
    assert_eq!(r.records[0].get::<i64>("c").unwrap(), 1);
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .run()
        .unwrap();
}

#[test]
fn server_errors_are_typed_and_the_session_recovers() {
    let driver = driver();
    let mut session = driver.session();
    let err = session
        .run("RETURN 1 +")
        .err()
        .expect("a syntax error must fail");
    assert_eq!(
        err.as_server_error().map(|e| e.code.as_str()),
        Some("Neo.ClientError.Statement.SyntaxError")
    );
    assert_eq!(
        session
            .run("RETURN 2 AS two")
            .unwrap()
            .single()
            .unwrap()
            .get::<i64>("two")
            .unwrap(),
        2
    );
}

#[test]
fn eight_threads_share_one_driver_with_a_pool_of_three() {
    let driver = driver_with(Config::default().with_max_connection_pool_size(3));
    let l = label("threads");
    let manager = BookmarkManager::new();
    let threads: Vec<_> = (0..8i64)
        .map(|t| {
            let driver = driver.clone();
            let l = l.clone();
            let manager = manager.clone();
            thread::spawn(move || {
                let mut session =
                    driver.session_with(SessionConfig::new().with_bookmark_manager(manager));
                for i in 0..10i64 {
                    session
                        .execute_write(|tx| {
                            tx.run(
                                Query::new(format!("CREATE (:{l} {{v: $v}})"))
                                    .param("v", t * 10 + i),
                            )?
                            .consume()
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert!(driver.pool_sizes().0 <= 3, "{:?}", driver.pool_sizes());
    let mut reader = driver.session_with(SessionConfig::new().with_bookmark_manager(manager));
    let (count, sum): (i64, i64) = reader
        .execute_read(|tx| {
            let r = tx
                .run(format!("MATCH (n:{l}) RETURN count(n) AS c, sum(n.v) AS s"))?
                .single()?;
            Ok((r.get("c")?, r.get("s")?))
        })
        .unwrap();
    assert_eq!((count, sum), (80, (0..80).sum()));
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .run()
        .unwrap();
}

#[test]
fn a_real_deadlock_between_threads_is_resolved_by_the_retry() {
    let retry = RetryConfig {
        initial_delay: Duration::from_millis(50),
        ..RetryConfig::default()
    };
    let driver = driver_with(Config::default().with_retry(retry));
    let l = label("deadlock");
    driver
        .execute_query(format!(
            "CREATE (:{l} {{k: 'a', v: 0}}), (:{l} {{k: 'b', v: 0}})"
        ))
        .run()
        .unwrap();
    let attempts = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = [("a", "b"), ("b", "a")]
        .into_iter()
        .map(|(first, second)| {
            let (driver, l, attempts, barrier) =
                (driver.clone(), l.clone(), attempts.clone(), barrier.clone());
            thread::spawn(move || {
                let lock = |k: &str| {
                    Query::new(format!("MATCH (n:{l} {{k: $k}}) SET n.v = n.v + 1")).param("k", k)
                };
                driver.session().execute_write(|tx| {
                    let attempt = attempts.fetch_add(1, Ordering::SeqCst);
                    tx.run(lock(first))?.consume()?;
                    if attempt < 2 {
                        barrier.wait();
                    }
                    tx.run(lock(second))?.consume()?;
                    Ok(())
                })
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    assert!(
        attempts.load(Ordering::SeqCst) >= 3,
        "one of the two must have been retried"
    );
    let r = driver
        .execute_query(format!("MATCH (n:{l}) RETURN sum(n.v) AS s"))
        .run()
        .unwrap();
    assert_eq!(r.records[0].get::<i64>("s").unwrap(), 4);
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .run()
        .unwrap();
}

#[test]
fn a_blocked_read_ends_at_the_read_timeout() {
    let driver = driver();
    let l = label("read_timeout");
    driver
        .execute_query(format!("CREATE (:{l})"))
        .run()
        .unwrap();
    let mut holder = driver.session();
    let tx = holder.begin_transaction().unwrap();
    tx.run(format!("MATCH (n:{l}) SET n.x = 1"))
        .unwrap()
        .consume()
        .unwrap();
    // The server makes the second writer wait for the lock, sending nothing meanwhile.
    let impatient =
        driver_with(Config::default().with_read_timeout(Some(Duration::from_millis(300))));
    let started = Instant::now();
    let mut session = impatient.session();
    let err = session
        .run(format!("MATCH (n:{l}) SET n.x = 2"))
        .and_then(|r| r.consume())
        .expect_err("the read must time out");
    let waited = started.elapsed();
    assert!(err.is_connection_error(), "{err}");
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    tx.rollback().unwrap();
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .run()
        .unwrap();
}

#[test]
fn waiting_for_a_pooled_connection_times_out() {
    let config = Config::default()
        .with_max_connection_pool_size(1)
        // Long enough for the first connection to open on a loaded machine: opening counts too.
        .with_connection_acquisition_timeout(Duration::from_millis(1500));
    let driver = driver_with(config);
    let mut holder = driver.session();
    let tx = holder.begin_transaction().unwrap();
    let started = Instant::now();
    let err = driver.execute_query("RETURN 1").run().unwrap_err();
    assert!(matches!(err, Error::AcquisitionTimeout { .. }), "{err}");
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    // Another thread's release wakes a waiting one.
    let waiter = {
        let driver = driver.clone();
        thread::spawn(move || driver.execute_query("RETURN 1 AS one").run())
    };
    thread::sleep(Duration::from_millis(50));
    tx.rollback().unwrap();
    drop(holder);
    let r = waiter.join().unwrap().unwrap();
    assert_eq!(r.records[0].get::<i64>("one").unwrap(), 1);
}

/// The trap of blocking wrappers around a hidden runtime: called from async code they panic with
/// "Cannot start a runtime from within a runtime". This crate has no runtime to start.
#[tokio::test]
async fn the_blocking_api_works_inside_a_tokio_task() {
    let driver = driver();
    let r = driver
        .execute_query("RETURN 40 + 2 AS answer")
        .run()
        .unwrap();
    assert_eq!(r.records[0].get::<i64>("answer").unwrap(), 42);
    let mut session = driver.session();
    let v: i64 = session
        .execute_read(|tx| tx.run("RETURN 1 AS v")?.single()?.get("v"))
        .unwrap();
    assert_eq!(v, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blocking_api_works_inside_spawned_tokio_tasks() {
    let driver = driver();
    let tasks: Vec<_> = (0..4i64)
        .map(|i| {
            let driver = driver.clone();
            tokio::spawn(async move {
                driver
                    .execute_query("RETURN $i AS i")
                    .param("i", i)
                    .run()?
                    .records[0]
                    .get::<i64>("i")
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.unwrap().unwrap(), i as i64);
    }
}

#[test]
fn tls_through_the_blocking_api() {
    let Ok(tls_uri) = std::env::var("NEO4J_TLS_URI") else {
        panic!(
            "NEO4J_TLS_URI is not set: run the tests through `cargo xtask test`, or `eval \"$(cargo xtask server env neo4j-5)\"` first"
        );
    };
    let ca = std::env::var("NEO4J_TLS_CA").expect("NEO4J_TLS_CA must be set with NEO4J_TLS_URI");
    let config = Config::default()
        .with_fetch_size(100)
        .with_trusted_certificates(quiver_blocking::TrustedCertificates::CustomCa(vec![
            ca.into(),
        ]));
    let driver = Driver::with_config(&tls_uri, auth(), config).unwrap();
    assert!(driver.encrypted());
    let mut session = driver.session();
    let sum: i64 = session
        .execute_read(|tx| {
            tx.run("UNWIND range(1, 1000) AS i RETURN i")?
                .map(|r| r?.get::<i64>("i"))
                .sum()
        })
        .unwrap();
    assert_eq!(sum, 500_500);
}

#[test]
fn several_results_of_one_transaction_are_read_interleaved() {
    let driver = driver_with(Config::default().with_fetch_size(2));
    let mut session = driver.session();
    let tx = session.begin_transaction().unwrap();
    let mut a = tx.run("UNWIND range(1, 5) AS i RETURN i").unwrap();
    let mut b = tx.run("UNWIND range(101, 105) AS i RETURN i").unwrap();
    let mut seen = Vec::new();
    for _ in 0..5 {
        for result in [&mut a, &mut b] {
            let record = result.next().unwrap().unwrap();
            seen.push(record.get::<i64>("i").unwrap());
        }
    }
    assert!(a.next().is_none() && b.next().is_none());
    assert_eq!(seen, [1, 101, 2, 102, 3, 103, 4, 104, 5, 105]);
    // A third one left half read: the commit discards it.
    let mut c = tx.run("UNWIND range(1, 10) AS i RETURN i").unwrap();
    assert!(c.next().is_some());
    tx.commit().unwrap();
    assert!(matches!(c.next(), Some(Err(Error::ResultConsumed(_)))));
}
