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

use quiver_tokio::{AuthToken, Config, Driver, Error, Query, RetryConfig, SessionConfig};

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
                .execute_write(|tx| async move {
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
                .execute_write(|tx| async move {
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

#[tokio::test]
async fn real_notifications_and_gql_statuses_are_typed() {
    use quiver_tokio::{NotificationCategory, NotificationSeverity};

    let driver = driver().await;
    let version = driver.get_server_info().await.unwrap().protocol_version;
    let mut session = driver.session();
    let label = label("no_such_label");

    // An unknown label: a warning, and no data.
    let summary = session
        .run(format!("MATCH (n:{label}) RETURN n"))
        .await
        .unwrap()
        .consume()
        .await
        .unwrap();
    let notifications = summary
        .notifications()
        .expect("the server reported a notification");
    let warning = notifications
        .iter()
        .find(|n| n.code == "Neo.ClientNotification.Statement.UnknownLabelWarning")
        .unwrap_or_else(|| panic!("no unknown-label warning in {notifications:?}"));
    assert_eq!(warning.severity_level, NotificationSeverity::Warning);
    assert_eq!(warning.raw_severity_level, "WARNING");
    assert_eq!(warning.category, NotificationCategory::Unrecognized);
    let position = warning.position.expect("the warning points into the query");
    assert_eq!(
        (position.line, position.column, position.offset),
        (1, 10, 9)
    );
    let statuses = summary.gql_status_objects();
    assert_eq!(
        statuses[0].gql_status, "02000",
        "no data comes first: {statuses:?}"
    );
    assert!(!statuses[0].is_notification);
    let status = statuses
        .iter()
        .find(|s| s.is_notification)
        .expect("the warning as a GQL status");
    if version >= (5, 6) {
        assert_eq!(status.gql_status, "01N50");
        assert!(
            status
                .status_description
                .starts_with("warn: label does not exist")
        );
    } else {
        assert_eq!(
            status.gql_status, "01N42",
            "filled in from the notification"
        );
    }
    assert_eq!(status.severity, NotificationSeverity::Warning);
    assert_eq!(status.classification, NotificationCategory::Unrecognized);
    assert_eq!(status.raw_classification.as_deref(), Some("UNRECOGNIZED"));
    assert_eq!(status.position, Some(position));
    for key in ["OPERATION", "OPERATION_CODE", "CURRENT_SCHEMA", "_severity"] {
        assert!(
            status.diagnostic_record.contains_key(key),
            "{key} missing from {:?}",
            status.diagnostic_record
        );
    }

    // A cartesian product: informational, after the success status.
    let summary = session
        .run("MATCH (a), (b) RETURN count(*) AS c")
        .await
        .unwrap()
        .consume()
        .await
        .unwrap();
    let statuses = summary.gql_status_objects();
    assert_eq!(statuses[0].gql_status, "00000", "{statuses:?}");
    let cartesian = statuses
        .iter()
        .find(|s| s.is_notification)
        .expect("the cartesian product notification");
    assert!(cartesian.gql_status.starts_with("03"), "{cartesian:?}");
    assert_eq!(cartesian.severity, NotificationSeverity::Information);
    assert_eq!(cartesian.classification, NotificationCategory::Performance);
    let notifications = summary.notifications().unwrap();
    assert_eq!(
        notifications[0].code,
        "Neo.ClientNotification.Statement.CartesianProduct"
    );

    // A plain query: no notifications (`None`, the server sent none) and one success status.
    let summary = session
        .run("RETURN 1 AS one")
        .await
        .unwrap()
        .consume()
        .await
        .unwrap();
    assert_eq!(summary.notifications(), None);
    let statuses = summary.gql_status_objects();
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    assert_eq!(statuses[0].gql_status, "00000");
}

#[tokio::test]
async fn real_failures_carry_their_gql_fields() {
    use quiver_tokio::GqlErrorClassification;

    let driver = driver().await;
    let version = driver.get_server_info().await.unwrap().protocol_version;
    let mut session = driver.session();
    let failure = |result: Result<quiver_tokio::ResultSummary, Error>| {
        let error = result.expect_err("the query must fail");
        error
            .as_server_error()
            .cloned()
            .unwrap_or_else(|| panic!("not a server error: {error}"))
    };

    // Neo4j 5.26 answers a division by zero with GQLSTATUS 50N42 and no diagnostic record: the
    // driver fills in the default one.
    let result = match session.run("RETURN 1/0 AS x").await {
        Ok(stream) => stream.consume().await,
        Err(e) => Err(e),
    };
    let error = failure(result);
    assert_eq!(error.code, "Neo.ClientError.Statement.ArithmeticError");
    assert_eq!(error.message, "/ by zero");
    assert_eq!(error.gql_status, "50N42");
    assert!(
        error
            .description
            .starts_with("error: general processing exception - unexpected error. "),
        "{}",
        error.description
    );
    assert_eq!(error.classification, GqlErrorClassification::Unknown);
    let text = |key: &str| {
        error
            .diagnostic_record
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    assert_eq!(text("OPERATION").as_deref(), Some(""));
    assert_eq!(text("OPERATION_CODE").as_deref(), Some("0"));
    assert_eq!(text("CURRENT_SCHEMA").as_deref(), Some("/"));

    // A negative LIMIT: a real GQL error (42001) with a classification, a position and a cause.
    let result = match session.run("MATCH (n) RETURN n LIMIT -1").await {
        Ok(stream) => stream.consume().await,
        Err(e) => Err(e),
    };
    let error = failure(result);
    assert_eq!(error.code, "Neo.ClientError.Statement.SyntaxError");
    if version < (5, 7) {
        assert_eq!(error.gql_status, "50N42", "no GQL errors before Bolt 5.7");
        return;
    }
    assert_eq!(error.gql_status, "42001");
    assert_eq!(
        error.description,
        "error: syntax error or access rule violation - invalid syntax"
    );
    assert_eq!(error.classification, GqlErrorClassification::ClientError);
    assert_eq!(error.raw_classification.as_deref(), Some("CLIENT_ERROR"));
    assert!(error.diagnostic_record.contains_key("_position"));
    assert!(error.diagnostic_record.contains_key("OPERATION_CODE"));
    let cause = error.cause.as_deref().expect("a GQL cause");
    assert_eq!(cause.gql_status, "42N31");
    assert!(error.has_gql_status("42N31"));
    assert_eq!(
        std::error::Error::source(&error).map(ToString::to_string),
        Some(format!("GQL error 42N31: {}", cause.message))
    );
}

/// Zoned date-times through quiver-bolt's `chrono-tz` feature against the server's own time-zone
/// rules: parameters from `chrono::DateTime<Tz>` (also at daylight-saving edges) come back as
/// the same instant, and the wall clock and offset the server computes are the ones chrono-tz
/// gives. A date-time Cypher builds from an ambiguous wall-clock time gets the earlier offset,
/// what `Disambiguation::Compatible` reads a legacy 4.4 value as.
#[tokio::test]
async fn zoned_date_times_agree_with_the_servers_rules() {
    use chrono::{Offset, TimeZone, Timelike};
    use chrono_tz::Tz;
    use quiver_tokio::Value;
    use quiver_tokio::value::Disambiguation;

    let driver = driver().await;
    let zones: [Tz; 4] = [
        chrono_tz::Europe::Stockholm,
        chrono_tz::America::New_York,
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::Asia::Kathmandu,
    ];
    // Around the 2022 changes: 1 s before/after Stockholm's and New York's, plus summer/winter.
    let instants = [
        1_667_091_599, // 2022-10-30T00:59:59Z, Stockholm's last second of summer time
        1_667_091_600,
        1_647_154_799, // 2022-03-13T06:59:59Z, New York's last second of standard time
        1_647_154_800,
        1_654_595_525,
        1_642_425_874,
    ];
    for tz in zones {
        for seconds in instants {
            let sent = tz.timestamp_opt(seconds, 123_456_789).single().unwrap();
            let param = Value::try_from(sent).unwrap();
            let r = driver
                .execute_query(
                    "RETURN $dt AS dt, $dt.offsetSeconds AS offset, $dt.hour AS hour, \
                     $dt.minute AS minute, $dt.timezone AS zone",
                )
                .param("dt", param)
                .await
                .unwrap();
            let record = &r.records[0];
            let Some(Value::DateTimeZoneId(back)) = record.value("dt") else {
                panic!("{:?}", record.value("dt"))
            };
            let back = chrono::DateTime::<Tz>::try_from(&**back).unwrap();
            assert_eq!(back, sent, "{tz} at {seconds}");
            // The same through the driver's typed getters (features chrono/chrono-tz).
            let got: chrono::DateTime<Tz> = record.get("dt").unwrap();
            assert_eq!((got, got.timezone()), (sent, tz));
            let fixed: chrono::DateTime<chrono::FixedOffset> = record.get("dt").unwrap();
            assert_eq!(fixed, sent);
            assert_eq!(fixed.offset().fix(), sent.offset().fix());
            let offset = i64::from(sent.offset().fix().local_minus_utc());
            assert_eq!(
                record.value("offset"),
                Some(&Value::Integer(offset)),
                "{tz}"
            );
            let hour = i64::from(sent.hour());
            assert_eq!(record.value("hour"), Some(&Value::Integer(hour)), "{tz}");
            let minute = i64::from(sent.minute());
            assert_eq!(record.value("minute"), Some(&Value::Integer(minute)));
            assert_eq!(record.value("zone"), Some(&Value::String(tz.name().into())));
        }
    }
    // 02:30 happened twice in Stockholm on 2022-10-30; the server picks the earlier (+02:00).
    let r = driver
        .execute_query("RETURN datetime('2022-10-30T02:30[Europe/Stockholm]') AS dt")
        .await
        .unwrap();
    let Some(Value::DateTimeZoneId(built)) = r.records[0].value("dt") else {
        panic!("{:?}", r.records[0].value("dt"))
    };
    assert_eq!(built.utc_offset_seconds(), Ok(7200));
    let legacy = built.to_legacy().unwrap();
    assert_eq!(
        legacy.to_utc(Disambiguation::Compatible).as_ref(),
        Ok(&**built)
    );
    assert_ne!(legacy.to_utc(Disambiguation::Later).as_ref(), Ok(&**built));
}
