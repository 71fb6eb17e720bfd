//! The driver against a real Neo4j (start one with `cargo xtask server start neo4j-5`): the tests that
//! only the tokio adapter runs. The behaviour every adapter must share (execute_query, results and
//! backpressure, transactions, causal consistency, timeouts, auth errors, cancel safety, values, TLS)
//! lives once in `crates/quiver-smol/tests/shared` and runs here through `shared_suite.rs`.
//!
//! Reads NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD (defaults bolt://127.0.0.1:7687, neo4j,
//! quiver-test-password) and, for TLS, NEO4J_TLS_URI and NEO4J_TLS_CA. Without a reachable server
//! every test fails with a message saying how to start one: a missing server is never a pass.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use quiver_tokio::{AuthToken, Config, Driver, Query, RetryConfig, SessionConfig};

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
