//! The driver's integration suite, written once and run on every runtime adapter.
//!
//! Each test is an `async fn` generic over the [`Runtime`]; an adapter's test file includes this
//! module and instantiates every test with [`shared_suite!`]:
//!
//! ```ignore
//! #[macro_use]
//! #[path = "../../quiver-smol/tests/shared/mod.rs"] // from another adapter crate
//! mod shared;
//! shared_suite!(quiver_smol::SmolRuntime, smol::block_on);
//! ```
//!
//! `shared_suite!(routing quiver_smol::SmolRuntime, smol::block_on)` (in a test binary of its
//! own) runs the same tests through routing: `NEO4J_URI`'s scheme becomes its `neo4j`
//! counterpart (`bolt://` → `neo4j://`, `bolt+s://` → `neo4j+s://`), and a single server
//! answers ROUTE with itself in every role.
//!
//! The server comes from NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD (defaults bolt://127.0.0.1:7687,
//! neo4j, quiver-test-password; start one with `cargo xtask server start neo4j-5`). Without a
//! reachable server every test fails saying how to start one: a missing server is never a pass.
//! A test that needs something the server lacks asks the server (Bolt version, agent) and prints
//! why it skips — there is no list of test names to skip.
#![allow(dead_code)]

use std::future::Future;
use std::io::Write;
use std::task::Poll;
use std::time::Duration;

use quiver_driver::{
    Address, AuthToken, BookmarkManager, Config, Driver, Error, Query, QueryType, RoutingControl,
    Runtime, ServerAddress, ServerErrorKind, SessionConfig, TransactionConfig, TrustedCertificates,
    Value,
};

/// Instantiate every shared test for `$runtime`, each run with `$block_on(future)`; with
/// `routing` first, through `neo4j://` URIs.
macro_rules! shared_suite {
    (routing $runtime:ty, $block_on:path) => {
        shared_suite!(@tests $runtime, $block_on, shared::use_routing());
        #[test]
        fn a_single_server_routes_to_itself() {
            shared::use_routing();
            $block_on(shared::a_single_server_routes_to_itself::<$runtime>())
        }
    };
    ($runtime:ty, $block_on:path) => {
        shared_suite!(@tests $runtime, $block_on, ());
    };
    (@tests $runtime:ty, $block_on:path, $prelude:expr) => {
        shared_suite!(@each $runtime, $block_on, $prelude;
            execute_query_returns_records_keys_and_summary,
            results_stream_in_batches_with_backpressure,
            single_and_consume_report_misuse_clearly,
            server_errors_are_typed_and_the_session_recovers,
            explicit_transactions_commit_roll_back_and_roll_back_when_dropped,
            transaction_functions_and_bookmarks_give_causal_consistency,
            fifty_concurrent_transaction_functions_over_a_pool_of_five,
            a_transaction_timeout_is_enforced_by_the_server,
            a_wrong_password_is_a_typed_authentication_error,
            an_unreachable_server_is_a_connection_error,
            a_custom_resolver_maps_a_fake_host_to_the_server,
            dropped_results_and_transactions_leave_the_pool_usable,
            server_info_capabilities_and_close,
            values_round_trip_as_parameters,
            nodes_carry_element_ids_from_bolt_5,
            vectors_come_back_as_vectors_from_bolt_6,
            tls_with_the_servers_ca_and_with_trust_any,
        );
    };
    (@each $runtime:ty, $block_on:path, $prelude:expr; $($test:ident,)*) => {$(
        #[test]
        fn $test() {
            $prelude;
            $block_on(shared::$test::<$runtime>())
        }
    )*};
}

