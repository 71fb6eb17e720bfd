//! The stub over loopback: against the blocking driver, against the replaying client (which
//! writes requests through the Bolt core), and its verdicts: completed, mismatch, incomplete.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use quiver_blocking::{AuthToken, Driver};
use quiver_stub::{Outcome, Script, StubError, StubServer, replay};

/// What the quiver driver sends around a query on Bolt 5.x, accepted loosely.
const PROLOGUE: &str = r#"!: BOLT 5.4
A: HELLO {"{}": "*"}
A: LOGON {"{}": "*"}
*: RESET
"#;
const EPILOGUE: &str = "*: RESET\n?: GOODBYE\n";

fn query_script(query: &str) -> String {
    format!(
        r#"{PROLOGUE}C: RUN "{query}" {{}} "*"
S: SUCCESS {{"fields": ["n"]}}
C: PULL {{"n": {{"Z": "*"}}}}
S: RECORD [1]
   RECORD [2]
   SUCCESS {{"type": "r"}}
{EPILOGUE}"#
    )
}

fn replayed(script_run: &str, script_sent: &str) -> Result<(), StubError> {
    let stub = StubServer::start(script_run)?.with_finish_timeout(Duration::from_secs(5));
    let sent = Script::parse(script_sent).expect("the replayed script parses");
    replay::replay(&sent, stub.address(), Duration::from_secs(5)).expect("replay");
    stub.finish().map(|_| ())
}

#[test]
fn a_driver_runs_a_query_against_a_stub() {
    let stub = StubServer::start(&query_script("UNWIND [1, 2] AS n RETURN n")).unwrap();
    let driver = Driver::new(&stub.bolt_uri(), AuthToken::basic("neo4j", "pass")).unwrap();
    let mut session = driver.session();
    let values: Vec<i64> = session
        .run("UNWIND [1, 2] AS n RETURN n")
        .unwrap()
        .map(|r| r.unwrap().get::<i64>("n").unwrap())
        .collect();
    assert_eq!(values, [1, 2]);
    drop(session);
    drop(driver);
    let report = stub.finish().unwrap();
    assert_eq!(report.outcomes, [Outcome::Completed]);
}

#[test]
fn a_mismatch_names_the_line_what_it_expected_and_what_arrived() {
    let stub = StubServer::start(&query_script("RETURN 2 AS n")).unwrap();
    let driver = Driver::new(&stub.bolt_uri(), AuthToken::basic("neo4j", "pass")).unwrap();
    let result = driver
        .session()
        .run("RETURN 1 AS n")
        .and_then(|r| r.collect::<Result<Vec<_>, _>>());
    assert!(
        result.is_err(),
        "the stub closes the connection on a mismatch"
    );
    drop(driver);
    let err = stub.finish().unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("line 5: `C: RUN \"RETURN 2 AS n\" {} \"*\"`"),
        "{message}"
    );
    assert!(
        message.contains("got `RUN \"RETURN 1 AS n\" {}"),
        "{message}"
    );
    assert!(
        matches!(err, StubError::Failed { ref outcomes, .. } if matches!(outcomes[..], [Outcome::Mismatch(_)]))
    );
}

#[test]
fn field_values_are_compared_exactly_where_the_script_is_exact() {
    let run = "!: BOLT 5.0\nC: HELLO {\"user_agent\": \"x\"}\nS: SUCCESS {}\nC: PULL {\"n\": 1000}\nS: SUCCESS {}\n";
    // Integers are not floats; a missing key, an extra key or a different value mismatch.
    for (sent, arrived) in [
        ("C: PULL {\"n\": 1000.0}", "PULL {\"n\": 1000.0}"),
        ("C: PULL {\"n\": -1}", "PULL {\"n\": -1}"),
        ("C: PULL {}", "PULL {}"),
        (
            "C: PULL {\"n\": 1000, \"qid\": 0}",
            "PULL {\"n\": 1000, \"qid\": 0}",
        ),
    ] {
        let script =
            format!("!: BOLT 5.0\nC: HELLO {{\"user_agent\": \"x\"}}\nS: SUCCESS {{}}\n{sent}\n");
        let err = replayed(run, &script).unwrap_err().to_string();
        assert!(
            err.contains("expected line 4: `C: PULL {\"n\": 1000}`")
                && err.contains(&format!("got `{arrived}`")),
            "{sent}: {err}"
        );
    }
    replayed(run, run).unwrap();
}

