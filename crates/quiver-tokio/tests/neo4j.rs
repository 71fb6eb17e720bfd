//! The driver against a real Neo4j (start one with `cargo xtask server start neo4j-5`).
//!
//! Reads NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD (defaults bolt://127.0.0.1:7687, neo4j,
//! quiver-test-password) and, for TLS, NEO4J_TLS_URI and NEO4J_TLS_CA. Without a reachable server
//! every test fails with a message saying how to start one: a missing server is never a pass.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use quiver_tokio::{
    AuthToken, BookmarkManager, Config, Driver, Error, Query, RetryConfig, RoutingControl,
    SessionConfig, TransactionConfig, TrustedCertificates, Value,
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

async fn driver_with(config: Config) -> Driver {
    let driver = Driver::with_config(&uri(), auth(), config).expect("valid driver config");
    if let Err(e) = driver.verify_connectivity().await {
        panic!(
            "cannot reach Neo4j at {} ({e}); start it with `cargo xtask server start neo4j-5` \
             (or set NEO4J_URI/NEO4J_USER/NEO4J_PASSWORD)",
            uri()
        );
    }
    driver
}

async fn driver() -> Driver {
    driver_with(Config::default()).await
}

/// A label unique to one test run, so tests can run concurrently on one database.
fn label(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("Quiver_{test}_{}_{nanos}", std::process::id())
}

#[tokio::test]
async fn execute_query_returns_records_keys_and_summary() {
    let driver = driver().await;
    let l = label("names");
    let created = driver
        .execute_query(format!(
            "UNWIND $names AS name CREATE (:{l} {{name: name}})"
        ))
        .param("names", vec!["Alice", "Bob", "Carol"])
        .await
        .unwrap();
    assert_eq!(created.summary.counters.nodes_created, 3);
    assert!(created.summary.counters.contains_updates);
    let result = driver
        .execute_query(format!("MATCH (p:{l}) RETURN p.name AS name ORDER BY name"))
        .routing(RoutingControl::Read)
        .await
        .unwrap();
    assert_eq!(
        result.keys.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        ["name"]
    );
    let names: Vec<String> = result
        .records
        .iter()
        .map(|r| r.get("name").unwrap())
        .collect();
    assert_eq!(names, ["Alice", "Bob", "Carol"]);
    assert_eq!(result.summary.server.protocol_version.0, 5);
    assert!(
        result.summary.server.agent.starts_with("Neo4j/"),
        "{}",
        result.summary.server.agent
    );
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .await
        .unwrap();
}

#[tokio::test]
async fn auto_commit_results_stream_in_batches_with_backpressure() {
    let driver = driver_with(Config::default().with_fetch_size(10)).await;
    let mut session = driver.session();
    let mut result = session
        .run("UNWIND range(1, 95) AS i RETURN i, 'name-' + toString(i) AS s")
        .await
        .unwrap();
    assert_eq!(result.keys().len(), 2);
    let first = result
        .peek()
        .await
        .unwrap()
        .unwrap()
        .get::<i64>("i")
        .unwrap();
    assert_eq!(first, 1);
    let batch = result.fetch(25).await.unwrap();
    assert_eq!(batch.len(), 25);
    assert_eq!(batch[24].get::<String>("s").unwrap(), "name-25");
    let rest = result.collect().await.unwrap();
    assert_eq!(rest.len(), 70);
    let summary = result.consume().await.unwrap();
    assert_eq!(summary.query_type, Some(quiver_tokio::QueryType::ReadOnly));
    assert!(summary.result_available_after.is_some());
    // The session's connection is reused for the next query.
    let one = session
        .run("RETURN 1 AS one")
        .await
        .unwrap()
        .single()
        .await
        .unwrap();
    assert_eq!(one.get::<i64>("one").unwrap(), 1);
}

#[tokio::test]
async fn single_and_consume_report_misuse_clearly() {
    let driver = driver().await;
    let mut session = driver.session();
    let err = session
        .run("UNWIND [1, 2] AS x RETURN x")
        .await
        .unwrap()
        .single()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ResultNotSingle {
                found: "more than one"
            }
        ),
        "{err}"
    );
    let err = session
        .run("UNWIND [] AS x RETURN x")
        .await
        .unwrap()
        .single()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ResultNotSingle { found: "none" }),
        "{err}"
    );
    let summary = session
        .run("UNWIND range(1, 5000) AS x RETURN x")
        .await
        .unwrap()
        .consume()
        .await
        .unwrap();
    assert!(summary.result_consumed_after.is_some());
}