/// Run `futures` concurrently in the calling task (no spawning, so it works on every executor).
async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// Every test of this test binary goes through routing (see [`shared_suite!`]).
static ROUTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Run the tests of this binary through routing.
pub(crate) fn use_routing() {
    ROUTING.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether the tests go through routing.
pub(crate) fn routing() -> bool {
    ROUTING.load(std::sync::atomic::Ordering::Relaxed)
}

/// `uri` with its scheme turned into the routing one when the tests go through routing.
fn routed(uri: String) -> String {
    match uri.strip_prefix("bolt") {
        Some(rest) if routing() => format!("neo4j{rest}"),
        _ => uri,
    }
}

pub(crate) fn uri() -> String {
    routed(env("NEO4J_URI", "bolt://127.0.0.1:7687"))
}

pub(crate) fn auth() -> AuthToken {
    AuthToken::basic(
        env("NEO4J_USER", "neo4j"),
        env("NEO4J_PASSWORD", "quiver-test-password"),
    )
}

async fn driver_with<R: Runtime + Default>(config: Config) -> Driver<R> {
    let driver = Driver::<R>::with_config(&uri(), auth(), config).expect("valid driver config");
    if let Err(e) = driver.verify_connectivity().await {
        panic!(
            "cannot reach Neo4j at {} ({e}); start it with `cargo xtask server start neo4j-5` \
             (or set NEO4J_URI/NEO4J_USER/NEO4J_PASSWORD)",
            uri()
        );
    }
    driver
}

async fn driver<R: Runtime + Default>() -> Driver<R> {
    driver_with(Config::default()).await
}

/// A label unique to one test run, so tests can run concurrently on one database.
pub(crate) fn label(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("Quiver_{test}_{}_{nanos}", std::process::id())
}

/// Whether the server speaks at least Bolt `min`; prints why not (the test then skips).
async fn server_supports<R: Runtime>(driver: &Driver<R>, min: (u8, u8), feature: &str) -> bool {
    let info = driver.get_server_info().await.expect("server info");
    let supported = info.protocol_version >= min;
    if !supported {
        // Straight to stderr, not `eprintln!`: the test harness would capture that and show it
        // only on failure, and a skip must be visible in a passing run.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {feature} needs Bolt {}.{}; {} negotiated Bolt {}.{}",
            min.0,
            min.1,
            info.agent,
            info.protocol_version.0,
            info.protocol_version.1
        );
    }
    supported
}

/// Whether the server is Neo4j itself, from its agent (ArcadeDB announces itself as
/// "Neo4j/5.26.0 compatible (ArcadeDB …)"); prints why not (the test then skips what needs it).
async fn is_neo4j<R: Runtime>(driver: &Driver<R>, feature: &str) -> bool {
    let info = driver.get_server_info().await.expect("server info");
    let neo4j = info.agent.starts_with("Neo4j/") && !info.agent.contains("compatible");
    if !neo4j {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {feature} (tested on Neo4j only; the server is {})",
            info.agent
        );
    }
    neo4j
}

pub(crate) async fn execute_query_returns_records_keys_and_summary<R: Runtime + Default>() {
    let driver = driver::<R>().await;
    let l = label("names");
    let created = driver
        .execute_query(format!(
            "UNWIND $names AS name CREATE (:{l} {{name: name}})"
        ))
        .param("names", vec!["Alice", "Bob", "Carol"])
        .await
        .unwrap();
    assert_eq!(created.summary.counters.nodes_created, 3);
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
    assert!(
        result.summary.server.agent.contains('/'),
        "{}",
        result.summary.server.agent
    );
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .await
        .unwrap();
}

pub(crate) async fn results_stream_in_batches_with_backpressure<R: Runtime + Default>() {
    let driver = driver_with::<R>(Config::default().with_fetch_size(10)).await;
    let mut session = driver.session();
    let mut result = session
        .run("UNWIND range(1, 95) AS i RETURN i, 'name-' + toString(i) AS s")
        .await
        .unwrap();
    assert_eq!(result.keys().len(), 2);
    assert_eq!(
        result
            .peek()
            .await
            .unwrap()
            .unwrap()
            .get::<i64>("i")
            .unwrap(),
        1
    );
    let batch = result.fetch(25).await.unwrap();
    assert_eq!(batch.len(), 25);
    assert_eq!(batch[24].get::<String>("s").unwrap(), "name-25");
    assert_eq!(result.collect().await.unwrap().len(), 70);
    let summary = result.consume().await.unwrap();
    assert_eq!(summary.query_type, Some(QueryType::ReadOnly));
    let one = session
        .run("RETURN 1 AS one")
        .await
        .unwrap()
        .single()
        .await
        .unwrap();
    assert_eq!(one.get::<i64>("one").unwrap(), 1);
}