#[test]
fn wildcards_optional_keys_and_blocks() {
    let run = r#"!: BOLT 5.4
C: HELLO {"user_agent": "*", "[routing]": {"{}": "*"}}
S: SUCCESS {"server": "Neo4j/5.26.0", "connection_id": "c1"}
{?
    C: LOGON {"scheme": "basic", "principal": {"U": "*"}, "credentials": "*"}
    S: SUCCESS {}
?}
{+
    C: RUN {"U": "*"} {"[x]": {"Z": "*"}} {}
    S: SUCCESS {"fields": []}
    {{
        C: PULL {"n": 1000}
        S: SUCCESS {}
    ----
        C: DISCARD {"n": -1}
        S: SUCCESS {}
    }}
+}
"#;
    let path = |logon: bool, runs: &[(&str, &str)]| {
        let mut s = String::from(
            "!: BOLT 5.4\nC: HELLO {\"user_agent\": \"me\", \"routing\": {\"a\": 1}}\n",
        );
        if logon {
            s.push_str("C: LOGON {\"scheme\": \"basic\", \"principal\": \"neo4j\", \"credentials\": \"p\"}\n");
        }
        for (params, stream) in runs {
            s.push_str(&format!("C: RUN \"RETURN 1\" {params} {{}}\n{stream}\n"));
        }
        s
    };
    replayed(run, &path(true, &[("{}", "C: PULL {\"n\": 1000}")])).unwrap();
    replayed(
        run,
        &path(
            false,
            &[
                ("{\"x\": 3}", "C: DISCARD {\"n\": -1}"),
                ("{}", "C: PULL {\"n\": 1000}"),
            ],
        ),
    )
    .unwrap();
    // `+` needs one round; a float where `{"Z": "*"}` stands does not match.
    let err = replayed(run, &path(true, &[])).unwrap_err().to_string();
    assert!(
        err.contains("the client closed the connection") && err.contains("line 9"),
        "{err}"
    );
    let err = replayed(
        run,
        &path(true, &[("{\"x\": 1.5}", "C: PULL {\"n\": 1000}")]),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("got `RUN \"RETURN 1\" {\"x\": 1.5} {}`"),
        "{err}"
    );
}

#[test]
fn exit_completes_and_auto_answers_anywhere() {
    let run = "!: BOLT 4.4\n!: AUTO RESET\nC: HELLO \"*\"\nS: SUCCESS {}\nC: BEGIN {}\nS: SUCCESS {}\n   <EXIT>\n";
    let sent = "!: BOLT 4.4\nC: HELLO {}\nC: RESET\nC: RESET\nC: BEGIN {}\nC: COMMIT\n";
    replayed(run, sent).unwrap();
}

#[test]
fn a_client_leaving_early_is_incomplete_and_says_where() {
    let run = "!: BOLT 5.0\nC: HELLO \"*\"\nS: SUCCESS {}\nC: RUN \"x\" {} {}\nS: SUCCESS {}\n";
    let err = replayed(run, "!: BOLT 5.0\nC: HELLO {}\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("connection 1: the client closed the connection while the script expected line 4: `C: RUN \"x\" {} {}`"),
        "{err}"
    );
}

#[test]
fn no_client_is_an_error_and_bad_scripts_say_line_and_column() {
    let stub = StubServer::start("!: BOLT 5.0\nC: RESET\n").unwrap();
    assert!(matches!(stub.finish(), Err(StubError::NoConnection { .. })));
    let err = StubServer::start("!: BOLT 5.0\nC: RESET\nS: SUCCESS {\"a\" 1}\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "the script does not parse: line 3, column 17: expected `:` after an object key (message fields are white-space separated JSON)"
    );
}

#[test]
fn restart_serves_connections_in_turn_and_concurrent_at_once() {
    let script =
        "!: BOLT 5.0\n!: ALLOW RESTART\nC: HELLO \"*\"\nS: SUCCESS {}\nC: RESET\nS: SUCCESS {}\n";
    let stub = StubServer::start(script).unwrap();
    let parsed = Script::parse(script).unwrap();
    for _ in 0..3 {
        replay::replay(&parsed, stub.address(), Duration::from_secs(5)).unwrap();
    }
    assert_eq!(stub.finish().unwrap().connections(), 3);

    // Concurrent: two clients hold their connections open at once; both complete.
    let script = "!: BOLT 5.0\n!: ALLOW CONCURRENT\nC: HELLO \"*\"\nS: SUCCESS {}\n{*\n  C: RESET\n  S: SUCCESS {}\n*}\n";
    let stub = StubServer::start(script).unwrap();
    let hello = |stream: &mut TcpStream| {
        // Handshake for 5.0 and a HELLO {} (written by hand here: the test checks the wire).
        let mut bytes = quiver_bolt::MAGIC.to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 5]);
        bytes.extend_from_slice(&[0; 12]);
        bytes.extend_from_slice(&[0x00, 0x03, 0xB1, 0x01, 0xA0, 0x00, 0x00]);
        stream.write_all(&bytes).unwrap();
        let mut answer = [0u8; 4 + 2 + 3 + 2];
        stream.read_exact(&mut answer).unwrap();
        assert_eq!(&answer[..4], &[0, 0, 0, 5]);
        assert_eq!(&answer[6..9], &[0xB1, 0x70, 0xA0], "SUCCESS {{}}");
    };
    let mut a = TcpStream::connect(stub.address()).unwrap();
    let mut b = TcpStream::connect(stub.address()).unwrap();
    hello(&mut a);
    hello(&mut b);
    drop((a, b));
    assert_eq!(stub.finish().unwrap().connections(), 2);
}