#[tokio::test]
async fn server_errors_are_typed_and_the_session_recovers() {
    let driver = driver().await;
    let mut session = driver.session();
    let err = match session.run("RETURN 1 +").await {
        Err(e) => e,
        Ok(_) => panic!("a syntax error must fail"),
    };
    let server = err.as_server_error().expect("a server error");
    assert_eq!(server.code, "Neo.ClientError.Statement.SyntaxError");
    assert_eq!(server.kind(), quiver_tokio::ServerErrorKind::Client);
    assert!(!err.is_retryable());
    // The same session works afterwards (its connection was RESET).
    let r = session
        .run("RETURN 2 AS two")
        .await
        .unwrap()
        .single()
        .await
        .unwrap();
    assert_eq!(r.get::<i64>("two").unwrap(), 2);
}

#[tokio::test]
async fn explicit_transactions_commit_roll_back_and_roll_back_when_dropped() {
    let driver = driver().await;
    let l = label("tx");
    let mut session = driver.session();
    let mut tx = session.begin_transaction().await.unwrap();
    tx.run(format!("CREATE (:{l} {{v: 1}})"))
        .await
        .unwrap()
        .consume()
        .await
        .unwrap();
    tx.run(format!("CREATE (:{l} {{v: 2}})"))
        .await
        .unwrap()
        .consume()
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = session.begin_transaction().await.unwrap();
    tx.run(format!("CREATE (:{l} {{v: 3}})"))
        .await
        .unwrap()
        .consume()
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    {
        let mut tx = session.begin_transaction().await.unwrap();
        tx.run(format!("CREATE (:{l} {{v: 4}})"))
            .await
            .unwrap()
            .consume()
            .await
            .unwrap();
        // Dropped without commit.
    }
    {
        let mut tx = session.begin_transaction().await.unwrap();
        // A result dropped mid-stream inside a transaction, then more work in it.
        let mut big = tx
            .run("UNWIND range(1, 10000) AS i RETURN i")
            .await
            .unwrap();
        let _ = big.next().await;
        drop(big);
        tx.run(format!("CREATE (:{l} {{v: 5}})"))
            .await
            .unwrap()
            .consume()
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let values: Vec<i64> = session
        .run(format!("MATCH (n:{l}) RETURN n.v AS v ORDER BY v"))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("v").unwrap())
        .collect();
    assert_eq!(values, [1, 2, 5]);
    session
        .run(format!("MATCH (n:{l}) DELETE n"))
        .await
        .unwrap()
        .consume()
        .await
        .unwrap();
}