pub(crate) async fn single_and_consume_report_misuse_clearly<R: Runtime + Default>() {
    let driver = driver::<R>().await;
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
    if is_neo4j(&driver, "the result_consumed_after summary field").await {
        assert!(summary.result_consumed_after.is_some());
    }
}

pub(crate) async fn server_errors_are_typed_and_the_session_recovers<R: Runtime + Default>() {
    let driver = driver::<R>().await;
    let mut session = driver.session();
    let err = match session.run("RETURN 1 +").await {
        Err(e) => e,
        Ok(_) => panic!("a syntax error must fail"),
    };
    let server = err.as_server_error().expect("a server error");
    assert_eq!(server.code, "Neo.ClientError.Statement.SyntaxError");
    assert_eq!(server.kind(), ServerErrorKind::Client);
    assert!(!err.is_retryable());
    let r = session
        .run("RETURN 2 AS two")
        .await
        .unwrap()
        .single()
        .await
        .unwrap();
    assert_eq!(r.get::<i64>("two").unwrap(), 2);
}

pub(crate) async fn explicit_transactions_commit_roll_back_and_roll_back_when_dropped<
    R: Runtime + Default,
>() {
    let driver = driver::<R>().await;
    let l = label("tx");
    let mut session = driver.session();
    let tx = session.begin_transaction().await.unwrap();
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
    let tx = session.begin_transaction().await.unwrap();
    tx.run(format!("CREATE (:{l} {{v: 3}})"))
        .await
        .unwrap()
        .consume()
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    {
        let tx = session.begin_transaction().await.unwrap();
        tx.run(format!("CREATE (:{l} {{v: 4}})"))
            .await
            .unwrap()
            .consume()
            .await
            .unwrap();
    }
    {
        let tx = session.begin_transaction().await.unwrap();
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

pub(crate) async fn transaction_functions_and_bookmarks_give_causal_consistency<
    R: Runtime + Default,
>() {
    let driver = driver::<R>().await;
    if !is_neo4j(&driver, "bookmarks").await {
        return;
    }
    let l = label("causal");
    let mut writer = driver.session();
    // Identified by a property, not elementId()/id(): those differ between server versions.
    let create = Query::new(format!(
        "CREATE (n:{l} {{v: $v, uid: $uid}}) RETURN n.uid AS id"
    ))
    .param("v", 42)
    .param("uid", format!("{l}-first"));
    let id: String = writer
        .execute_write(|tx| {
            let create = create.clone();
            async move { tx.run(create).await?.single().await?.get("id") }
        })
        .await
        .unwrap();
    let bookmarks = writer.last_bookmarks();
    assert_eq!(bookmarks.len(), 1);
    let mut reader = driver.session_with(SessionConfig::new().with_bookmarks(bookmarks));
    let read = Query::new(format!("MATCH (n:{l} {{uid: $id}}) RETURN n.v AS v")).param("id", id);
    let v: i64 = reader
        .execute_read(|tx| {
            let read = read.clone();
            async move { tx.run(read).await?.single().await?.get("v") }
        })
        .await
        .unwrap();
    assert_eq!(v, 42);

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
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .await
        .unwrap();
}

pub(crate) async fn fifty_concurrent_transaction_functions_over_a_pool_of_five<
    R: Runtime + Default,
>() {
    let driver = driver_with::<R>(Config::default().with_max_connection_pool_size(5)).await;
    let l = label("concurrent");
    let writes = (0..50i64).map(|i| {
        let driver = driver.clone();
        let create = Query::new(format!("CREATE (:{l} {{i: $i}})")).param("i", i);
        async move {
            let mut session = driver.session();
            session
                .execute_write(|tx| {
                    let create = create.clone();
                    async move { tx.run(create).await?.consume().await }
                })
                .await
                .map(drop)
        }
    });
    for outcome in join_all(writes).await {
        outcome.unwrap();
    }
    let (total, _idle) = driver.pool_sizes();
    assert!(total <= 5, "pool grew to {total}");
    let r = driver
        .execute_query(format!("MATCH (n:{l}) RETURN count(n) AS c, sum(n.i) AS s"))
        .await
        .unwrap();
    assert_eq!(r.records[0].get::<i64>("c").unwrap(), 50);
    assert_eq!(r.records[0].get::<i64>("s").unwrap(), 1225);
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .await
        .unwrap();
}

pub(crate) async fn a_transaction_timeout_is_enforced_by_the_server<R: Runtime + Default>() {
    let driver = driver::<R>().await;
    if !is_neo4j(&driver, "server-enforced transaction timeouts").await {
        return;
    }
    let l = label("timeout");
    driver
        .execute_query(format!("CREATE (:{l})"))
        .await
        .unwrap();
    let mut holder = driver.session();
    let tx = holder.begin_transaction().await.unwrap();
    tx.run(format!("MATCH (n:{l}) SET n.x = 1"))
        .await
        .unwrap()
        .consume()
        .await
        .unwrap();
    let mut waiter = driver.session();
    let started = std::time::Instant::now();
    let outcome = async {
        let tx2 = waiter
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

pub(crate) async fn a_wrong_password_is_a_typed_authentication_error<R: Runtime + Default>() {
    let driver = Driver::<R>::new(&uri(), AuthToken::basic("neo4j", "not-the-password")).unwrap();
    let err = driver.verify_connectivity().await.unwrap_err();
    let server = err.as_server_error().unwrap_or_else(|| {
        panic!(
            "expected a server error (is Neo4j running? `cargo xtask server start neo4j-5`): {err}"
        )
    });
    assert!(server.is_authentication_error(), "{}", server.code);
    assert!(!err.is_retryable());
}

pub(crate) async fn an_unreachable_server_is_a_connection_error<R: Runtime + Default>() {
    // Port 1 on localhost: nothing listens there, the connect is refused at once.
    let config = Config::default().with_connection_timeout(Duration::from_secs(2));
    let driver = Driver::<R>::with_config("bolt://127.0.0.1:1", auth(), config).unwrap();
    let started = std::time::Instant::now();
    let err = driver.verify_connectivity().await.unwrap_err();
    assert!(matches!(err, Error::ServiceUnavailable { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// A custom resolver maps a host name no DNS knows to the real server, after an address that
/// refuses connections (as TestKit's `test_custom_resolver`, which uses 127.100.200.42: all of
/// 127/8 is loopback on Linux, and nothing listens there).
pub(crate) async fn a_custom_resolver_maps_a_fake_host_to_the_server<R: Runtime + Default>() {
    let server = ServerAddress::parse(&uri()).expect("NEO4J_URI is a bolt URI");
    let scheme = uri().split_once("://").map(|(scheme, _)| scheme.to_owned());
    let fake_uri = format!(
        "{}://quiver-resolver-test.invalid",
        scheme.unwrap_or_default()
    );
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = calls.clone();
    let (host, port) = (server.host.clone(), server.port);
    let config = Config::default()
        .with_connection_timeout(Duration::from_millis(500))
        .with_resolver(move |address: &Address| {
            seen.lock().unwrap().push(address.to_string());
            vec![
                Address::new("127.100.200.42", port),
                Address::new(host.clone(), port),
            ]
        });
    let driver = Driver::<R>::with_config(&fake_uri, auth(), config).expect("valid config");
    let result = driver
        .execute_query("RETURN 1 AS n")
        .await
        .expect("the resolver's second address is the server");
    assert_eq!(result.records[0].get::<i64>("n").unwrap(), 1);
    if routing() {
        // The resolver stands for the initial router only; the query went where the routing
        // table said (the server's advertised address).
        let table = driver
            .routing_table(Some("neo4j"))
            .expect("a table for neo4j");
        assert!(!table.writers.is_empty(), "{table:?}");
        assert!(
            table
                .writers
                .iter()
                .any(|w| w.to_string() == result.summary.server.address),
            "{table:?} vs {}",
            result.summary.server.address
        );
    } else {
        assert_eq!(result.summary.server.address, server.authority());
    }
    // Once per new connection (direct), once per routing-table fetch (routing).
    assert_eq!(
        calls.lock().unwrap()[0],
        "quiver-resolver-test.invalid:7687"
    );
    driver.close().await;

    // With only unusable addresses (one refuses, one does not resolve), the error names each.
    let unusable = Config::default().with_resolver(move |_: &Address| {
        vec![
            Address::new("127.100.200.42", port),
            Address::new("quiver-resolver-test.invalid", port),
        ]
    });
    let driver = Driver::<R>::with_config(&fake_uri, auth(), unusable).expect("valid config");
    let error = driver.verify_connectivity().await.unwrap_err();
    // A routing driver chains the routers' errors as the source.
    let mut message = error.to_string();
    if let Some(source) = std::error::Error::source(&error) {
        message = format!("{message}: {source}");
    }
    assert!(
        matches!(error, Error::ServiceUnavailable { .. })
            && message.contains(&format!("127.100.200.42:{port}"))
            && message.contains(&format!("quiver-resolver-test.invalid:{port}")),
        "{message}"
    );
}

pub(crate) async fn dropped_results_and_transactions_leave_the_pool_usable<R: Runtime + Default>() {
    let driver = driver_with::<R>(Config::default().with_max_connection_pool_size(1)).await;
    for _ in 0..3 {
        let mut session = driver.session();
        let mut result = session
            .run("UNWIND range(1, 100000) AS i RETURN i")
            .await
            .unwrap();
        let _ = result.next().await;
    }
    for _ in 0..3 {
        let mut session = driver.session();
        let tx = session.begin_transaction().await.unwrap();
        let _ = tx
            .run("UNWIND range(1, 100000) AS i RETURN i")
            .await
            .unwrap();
    }
    let r = driver.execute_query("RETURN 7 AS seven").await.unwrap();
    assert_eq!(r.records[0].get::<i64>("seven").unwrap(), 7);
    assert_eq!(driver.pool_sizes(), (1, 1));
}

pub(crate) async fn server_info_capabilities_and_close<R: Runtime + Default>() {
    let driver = driver::<R>().await;
    let info = driver.get_server_info().await.unwrap();
    assert!(info.protocol_version >= (4, 4), "{info:?}");
    assert!(!driver.encrypted());
    if server_supports(&driver, (4, 0), "multiple databases").await {
        assert!(driver.supports_multi_db().await.unwrap());
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
    }
    driver.close().await;
    assert!(matches!(
        driver.verify_connectivity().await,
        Err(Error::DriverClosed)
    ));
}

pub(crate) async fn values_round_trip_as_parameters<R: Runtime + Default>() {
    let driver = driver::<R>().await;
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

pub(crate) async fn nodes_carry_element_ids_from_bolt_5<R: Runtime + Default>() {
    let driver = driver::<R>().await;
    if !server_supports(&driver, (5, 0), "element ids in node values").await {
        return;
    }
    let l = label("element_id");
    let r = driver
        .execute_query(format!(
            "CREATE (n:{l} {{v: 1}}) RETURN n, elementId(n) AS id"
        ))
        .await
        .unwrap();
    let node = r.records[0]
        .value("n")
        .and_then(Value::as_node)
        .expect("a node")
        .clone();
    let id: String = r.records[0].get("id").unwrap();
    assert_eq!(
        node.element_id.as_ref().map(|e| e.as_str()),
        Some(id.as_str())
    );
    assert_eq!(
        node.labels.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        [l.as_str()]
    );
    driver
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .await
        .unwrap();
}

pub(crate) async fn vectors_come_back_as_vectors_from_bolt_6<R: Runtime + Default>() {
    let driver = driver::<R>().await;
    if !server_supports(&driver, (6, 0), "the VECTOR type").await {
        return;
    }
    let r = driver
        .execute_query("CYPHER 25 RETURN vector([1, 2, 3], 3, INTEGER8) AS v")
        .await
        .unwrap();
    let vector = r.records[0]
        .value("v")
        .and_then(Value::as_vector)
        .expect("a vector");
    assert_eq!(vector, &quiver_driver::value::Vector::I8(vec![1, 2, 3]));
}

pub(crate) async fn tls_with_the_servers_ca_and_with_trust_any<R: Runtime + Default>() {
    let driver = driver::<R>().await;
    if !is_neo4j(&driver, "TLS on the test server's Bolt port").await {
        return;
    }
    let Ok(tls_uri) = std::env::var("NEO4J_TLS_URI").map(routed) else {
        panic!(
            "NEO4J_TLS_URI is not set: run the tests through `cargo xtask test`, or \
             `eval \"$(cargo xtask server env neo4j-5)\"` first"
        );
    };
    let ca = std::env::var("NEO4J_TLS_CA")
        .expect("NEO4J_TLS_CA (the server's certificate) must be set with NEO4J_TLS_URI");
    let config = Config::default()
        .with_trusted_certificates(TrustedCertificates::CustomCa(vec![ca.clone().into()]));
    let driver = Driver::<R>::with_config(&tls_uri, auth(), config).unwrap();
    assert!(driver.encrypted());
    let r = driver.execute_query("RETURN 1 AS one").await.unwrap();
    assert_eq!(r.records[0].get::<i64>("one").unwrap(), 1);
    // A result streamed over TLS in several batches.
    let mut session = driver.session_with(SessionConfig::new().with_fetch_size(100));
    let mut rows = session
        .run("UNWIND range(1, 1000) AS i RETURN i")
        .await
        .unwrap();
    assert_eq!(rows.collect().await.unwrap().len(), 1000);
    drop(rows);

    // Through a custom resolver, the certificate is checked against the host name of the
    // address the resolver returned (the server's), not the URI's (as the Python driver's SNI).
    let server = ServerAddress::parse(&tls_uri).expect("NEO4J_TLS_URI is a bolt+s URI");
    let resolved = Address::from(&server);
    let config = Config::default()
        .with_trusted_certificates(TrustedCertificates::CustomCa(vec![ca.clone().into()]))
        .with_resolver(move |_: &Address| vec![resolved.clone()]);
    let (scheme, _) = tls_uri.split_once("://").unwrap_or_default();
    let fake_uri = format!("{scheme}://quiver-resolver-test.invalid:{}", server.port);
    let summary = Driver::<R>::with_config(&fake_uri, auth(), config)
        .unwrap()
        .execute_query("RETURN 1")
        .await
        .unwrap()
        .summary;
    if !routing() {
        assert_eq!(summary.server.address, server.authority());
    }

    let ssc = tls_uri.replacen("+s://", "+ssc://", 1);
    Driver::<R>::new(&ssc, auth())
        .unwrap()
        .verify_connectivity()
        .await
        .unwrap();
    // Without the CA, the self-signed certificate is refused.
    let err = Driver::<R>::new(&tls_uri, auth())
        .unwrap()
        .verify_connectivity()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ServiceUnavailable { .. }), "{err}");
}

/// Through routing, a single server (not a cluster) answers ROUTE with itself in every role:
/// the table is fresh after the first query, reads and writes go to that server, and the
/// table can be fetched again on demand.
pub(crate) async fn a_single_server_routes_to_itself<R: Runtime + Default>() {
    let driver = driver::<R>().await;
    assert!(driver.is_routing());
    let written = driver
        .execute_query("RETURN 1 AS n")
        .database("neo4j")
        .await
        .unwrap();
    let table = driver
        .routing_table(Some("neo4j"))
        .expect("a table for neo4j");
    assert_eq!(table.database.as_deref(), Some("neo4j"));
    assert!(table.ttl > Duration::ZERO, "{table:?}");
    assert_eq!(table.routers.len(), 1, "{table:?}");
    assert_eq!(table.readers, table.routers, "{table:?}");
    assert_eq!(table.writers, table.routers, "{table:?}");
    assert_eq!(written.summary.server.address, table.writers[0].to_string());
    let read = driver
        .execute_query("RETURN 1 AS n")
        .database("neo4j")
        .routing(RoutingControl::Read)
        .await
        .unwrap();
    assert_eq!(read.summary.server.address, written.summary.server.address);
    // The home database (no database given) resolves to the same server's default database.
    let home = driver.execute_query("RETURN 1 AS n").await.unwrap();
    assert_eq!(home.records[0].get::<i64>("n").unwrap(), 1);
    assert!(driver.routing_table(Some("neo4j")).is_some());
    driver
        .update_routing_table(Some("neo4j"), Default::default())
        .await
        .unwrap();
    let metrics = driver
        .pool_metrics(&table.writers[0])
        .expect("a pool for the server");
    assert_eq!(metrics.in_use, 0, "{metrics:?}");
    assert!(metrics.idle >= 1, "{metrics:?}");
    driver.close().await;
}