#[test]
fn records_and_failures_reach_the_driver_typed() {
    let script = format!(
        r##"{PROLOGUE}C: RUN "RETURN x" {{}} "*"
S: SUCCESS {{"fields": ["d", "node", "f", "b"]}}
C: PULL "*"
S: RECORD [{{"T": "2024-05-01"}}, {{"()": [1, ["Person"], {{"name": "Ada"}}]}}, {{"R": "1.5"}}, {{"#": "CA FE"}}]
   SUCCESS {{"type": "r"}}
C: RUN "RETURN 1/0" {{}} "*"
S: FAILURE {{"code": "Neo.ClientError.Statement.ArithmeticError", "message": "/ by zero"}}
{{?
    C: PULL "*"
    S: IGNORED
?}}
{EPILOGUE}"##
    );
    let stub = StubServer::start(&script).unwrap();
    let driver = Driver::new(&stub.bolt_uri(), AuthToken::basic("neo4j", "pass")).unwrap();
    let mut session = driver.session();
    let record = session.run("RETURN x").unwrap().single().unwrap();
    assert_eq!(record.get::<f64>("f").unwrap(), 1.5);
    assert_eq!(
        record.get::<quiver_blocking::Value>("b").unwrap(),
        quiver_blocking::Value::Bytes(bytes::Bytes::from_static(&[0xCA, 0xFE]))
    );
    assert!(matches!(
        record.get::<quiver_blocking::Value>("d").unwrap(),
        quiver_blocking::Value::Date(_)
    ));
    let node = record.get::<quiver_blocking::value::Node>("node").unwrap();
    assert_eq!(node.labels[0].as_str(), "Person");
    let err = session
        .run("RETURN 1/0")
        .and_then(|r| r.collect::<Result<Vec<_>, _>>())
        .unwrap_err();
    assert!(err.to_string().contains("/ by zero"), "{err}");
    drop(session);
    drop(driver);
    stub.finish().unwrap();
}

#[test]
fn assert_order_fails_a_client_that_does_not_wait_for_the_answer() {
    let run = "!: BOLT 5.0\nC: HELLO \"*\"\nS: SUCCESS {}\nC: BEGIN {}\nS: <ASSERT ORDER> 0.2\n   SUCCESS {}\nC: COMMIT\nS: SUCCESS {}\n";
    // Replaying a script without the assertion, the client pipelines BEGIN and COMMIT: the
    // COMMIT comes during the wait.
    let pipelined = run.replace("S: <ASSERT ORDER> 0.2\n   SUCCESS {}", "S: SUCCESS {}");
    let err = replayed(run, &pipelined).unwrap_err().to_string();
    assert!(
        err.contains("line 5: `S: <ASSERT ORDER> 0.2` expected the client to send nothing meanwhile, got `COMMIT`"),
        "{err}"
    );
    // Replaying the script itself, the client waits for BEGIN's SUCCESS first.
    replayed(run, run).unwrap();
    // Nothing after the wait: the client may leave.
    let run = "!: BOLT 5.0\nC: HELLO \"*\"\nS: SUCCESS {}\n   <ASSERT ORDER> 0.1\n";
    replayed(run, run).unwrap();
}

#[test]
fn versioned_sigils_keep_their_encoding() {
    // `Tv2` is a UTC date-time even on Bolt 4.4 (the `utc` patch); `T` follows the connection.
    let run = "!: BOLT 4.4\nC: HELLO \"*\"\nS: SUCCESS {}\nC: RUN \"x\" {\"dt\": {\"Tv2\": \"1970-01-01T01:00:00+01:00\"}} {}\nS: SUCCESS {}\n";
    replayed(run, run).unwrap();
    let legacy = run.replace("Tv2", "T");
    let err = replayed(run, &legacy).unwrap_err().to_string();
    assert!(
        err.contains("got `RUN \"x\" {\"dt\": Structure(0x46, 3600, 0, 3600)} {}`"),
        "{err}"
    );
}