#[tokio::test]
async fn transaction_functions_and_bookmarks_give_causal_consistency() {
    let driver = driver().await;
    let l = label("causal");
    let mut writer = driver.session();
    let l = &l;
    let id: i64 = writer
        .execute_write(|mut tx| async move {
            let record = tx
                .run(
                    Query::new(format!("CREATE (n:{l} {{v: $v}}) RETURN id(n) AS id"))
                        .param("v", 42),
                )
                .await?
                .single()
                .await?;
            record.get("id")
        })
        .await
        .unwrap();
    let bookmarks = writer.last_bookmarks();
    assert_eq!(bookmarks.len(), 1);

    let mut reader = driver.session_with(SessionConfig::new().with_bookmarks(bookmarks));
    let v: i64 = reader
        .execute_read(|mut tx| async move {
            tx.run(
                Query::new(format!("MATCH (n:{l}) WHERE id(n) = $id RETURN n.v AS v"))
                    .param("id", id),
            )
            .await?
            .single()
            .await?
            .get("v")
        })
        .await
        .unwrap();
    assert_eq!(v, 42);

    // Through a shared bookmark manager.
    let manager = BookmarkManager::new();
    let mut a = driver.session_with(SessionConfig::new().with_bookmark_manager(manager.clone()));
    a.run(format!("CREATE (:{l} {{v: 43}})"))
        .await
        .unwrap()
        .consume()
        .await
        .unwrap();
    assert_eq!(manager.bookmarks().len(), 1);
    let mut b = driver.session_with(SessionConfig::new().with_bookmark_manager(manager.clone()));
    let count: i64 = b
        .run(format!("MATCH (n:{l}) RETURN count(n) AS c"))
        .await
        .unwrap()
        .single()
        .await
        .unwrap()
        .get("c")
        .unwrap();
    assert_eq!(count, 2);

    // execute_query's default manager chains consecutive calls.
    let before = driver.execute_query_bookmark_manager().bookmarks();
    driver
        .execute_query(format!("CREATE (:{l} {{v: 44}})"))
        .await
        .unwrap();
    let after = driver.execute_query_bookmark_manager().bookmarks();
    assert_ne!(before, after);
    let r = driver
        .execute_query(format!("MATCH (n:{l}) RETURN count(n) AS c"))
        .routing(RoutingControl::Read)
        .await
        .unwrap();
    assert_eq!(r.records[0].get::<i64>("c").unwrap(), 3);
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_transaction_functions_over_a_pool_of_ten() {
    let driver = driver_with(Config::default().with_max_connection_pool_size(10)).await;
    let l = label("concurrent");
    let mut tasks = Vec::new();
    for i in 0..100i64 {
        let driver = driver.clone();
        let l = l.clone();
        tasks.push(tokio::spawn(async move {
            let mut session = driver.session();
            let l = &l;
            session
                .execute_write(|mut tx| async move {
                    tx.run(Query::new(format!("CREATE (:{l} {{i: $i}})")).param("i", i))
                        .await?
                        .consume()
                        .await
                })
                .await
                .map(|_| ())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let (total, _idle) = driver.pool_sizes();
    assert!(total <= 10, "pool grew to {total}");
    let r = driver
        .execute_query(format!("MATCH (n:{l}) RETURN count(n) AS c, sum(n.i) AS s"))
        .await
        .unwrap();
    assert_eq!(r.records[0].get::<i64>("c").unwrap(), 100);
    assert_eq!(r.records[0].get::<i64>("s").unwrap(), 4950);
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_deadlock_is_resolved_by_the_retry() {
    let retry = RetryConfig {
        initial_delay: Duration::from_millis(50),
        ..RetryConfig::default()
    };
    let driver = driver_with(Config::default().with_retry(retry)).await;
    let l = label("deadlock");
    driver
        .execute_query(format!(
            "CREATE (:{l} {{k: 'a', v: 0}}), (:{l} {{k: 'b', v: 0}})"
        ))
        .await
        .unwrap();
    let attempts = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let mut tasks = Vec::new();
    for (first, second) in [("a", "b"), ("b", "a")] {
        let driver = driver.clone();
        let l = l.clone();
        let attempts = attempts.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let mut session = driver.session();
            let (l, attempts, barrier) = (&l, &attempts, &barrier);
            session
                .execute_write(|mut tx| async move {
                    let attempt = attempts.fetch_add(1, Ordering::SeqCst);
                    let lock = |k: &str| {
                        Query::new(format!(
                            "MATCH (n:{l} {{k: $k}}) SET n.v = n.v + 1 RETURN n.v AS v"
                        ))
                        .param("k", k)
                    };
                    tx.run(lock(first)).await?.consume().await?;
                    if attempt < 2 {
                        // Both first attempts hold one lock before asking for the other.
                        barrier.wait().await;
                    }
                    tx.run(lock(second)).await?.consume().await?;
                    Ok(())
                })
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert!(
        attempts.load(Ordering::SeqCst) >= 3,
        "one of the two must have been retried"
    );
    let r = driver
        .execute_query(format!("MATCH (n:{l}) RETURN sum(n.v) AS s"))
        .await
        .unwrap();
    // Each of the two transactions incremented both nodes exactly once.
    assert_eq!(r.records[0].get::<i64>("s").unwrap(), 4);
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_transaction_timeout_is_enforced_by_the_server() {
    let driver = driver().await;
    let l = label("timeout");
    driver
        .execute_query(format!("CREATE (:{l})"))
        .await
        .unwrap();
    // Hold the node's lock in one transaction …
    let mut holder = driver.session();
    let mut tx = holder.begin_transaction().await.unwrap();
    tx.run(format!("MATCH (n:{l}) SET n.x = 1"))
        .await
        .unwrap()
        .consume()
        .await
        .unwrap();
    // … so that another one with a short timeout waits for it and is terminated.
    let mut waiter = driver.session();
    let started = std::time::Instant::now();
    let outcome = async {
        let mut tx2 = waiter
            .begin_transaction_with(
                TransactionConfig::new().with_timeout(Duration::from_millis(500)),
            )
            .await?;
        tx2.run(format!("MATCH (n:{l}) SET n.x = 2"))
            .await?
            .consume()
            .await?;
        tx2.commit().await
    }
    .await;
    let err = outcome.expect_err("the transaction must time out");
    let server = err
        .as_server_error()
        .unwrap_or_else(|| panic!("expected a server error, got {err}"));
    assert!(server.code.contains("Transaction"), "{}", server.code);
    assert!(started.elapsed() < Duration::from_secs(20));
    tx.rollback().await.unwrap();
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_wrong_password_is_a_typed_authentication_error() {
    let driver = Driver::new(&uri(), AuthToken::basic("neo4j", "not-the-password")).unwrap();
    let err = driver.verify_connectivity().await.unwrap_err();
    let server = err.as_server_error().unwrap_or_else(|| {
        panic!(
            "expected a server error (is Neo4j running? `cargo xtask server start neo4j-5`): {err}"
        )
    });
    assert!(server.is_authentication_error(), "{}", server.code);
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn dropped_results_and_transactions_leave_the_pool_usable() {
    let driver = driver_with(Config::default().with_max_connection_pool_size(1)).await;
    for _ in 0..3 {
        let mut session = driver.session();
        let mut result = session
            .run("UNWIND range(1, 100000) AS i RETURN i")
            .await
            .unwrap();
        let _ = result.next().await;
        // Dropped mid-stream, and the session with it.
    }
    for _ in 0..3 {
        let mut session = driver.session();
        let mut tx = session.begin_transaction().await.unwrap();
        let _ = tx
            .run("UNWIND range(1, 100000) AS i RETURN i")
            .await
            .unwrap();
    }
    // A result future dropped before it finished.
    {
        let mut session = driver.session();
        let run = session.run("UNWIND range(1, 100000) AS i RETURN i");
        let _ = tokio::time::timeout(Duration::from_micros(1), run).await;
    }
    let r = driver.execute_query("RETURN 7 AS seven").await.unwrap();
    assert_eq!(r.records[0].get::<i64>("seven").unwrap(), 7);
    let (total, idle) = driver.pool_sizes();
    assert_eq!((total, idle), (1, 1));
}

#[tokio::test]
async fn server_info_and_capabilities() {
    let driver = driver().await;
    let info = driver.get_server_info().await.unwrap();
    assert!(info.agent.starts_with("Neo4j/"));
    assert!(driver.supports_multi_db().await.unwrap());
    assert!(!driver.encrypted());
    let mut session = driver.session_with(SessionConfig::new().with_database("system"));
    let r = session
        .run("SHOW DATABASES YIELD name")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert!(
        r.iter()
            .any(|r| r.get::<String>("name").unwrap() == "neo4j")
    );
    driver.close().await;
    assert!(matches!(
        driver.verify_connectivity().await,
        Err(Error::DriverClosed)
    ));
}

#[tokio::test]
async fn values_round_trip_as_parameters() {
    let driver = driver().await;
    let r = driver
        .execute_query("RETURN $i AS i, $f AS f, $s AS s, $b AS b, $l AS l, $n AS n")
        .param("i", -5i64)
        .param("f", 1.5)
        .param("s", "héllo")
        .param("b", true)
        .param("l", vec![1i64, 2, 3])
        .param("n", Value::Null)
        .await
        .unwrap();
    let rec = &r.records[0];
    assert_eq!(rec.get::<i64>("i").unwrap(), -5);
    assert_eq!(rec.get::<f64>("f").unwrap(), 1.5);
    assert_eq!(rec.get::<String>("s").unwrap(), "héllo");
    assert!(rec.get::<bool>("b").unwrap());
    assert_eq!(rec.get::<Vec<i64>>("l").unwrap(), [1, 2, 3]);
    assert_eq!(rec.get::<Option<i64>>("n").unwrap(), None);
}

#[tokio::test]
async fn tls_with_the_servers_ca_and_with_trust_any() {
    let Ok(tls_uri) = std::env::var("NEO4J_TLS_URI") else {
        panic!(
            "NEO4J_TLS_URI is not set: run the tests through `cargo xtask test`, or set NEO4J_TLS_URI and NEO4J_TLS_CA"
        );
    };
    let ca = std::env::var("NEO4J_TLS_CA")
        .expect("NEO4J_TLS_CA (the server's certificate) must be set with NEO4J_TLS_URI");
    let config =
        Config::default().with_trusted_certificates(TrustedCertificates::CustomCa(vec![ca.into()]));
    let driver = Driver::with_config(&tls_uri, auth(), config).unwrap();
    assert!(driver.encrypted());
    let r = driver.execute_query("RETURN 1 AS one").await.unwrap();
    assert_eq!(r.records[0].get::<i64>("one").unwrap(), 1);

    let ssc = tls_uri.replacen("bolt+s://", "bolt+ssc://", 1);
    let driver = Driver::new(&ssc, auth()).unwrap();
    driver.verify_connectivity().await.unwrap();

    // Without the CA, the self-signed certificate is refused.
    let driver = Driver::new(&tls_uri, auth()).unwrap();
    let err = driver.verify_connectivity().await.unwrap_err();
    assert!(matches!(err, Error::ServiceUnavailable { .. }), "{err}");
}

#[tokio::test]
async fn nodes_and_records_deserialize_into_structs_and_params_come_from_serialize() {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Person {
        name: String,
        age: i64,
        email: Option<String>,
    }
    let driver = driver().await;
    let l = label("serde");
    let alice = Person {
        name: "Alice".into(),
        age: 33,
        email: None,
    };
    driver
        .execute_query(format!("CREATE (p:{l}) SET p = $props"))
        .param("props", quiver_tokio::to_value(&alice).unwrap())
        .await
        .unwrap();
    let r = driver
        .execute_query(format!(
            "MATCH (p:{l} {{name: $name}}) RETURN p, p.name AS name, p.age AS age"
        ))
        .params(quiver_tokio::params! { "name" => "Alice" })
        .await
        .unwrap();
    let node: Person = quiver_tokio::from_value(r.records[0].value("p").unwrap()).unwrap();
    assert_eq!(node, alice);
    #[derive(serde::Deserialize)]
    struct Row<'a> {
        name: &'a str,
        age: u8,
    }
    let row: Row<'_> = r.records[0].to().unwrap();
    assert_eq!((row.name, row.age), ("Alice", 33));
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .await
        .unwrap();
}

#[tokio::test]
async fn per_session_auth_switches_users_on_a_pooled_connection() {
    let driver = driver_with(Config::default().with_max_connection_pool_size(1)).await;
    let other = AuthToken::basic("quiver_other", "quiver-other-password");
    let mut system = driver.session_with(SessionConfig::new().with_database("system"));
    system
        .run("CREATE USER quiver_other IF NOT EXISTS SET PASSWORD 'quiver-other-password' CHANGE NOT REQUIRED")
        .await
        .unwrap()
        .consume()
        .await
        .unwrap();
    drop(system);
    assert!(driver.verify_authentication(&other).await.unwrap());
    assert!(
        !driver
            .verify_authentication(&AuthToken::basic("quiver_other", "wrong"))
            .await
            .unwrap()
    );
    let current_user = |auth: Option<AuthToken>| {
        let driver = driver.clone();
        async move {
            let mut config = SessionConfig::new().with_database("system");
            config.auth = auth;
            let mut session = driver.session_with(config);
            session
                .run("SHOW CURRENT USER YIELD user")
                .await
                .unwrap()
                .single()
                .await
                .unwrap()
                .get::<String>("user")
                .unwrap()
        }
    };
    assert_eq!(current_user(Some(other.clone())).await, "quiver_other");
    assert_eq!(current_user(None).await, env("NEO4J_USER", "neo4j"));
    assert_eq!(current_user(Some(other)).await, "quiver_other");
    assert_eq!(
        driver.pool_sizes().0,
        1,
        "one connection, re-authenticated in place"
    );
}
