//! A simulated cluster of stubs: a router answering ROUTE with a table that lists a reader and
//! a writer, and the routing driver (`neo4j://`, tokio) sending a read to the reader and a
//! write to the writer. Every stub checks that it saw what its script says, and completes.

use quiver_stub::StubServer;
use quiver_tokio::{AuthToken, Driver, RoutingControl};

/// HELLO (with the routing context a `neo4j://` driver sends) and LOGON, answered by the stub.
const CONNECT: &str = r#"!: BOLT 5.4
!: ALLOW RESTART
A: HELLO {"user_agent": "*", "routing": {"address": "*"}, "[bolt_agent]": "*", "[notifications_minimum_severity]": "*", "[notifications_disabled_classifications]": "*"}
A: LOGON {"scheme": "basic", "principal": "neo4j", "credentials": "pass"}
*: RESET
"#;

/// A member that runs `query` in a transaction of the given mode (`"r"` is sent as
/// `"mode": "r"`; a write sends no mode).
fn member(query: &str, mode_entry: &str, bookmark: &str) -> String {
    format!(
        r#"{CONNECT}C: BEGIN {{"db": "neo4j"{mode_entry}, "[bookmarks]": "*", "[tx_metadata]": "*", "[tx_timeout]": "*", "[imp_user]": "*"}}
S: SUCCESS {{}}
C: RUN "{query}" {{}} {{}}
S: SUCCESS {{"fields": ["n"], "t_first": 1}}
C: PULL {{"n": {{"Z": "*"}}}}
S: RECORD [1]
   SUCCESS {{"type": "r", "t_last": 1, "db": "neo4j"}}
C: COMMIT
S: SUCCESS {{"bookmark": "{bookmark}"}}
*: RESET
?: GOODBYE
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routing_driver_reads_from_the_reader_and_writes_to_the_writer() {
    let reader = StubServer::start(&member(
        "MATCH (n) RETURN 1 AS n",
        r#", "mode": "r""#,
        "bm:read",
    ))
    .unwrap();
    let writer = StubServer::start(&member("CREATE (n) RETURN 1 AS n", "", "bm:write")).unwrap();
    let router_script = format!(
        r#"{CONNECT}{{+
    C: ROUTE {{"address": "*"}} "*" {{"db": "neo4j"}}
    S: SUCCESS {{"rt": {{"ttl": 1000, "db": "neo4j", "servers": [{{"addresses": ["ROUTER"], "role": "ROUTE"}}, {{"addresses": ["{reader}"], "role": "READ"}}, {{"addresses": ["{writer}"], "role": "WRITE"}}]}}}}
+}}
*: RESET
?: GOODBYE
"#,
        reader = reader.address(),
        writer = writer.address(),
    );
    // The router lists itself: its listener is bound first so that the script can name it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let router_script =
        router_script.replace("ROUTER", &listener.local_addr().unwrap().to_string());
    let router = StubServer::serve_listener(
        quiver_stub::Script::parse(&router_script).unwrap(),
        listener,
    )
    .unwrap();

    let driver = Driver::new(
        &format!("neo4j://{}", router.address()),
        AuthToken::basic("neo4j", "pass"),
    )
    .unwrap();
    let read = driver
        .execute_query("MATCH (n) RETURN 1 AS n")
        .database("neo4j")
        .routing(RoutingControl::Read)
        .await
        .unwrap();
    assert_eq!(read.records.len(), 1);
    let write = driver
        .execute_query("CREATE (n) RETURN 1 AS n")
        .database("neo4j")
        .routing(RoutingControl::Write)
        .await
        .unwrap();
    assert_eq!(write.records.len(), 1);
    driver.close().await;

    // Each stub says whether the driver did what its script says: a read sent to the writer
    // (or the other way round) would be a mismatch in that stub's report.
    let finish = |stub: StubServer| tokio::task::spawn_blocking(move || stub.finish());
    let router = finish(router).await.unwrap().unwrap();
    let reader = finish(reader).await.unwrap().unwrap();
    let writer = finish(writer).await.unwrap().unwrap();
    assert!(router.connections() >= 1);
    assert_eq!(reader.connections(), 1);
    assert_eq!(writer.connections(), 1);
}
