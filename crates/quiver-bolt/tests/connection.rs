//! Behaviour of the `Connection` state machine beyond the transcripts: handshake variants,
//! protocol violations, typed request errors, pipelining, timeouts.

mod support;

use std::time::{Duration, Instant};

use quiver_bolt::value::{Map, Node, Value};
use quiver_bolt::*;
use support::{client_messages, parse_message, standard_hello, wire};

fn server(lines: &[&str]) -> Vec<u8> {
    lines.iter().flat_map(|l| wire(&parse_message(l))).collect()
}

fn connected(version: Version) -> (Connection, Instant) {
    let now = Instant::now();
    let mut conn = Connection::new(ConnectionConfig::default(), now);
    let _ = conn.poll_transmit();
    conn.handle_input(&[0, 0, version.minor, version.major], now)
        .unwrap();
    standard_hello(&mut conn, now);
    (conn, now)
}

fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

#[test]
fn handshake_bytes_offer_manifest_then_newest_first() {
    let mut conn = Connection::new(ConnectionConfig::default(), Instant::now());
    let bytes = conn.poll_transmit().unwrap();
    assert_eq!(
        &bytes[..],
        &[
            0x60, 0x60, 0xB0, 0x17, // magic
            0x00, 0x00, 0x01, 0xFF, // manifest v1
            0x00, 0x00, 0x00, 0x06, // 6.0
            0x00, 0x08, 0x08, 0x05, // 5.8 down to 5.0
            0x00, 0x00, 0x04, 0x04, // 4.4
        ]
    );
    assert!(conn.poll_transmit().is_none());
    assert_eq!(conn.server_state(), ServerState::Negotiation);

    let config = ConnectionConfig::default().with_manifest(false);
    let mut conn = Connection::new(config, Instant::now());
    let bytes = conn.poll_transmit().unwrap();
    assert_eq!(
        &bytes[4..],
        &[0, 0, 0, 6, 0, 8, 8, 5, 0, 0, 4, 4, 0, 0, 0, 0]
    );
}

#[test]
fn manifest_negotiation_at_every_split() {
    // 00 00 01 FF, 3 ranges, capabilities 0.
    let reply = [0, 0, 1, 0xFF, 3, 0, 0, 0, 6, 0, 8, 8, 5, 0, 0, 4, 4, 0];
    for split in 0..=reply.len() {
        let now = Instant::now();
        let mut conn = Connection::new(ConnectionConfig::default(), now);
        let _ = conn.poll_transmit();
        conn.handle_input(&reply[..split], now).unwrap();
        conn.handle_input(&reply[split..], now).unwrap();
        assert_eq!(conn.version(), Some(Version::V6_0), "split {split}");
        // Our choice and our (empty) capabilities.
        assert_eq!(&conn.poll_transmit().unwrap()[..], &[0, 0, 0, 6, 0]);
    }
}

#[test]
fn manifest_picks_the_newest_common_version() {
    let now = Instant::now();
    let mut conn = Connection::new(ConnectionConfig::default(), now);
    let _ = conn.poll_transmit();
    // The server lists 5.7–5.0 and 4.4, with a two-byte capability varint.
    conn.handle_input(&[0, 0, 1, 0xFF, 2, 0, 7, 7, 5, 0, 0, 4, 4, 0x81, 0x01], now)
        .unwrap();
    assert_eq!(conn.version(), Some(Version::V5_7));
    assert_eq!(&conn.poll_transmit().unwrap()[..], &[0, 0, 7, 5, 0]);
    // HELLO sent before the handshake finished is encoded for the negotiated version.
    let id = conn
        .send(Request::Hello(Hello::new(AuthToken::basic("u", "p"))))
        .unwrap();
    let sent = client_messages(&conn.poll_transmit().unwrap());
    assert_eq!(sent.len(), 2, "HELLO + LOGON");
    assert_eq!(id.get(), 0);
}

#[test]
fn hello_before_the_handshake_reply_is_deferred() {
    let now = Instant::now();
    let mut conn = Connection::new(ConnectionConfig::default(), now);
    let id = conn
        .send(Request::Hello(Hello::new(AuthToken::basic("u", "p"))))
        .unwrap();
    assert_eq!(conn.in_flight(), 1);
    let handshake = conn.poll_transmit().unwrap();
    assert_eq!(
        handshake.len(),
        20,
        "nothing but the handshake before the version is known"
    );
    conn.handle_input(&[0, 0, 0, 5], now).unwrap();
    let sent = client_messages(&conn.poll_transmit().unwrap());
    assert_eq!(sent.len(), 1, "5.0: auth inside HELLO");
    assert_eq!(sent[0].1.tag, 0x01);
    conn.handle_input(&server(&[r#"SUCCESS {"server": "Neo4j/5.0.0"}"#]), now)
        .unwrap();
    let ev = events(&mut conn);
    assert!(matches!(&ev[0], Event::Success { id: i, .. } if *i == id));
    assert!(matches!(&ev[1], Event::Ready { version, .. } if *version == Version::V5_0));
    assert_eq!(conn.server_info().unwrap().agent, "Neo4j/5.0.0");
}

fn handshake_error(reply: &[u8]) -> BoltError {
    let now = Instant::now();
    let mut conn = Connection::new(ConnectionConfig::default(), now);
    let _ = conn.poll_transmit();
    let err = conn.handle_input(reply, now).unwrap_err();
    assert!(conn.is_defunct());
    assert_eq!(conn.poll_event(), Some(Event::Defunct(err.clone())));
    assert_eq!(conn.handle_input(&[0], now), Err(BoltError::Defunct));
    assert_eq!(conn.send(Request::Reset), Err(BoltError::Defunct));
    err
}

#[test]
fn handshake_errors_are_typed() {
    assert!(matches!(
        handshake_error(&[0, 0, 0, 0]),
        BoltError::NoCommonVersion { .. }
    ));
    let http = handshake_error(b"HTTP/1.1 400 Bad Request\r\n");
    assert_eq!(http, BoltError::HttpPort);
    assert!(http.to_string().contains("7687"));
    assert!(
        matches!(handshake_error(&[0, 0, 2, 4]), BoltError::Protocol { .. }),
        "4.2 was not offered"
    );
    assert!(matches!(
        handshake_error(&[1, 2, 3, 4]),
        BoltError::Protocol { .. }
    ));
    // A manifest listing only 3.0.
    match handshake_error(&[0, 0, 1, 0xFF, 1, 0, 0, 0, 3, 0]) {
        BoltError::NoCommonVersion { server, .. } => {
            assert_eq!(server, vec![VersionRange::exact(3, 0)])
        }
        other => panic!("{other:?}"),
    }
    // A manifest claiming a huge number of entries is refused, not allocated.
    assert!(matches!(
        handshake_error(&[0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        BoltError::Protocol { .. }
    ));
}

#[test]
fn garbage_makes_the_connection_defunct() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("reserved marker", vec![0, 3, 0xB1, 0x70, 0xC7, 0, 0]),
        ("not a structure", vec![0, 1, 0x01, 0, 0]),
        ("unknown message", vec![0, 2, 0xB0, 0x55, 0, 0]),
        ("trailing bytes", vec![0, 4, 0xB1, 0x70, 0xA0, 0x01, 0, 0]),
        ("SUCCESS with a list", vec![0, 3, 0xB1, 0x70, 0x90, 0, 0]),
        ("truncated map", vec![0, 3, 0xB1, 0x70, 0xA1, 0, 0]),
        ("response nobody asked for", server(&["SUCCESS {}"])),
        ("record outside PULL", server(&["RECORD [1]"])),
    ];
    for (what, bytes) in cases {
        let (mut conn, now) = connected(Version::V5_8);
        let err = conn.handle_input(&bytes, now).unwrap_err();
        assert!(err.is_fatal(), "{what}: {err}");
        assert!(conn.is_defunct(), "{what}");
        assert_eq!(conn.server_state(), ServerState::Defunct);
        assert!(
            matches!(events(&mut conn).last(), Some(Event::Defunct(_))),
            "{what}"
        );
    }
}

#[test]
fn noop_chunks_are_ignored_and_oversized_messages_refused() {
    let (mut conn, now) = connected(Version::V5_8);
    conn.send(Request::run("RETURN 1", Map::new())).unwrap();
    let mut bytes = vec![0, 0, 0, 0];
    bytes.extend(server(&[r#"SUCCESS {"fields": ["1"]}"#]));
    bytes.extend([0, 0]);
    conn.handle_input(&bytes, now).unwrap();
    assert_eq!(events(&mut conn).len(), 1);
    assert_eq!(conn.server_state(), ServerState::Streaming);

    let config = ConnectionConfig::default().with_max_message_size(100);
    let mut conn = Connection::new(config, now);
    let _ = conn.poll_transmit();
    conn.handle_input(&[0, 0, 8, 5], now).unwrap();
    standard_hello(&mut conn, now);
    conn.send(Request::run("RETURN 1", Map::new())).unwrap();
    let big = format!(r#"SUCCESS {{"fields": ["{}"]}}"#, "x".repeat(200));
    let err = conn.handle_input(&server(&[&big]), now).unwrap_err();
    assert_eq!(err, BoltError::MessageTooLarge { limit: 100 });
}

#[test]
fn requests_the_server_would_refuse_are_typed_errors() {
    let now = Instant::now();
    let mut conn = Connection::new(ConnectionConfig::default(), now);
    let invalid = |r: Result<RequestId, BoltError>| match r {
        Err(BoltError::InvalidRequest { state, request }) => (state, request),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        invalid(conn.send(Request::run("RETURN 1", Map::new()))),
        (ServerState::Negotiation, "RUN")
    );
    assert_eq!(
        invalid(conn.send(Request::Reset)).0,
        ServerState::Negotiation
    );

    let (mut conn, now) = connected(Version::V5_8);
    assert_eq!(
        invalid(conn.send(Request::Hello(Hello::new(AuthToken::none())))),
        (ServerState::Ready, "HELLO")
    );
    assert_eq!(
        invalid(conn.send(Request::Commit)),
        (ServerState::Ready, "COMMIT")
    );
    assert_eq!(
        invalid(conn.send(Request::pull_all())),
        (ServerState::Ready, "PULL")
    );
    assert_eq!(
        invalid(conn.send(Request::Logon(AuthToken::none()))).1,
        "LOGON"
    );
    assert!(
        conn.poll_transmit().is_none(),
        "nothing queued by refused requests"
    );
    // After LOGOFF only LOGON: Neo4j 5.26 answers a RESET there with a FAILURE and closes.
    let (mut logged_off, _) = connected(Version::V5_8);
    logged_off.send(Request::Logoff).unwrap();
    assert_eq!(
        invalid(logged_off.send(Request::Reset)),
        (ServerState::Authentication, "RESET")
    );
    logged_off.send(Request::Logon(AuthToken::none())).unwrap();
    logged_off.send(Request::Reset).unwrap();

    conn.send(Request::Begin(TxExtra::default())).unwrap();
    assert_eq!(
        invalid(conn.send(Request::Begin(TxExtra::default()))),
        (ServerState::TxReady, "BEGIN")
    );
    assert_eq!(
        invalid(conn.send(Request::pull_all())),
        (ServerState::TxReady, "PULL")
    );
    conn.send(Request::run("RETURN 1", Map::new())).unwrap();
    conn.send(Request::pull_all()).unwrap();
    conn.send(Request::Commit).unwrap();
    let sent = client_messages(&conn.poll_transmit().unwrap());
    let tags: Vec<u8> = sent.iter().map(|(_, s)| s.tag).collect();
    assert_eq!(
        tags,
        [0x11, 0x10, 0x3F, 0x12],
        "BEGIN+RUN+PULL+COMMIT leave in one write"
    );
    assert_eq!(conn.in_flight(), 4);

    // BEGIN fails: the rest is ignored, and only RESET is accepted until it is sent.
    conn.handle_input(
        &server(&[r#"FAILURE {"code": "Neo.ClientError.X", "message": "no"}"#]),
        now,
    )
    .unwrap();
    assert!(conn.needs_reset());
    assert_eq!(conn.server_state(), ServerState::Failed);
    assert_eq!(
        invalid(conn.send(Request::run("RETURN 1", Map::new()))),
        (ServerState::Failed, "RUN")
    );
    conn.handle_input(&server(&["IGNORED", "IGNORED"]), now)
        .unwrap();
    let reset = conn.send(Request::Reset).unwrap();
    assert!(!conn.needs_reset());
    assert_eq!(
        conn.server_state(),
        ServerState::Interrupted,
        "RESET in flight"
    );
    conn.handle_input(&server(&["IGNORED", "SUCCESS {}"]), now)
        .unwrap();
    let ev = events(&mut conn);
    assert!(matches!(ev[0], Event::Failure { .. }));
    assert!(matches!(ev[1], Event::Ignored { .. }));
    assert_eq!(
        ev.last(),
        Some(&Event::Success {
            id: reset,
            metadata: Map::new()
        })
    );
    assert_eq!(conn.server_state(), ServerState::Ready);
    assert_eq!(conn.in_flight(), 0);
}

#[test]
fn version_gated_requests() {
    let (mut conn, _) = connected(Version::V4_4);
    assert!(matches!(
        conn.send(Request::Logoff),
        Err(BoltError::NotSupported { .. })
    ));
    assert!(matches!(
        conn.send(Request::Telemetry(TelemetryApi::AutoCommit)),
        Err(BoltError::NotSupported { .. })
    ));
    let mut run = Run {
        query: "RETURN 1".into(),
        ..Run::default()
    };
    run.extra.notifications.minimum_severity = Some("OFF".into());
    assert!(matches!(
        conn.send(Request::Run(run.clone())),
        Err(BoltError::NotSupported { .. })
    ));
    assert!(conn.poll_transmit().is_none());
    let (mut conn, _) = connected(Version::V5_3);
    assert!(matches!(
        conn.send(Request::Telemetry(TelemetryApi::AutoCommit)),
        Err(BoltError::NotSupported { .. })
    ));
    conn.send(Request::Run(run)).unwrap();
}

#[test]
fn unsendable_parameters_leave_the_connection_usable() {
    let (mut conn, _) = connected(Version::V5_8);
    let node = Node {
        id: 1,
        labels: vec![],
        properties: Map::new(),
        element_id: None,
    };
    let mut params = Map::new();
    params.insert("n", Value::Node(Box::new(node)));
    let err = conn.send(Request::run("RETURN $n", params)).unwrap_err();
    assert!(matches!(err, BoltError::Encode(_)), "{err}");
    assert!(!err.is_fatal());
    assert!(conn.poll_transmit().is_none());
    assert_eq!(conn.in_flight(), 0);
    conn.send(Request::run("RETURN 1", Map::new())).unwrap();
}

#[test]
fn failed_hello_makes_the_connection_defunct() {
    let now = Instant::now();
    let mut conn = Connection::new(ConnectionConfig::default(), now);
    let _ = conn.poll_transmit();
    conn.handle_input(&[0, 0, 8, 5], now).unwrap();
    let id = conn
        .send(Request::Hello(Hello::new(AuthToken::basic("u", "wrong"))))
        .unwrap();
    let _ = conn.poll_transmit();
    conn.handle_input(
        &server(&[
            r#"SUCCESS {"server": "Neo4j/5.26.0"}"#,
            r#"FAILURE {"code": "Neo.ClientError.Security.Unauthorized", "message": "bad credentials"}"#,
        ]),
        now,
    )
    .unwrap();
    match conn.poll_event() {
        Some(Event::Failure { id: i, failure }) => {
            assert_eq!(i, id);
            assert_eq!(failure.code, "Neo.ClientError.Security.Unauthorized");
        }
        other => panic!("{other:?}"),
    }
    assert!(conn.is_defunct());
}

/// A server may answer what was pipelined behind a failed HELLO (IGNORED for the LOGON) before
/// it closes the connection: that answer is not read, and the HELLO's failure is what is
/// reported — not a protocol error about a response nobody waited for.
#[test]
fn answers_after_a_failed_hello_are_not_read() {
    let now = Instant::now();
    let mut conn = Connection::new(ConnectionConfig::default(), now);
    let _ = conn.poll_transmit();
    conn.handle_input(&[0, 0, 8, 5], now).unwrap();
    let id = conn
        .send(Request::Hello(Hello::new(AuthToken::basic("u", "p"))))
        .unwrap();
    let _ = conn.poll_transmit();
    conn.handle_input(
        &server(&[
            r#"FAILURE {"code": "Neo.ClientError.Request.Invalid", "message": "bad HELLO"}"#,
            "IGNORED",
        ]),
        now,
    )
    .unwrap();
    match conn.poll_event() {
        Some(Event::Failure { id: i, failure }) => {
            assert_eq!(i, id);
            assert_eq!(failure.code, "Neo.ClientError.Request.Invalid");
        }
        other => panic!("{other:?}"),
    }
    assert!(conn.poll_event().is_none());
    assert!(conn.is_defunct());
}

#[test]
fn streams_and_transactions_are_tracked() {
    let (mut conn, now) = connected(Version::V5_8);
    conn.send(Request::run("UNWIND range(1, 3) AS x RETURN x", Map::new()))
        .unwrap();
    conn.send(Request::Pull { n: 2, qid: -1 }).unwrap();
    conn.handle_input(
        &server(&[r#"SUCCESS {"fields": ["x"]}"#, "RECORD [1]", "RECORD [2]"]),
        now,
    )
    .unwrap();
    assert_eq!(conn.server_state(), ServerState::Streaming);
    conn.handle_input(&server(&[r#"SUCCESS {"has_more": true}"#]), now)
        .unwrap();
    assert_eq!(conn.server_state(), ServerState::Streaming);
    assert!(matches!(
        conn.send(Request::run("RETURN 1", Map::new())),
        Err(BoltError::InvalidRequest { .. })
    ));
    conn.send(Request::Pull { n: 2, qid: -1 }).unwrap();
    conn.handle_input(&server(&["RECORD [3]", "SUCCESS {}"]), now)
        .unwrap();
    assert_eq!(conn.server_state(), ServerState::Ready);
    let records = events(&mut conn)
        .iter()
        .filter(|e| matches!(e, Event::Record { .. }))
        .count();
    assert_eq!(records, 3);

    conn.send(Request::Begin(TxExtra::default())).unwrap();
    conn.send(Request::run("RETURN 1", Map::new())).unwrap();
    conn.send(Request::run("RETURN 2", Map::new())).unwrap();
    conn.handle_input(
        &server(&[
            "SUCCESS {}",
            r#"SUCCESS {"qid": 0}"#,
            r#"SUCCESS {"qid": 1}"#,
        ]),
        now,
    )
    .unwrap();
    assert_eq!(conn.server_state(), ServerState::TxStreaming);
    conn.send(Request::Discard { n: -1, qid: 0 }).unwrap();
    conn.send(Request::Discard { n: -1, qid: 1 }).unwrap();
    conn.handle_input(&server(&["SUCCESS {}", "SUCCESS {}"]), now)
        .unwrap();
    assert_eq!(conn.server_state(), ServerState::TxReady);
    conn.send(Request::Commit).unwrap();
    conn.handle_input(&server(&[r#"SUCCESS {"bookmark": "bm"}"#]), now)
        .unwrap();
    assert_eq!(conn.server_state(), ServerState::Ready);
    let ev = events(&mut conn);
    match ev.last() {
        Some(Event::Success { metadata, .. }) => {
            assert_eq!(metadata::bookmark(metadata), Some("bm"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn recv_timeout_hint_becomes_a_deadline() {
    let t0 = Instant::now();
    let mut conn = Connection::new(ConnectionConfig::default(), t0);
    let _ = conn.poll_transmit();
    conn.handle_input(&[0, 0, 8, 5], t0).unwrap();
    conn.send(Request::Hello(Hello::new(AuthToken::none())))
        .unwrap();
    let _ = conn.poll_transmit();
    assert_eq!(conn.poll_timeout(), None, "no hint yet");
    let hello =
        r#"SUCCESS {"server": "Neo4j/5.26.0", "hints": {"connection.recv_timeout_seconds": 2}}"#;
    conn.handle_input(&server(&[hello, "SUCCESS {}"]), t0)
        .unwrap();
    assert_eq!(
        conn.server_info().unwrap().recv_timeout,
        Some(Duration::from_secs(2))
    );
    assert_eq!(conn.poll_timeout(), None, "nothing in flight");

    let t1 = t0 + Duration::from_secs(100);
    conn.send(Request::run("RETURN 1", Map::new())).unwrap();
    // The core does not know the time yet: it asks to be called at once.
    assert!(conn.poll_timeout().unwrap() <= t1);
    conn.handle_timeout(t1);
    assert_eq!(conn.poll_timeout(), Some(t1 + Duration::from_secs(2)));
    conn.handle_timeout(t1 + Duration::from_secs(1));
    assert!(!conn.is_defunct(), "early call is harmless");
    // Any input restarts the clock.
    conn.handle_input(&[0], t1 + Duration::from_secs(1))
        .unwrap();
    assert_eq!(conn.poll_timeout(), Some(t1 + Duration::from_secs(3)));
    conn.handle_timeout(t1 + Duration::from_secs(3));
    assert!(conn.is_defunct());
    let ev = events(&mut conn);
    assert_eq!(
        ev.last(),
        Some(&Event::Defunct(BoltError::ReceiveTimeout {
            after: Duration::from_secs(2)
        }))
    );
    assert_eq!(conn.poll_timeout(), None);
}

#[test]
fn goodbye_closes() {
    let (mut conn, now) = connected(Version::V5_8);
    conn.send(Request::Goodbye).unwrap();
    let sent = client_messages(&conn.poll_transmit().unwrap());
    assert_eq!(sent[0].1.tag, 0x02);
    assert!(conn.is_defunct());
    assert_eq!(conn.send(Request::Reset), Err(BoltError::Defunct));
    assert_eq!(conn.handle_input(&[0, 0], now), Err(BoltError::Defunct));
}

#[test]
fn success_metadata_readers() {
    let m = support::vmap(&support::literal::parse(
        r#"{"fields": ["a", "b"], "has_more": true, "qid": 3, "t_first": 5, "t_last": 6, "db": "neo4j",
            "type": "rw", "stats": {"nodes-created": 1}, "plan": {}, "profile": {}, "notifications": [],
            "statuses": [{}], "bookmark": "bm", "server": "Neo4j/5", "connection_id": "bolt-1",
            "hints": {"ssr.enabled": true}}"#,
    ));
    assert_eq!(metadata::fields(&m).unwrap(), ["a", "b"]);
    assert!(metadata::has_more(&m));
    assert_eq!(metadata::qid(&m), Some(3));
    assert_eq!(
        (metadata::t_first(&m), metadata::t_last(&m)),
        (Some(5), Some(6))
    );
    assert_eq!(metadata::db(&m), Some("neo4j"));
    assert_eq!(metadata::query_type(&m), Some("rw"));
    assert!(
        metadata::stats(&m).is_some()
            && metadata::plan(&m).is_some()
            && metadata::profile(&m).is_some()
    );
    assert_eq!(metadata::notifications(&m).map(<[_]>::len), Some(0));
    assert_eq!(metadata::statuses(&m).map(<[_]>::len), Some(1));
    assert_eq!(metadata::bookmark(&m), Some("bm"));
    assert_eq!(metadata::server_agent(&m), Some("Neo4j/5"));
    assert_eq!(metadata::connection_id(&m), Some("bolt-1"));
    assert!(metadata::hints(&m).is_some());
    assert!(!metadata::has_more(&Map::new()));

    let rt = support::vmap(&support::literal::parse(
        r#"{"rt": {"ttl": 300, "db": "neo4j", "servers": [{"addresses": ["a:1"], "role": "WRITE"},
            {"addresses": ["b:1", "c:1"], "role": "READ"}, {"addresses": ["d:1"], "role": "ROUTE"},
            {"addresses": ["e:1"], "role": "FUTURE"}]}}"#,
    ));
    let table = metadata::routing_table(&rt).unwrap();
    assert_eq!(table.ttl, Duration::from_secs(300));
    assert_eq!(table.db.as_deref(), Some("neo4j"));
    assert_eq!(table.servers.len(), 3, "unknown roles skipped");
    assert_eq!(
        table.servers[1],
        (Role::Read, vec!["b:1".to_owned(), "c:1".to_owned()])
    );
    assert_eq!(
        metadata::routing_table(&Map::new()),
        Err(RoutingTableError::Missing("rt"))
    );

    let f = support::vmap(&support::literal::parse(
        r#"{"neo4j_code": "Neo.ClientError.Statement.SyntaxError", "message": "m", "gql_status": "42001",
            "description": "d", "diagnostic_record": {"_classification": "CLIENT_ERROR"},
            "cause": {"message": "inner", "gql_status": "42I06"}}"#,
    ));
    let failure = Failure::from_metadata(&f);
    assert_eq!(failure.code, "Neo.ClientError.Statement.SyntaxError");
    assert_eq!(failure.classification.as_deref(), Some("CLIENT_ERROR"));
    assert_eq!(
        failure.cause.as_ref().unwrap().gql_status.as_deref(),
        Some("42I06")
    );
    assert!(failure.to_string().contains("42001"));
    assert_eq!(failure.message.as_deref(), Some("m"));
    let cause = failure.cause.as_ref().unwrap();
    assert_eq!(cause.message.as_deref(), Some("inner"));
    assert_eq!(cause.description, None, "the cause sent no description");
    // No message (or one that is not text): `None`, so that drivers can tell it from "".
    let f = support::vmap(&support::literal::parse(
        r#"{"code": "Neo.DatabaseError.General.UnknownError", "gql_status": 5}"#,
    ));
    let failure = Failure::from_metadata(&f);
    assert_eq!(failure.message, None);
    assert_eq!(failure.gql_status, None);
    assert!(failure.diagnostic_record.is_empty());
    assert!(failure.to_string().contains("(no message)"));
    let f = support::vmap(&support::literal::parse(r#"{"code": "C", "message": ""}"#));
    assert_eq!(Failure::from_metadata(&f).message.as_deref(), Some(""));
}

#[test]
fn utc_patch_is_applied_only_when_the_server_accepts_it() {
    for (reply, utc) in [
        (
            r#"SUCCESS {"server": "Neo4j/4.4.48", "patch_bolt": ["utc"]}"#,
            true,
        ),
        (r#"SUCCESS {"server": "Neo4j/4.4.10"}"#, false),
    ] {
        let now = Instant::now();
        let mut conn = Connection::new(ConnectionConfig::default(), now);
        let _ = conn.poll_transmit();
        conn.handle_input(&[0, 0, 4, 4], now).unwrap();
        conn.send(Request::Hello(Hello::new(AuthToken::none())))
            .unwrap();
        let hello = client_messages(&conn.poll_transmit().unwrap());
        let extra = &hello[0].1.fields[0];
        assert!(support::literal::render(extra).contains(r#""patch_bolt": ["utc"]"#));
        conn.handle_input(&server(&[reply]), now).unwrap();
        assert_eq!(conn.server_info().unwrap().utc, utc);
        assert_eq!(conn.value_context().utc_date_times(), utc);
    }
    let (conn, _) = connected(Version::V5_0);
    assert!(conn.value_context().utc_date_times() && conn.value_context().element_ids());
}

/// Several streams in one transaction: the state counts them (TX_STREAMING until the last one
/// ends); a PULL for another open stream may be pipelined behind a PULL in flight, but a second
/// PULL for a stream whose PULL may end it is refused (the server would reject it if it did).
#[test]
fn streams_of_one_transaction_are_counted_and_pipelined_soundly() {
    let (mut conn, now) = connected(Version::V5_4);
    conn.send(Request::Begin(TxExtra::default())).unwrap();
    conn.send(Request::run("A", Map::new())).unwrap();
    conn.send(Request::run("B", Map::new())).unwrap();
    let _ = conn.poll_transmit();
    conn.handle_input(
        &server(&[
            "SUCCESS {}",
            r#"SUCCESS {"fields": ["x"], "qid": 0}"#,
            r#"SUCCESS {"fields": ["y"], "qid": 1}"#,
        ]),
        now,
    )
    .unwrap();
    let run_b = events(&mut conn);
    assert!(
        matches!(run_b.last(), Some(Event::Success { metadata, .. }) if metadata::qid(metadata) == Some(1))
    );
    assert_eq!(conn.server_state(), ServerState::TxStreaming);

    conn.send(Request::Pull { n: 1, qid: 0 }).unwrap();
    conn.send(Request::Pull { n: 1, qid: -1 }).unwrap();
    assert!(matches!(
        conn.send(Request::Pull { n: 1, qid: 0 }),
        Err(BoltError::InvalidRequest { .. })
    ));
    let sent = client_messages(&conn.poll_transmit().unwrap());
    let qids: Vec<Option<i64>> = sent
        .iter()
        .map(|(_, msg)| match msg.fields.first() {
            Some(quiver_packstream::Value::Map(m)) => m.get("qid").and_then(|v| v.as_int()),
            _ => None,
        })
        .collect();
    // qid −1 is left out (the server's default).
    assert_eq!(qids, [Some(0), None]);

    // Stream 0 ends, stream 1 stays open: still streaming.
    conn.handle_input(
        &server(&[
            "RECORD [1]",
            r#"SUCCESS {"type": "r"}"#,
            "RECORD [10]",
            r#"SUCCESS {"has_more": true}"#,
        ]),
        now,
    )
    .unwrap();
    assert_eq!(events(&mut conn).len(), 4);
    assert_eq!(conn.server_state(), ServerState::TxStreaming);
    conn.send(Request::Discard { n: -1, qid: 1 }).unwrap();
    let _ = conn.poll_transmit();
    conn.handle_input(&server(&[r#"SUCCESS {"type": "r"}"#]), now)
        .unwrap();
    let _ = events(&mut conn);
    assert_eq!(conn.server_state(), ServerState::TxReady);
}

/// Sends `request` on a fresh 5.8 connection (after BEGIN when `in_tx`), answers it with
/// `success`, and returns the error the connection reported, if any.
fn answer_with(request: Request, in_tx: bool, success: &str) -> Option<BoltError> {
    let (mut conn, now) = connected(Version::V5_8);
    if in_tx {
        conn.send(Request::Begin(Default::default())).unwrap();
        conn.handle_input(&server(&["SUCCESS {}"]), now).unwrap();
    }
    let run_first = matches!(request, Request::Pull { .. } | Request::Discard { .. });
    if run_first {
        conn.send(Request::run("RETURN 1", Map::new())).unwrap();
        conn.handle_input(&server(&[r#"SUCCESS {"fields": ["1"]}"#]), now)
            .unwrap();
    }
    let _ = events(&mut conn);
    conn.send(request).unwrap();
    let result = conn.handle_input(&server(&[success]), now);
    let ev = events(&mut conn);
    match result {
        Ok(()) => {
            assert!(matches!(ev.as_slice(), [Event::Success { .. }]), "{ev:?}");
            None
        }
        Err(err) => {
            assert!(conn.is_defunct());
            assert_eq!(ev, [Event::Defunct(err.clone())], "no SUCCESS reported");
            Some(err)
        }
    }
}

#[test]
fn a_success_field_of_the_wrong_type_is_a_protocol_error_not_an_absent_field() {
    let run = || Request::run("RETURN 1", Map::new());
    let pull = || Request::Pull { n: -1, qid: -1 };
    let discard = || Request::Discard { n: -1, qid: -1 };
    // (request, in a transaction, a SUCCESS with one field of the wrong type, the field)
    let cases: Vec<(Request, bool, &str, &str)> = vec![
        (run(), false, r#"SUCCESS {"fields": 7}"#, "fields"),
        (run(), false, r#"SUCCESS {"fields": ["a", 1]}"#, "fields"),
        (
            run(),
            false,
            r#"SUCCESS {"fields": [], "t_first": "5"}"#,
            "t_first",
        ),
        (run(), true, r#"SUCCESS {"fields": [], "qid": 1.5}"#, "qid"),
        (run(), false, r#"SUCCESS {"fields": [], "db": 3}"#, "db"),
        (pull(), false, r#"SUCCESS {"has_more": 1}"#, "has_more"),
        (pull(), false, r#"SUCCESS {"bookmark": ["b"]}"#, "bookmark"),
        (pull(), false, r#"SUCCESS {"db": true}"#, "db"),
        (pull(), false, r#"SUCCESS {"type": 114}"#, "type"),
        (pull(), false, r#"SUCCESS {"t_last": "1"}"#, "t_last"),
        (pull(), false, r#"SUCCESS {"stats": [1]}"#, "stats"),
        (
            pull(),
            false,
            r#"SUCCESS {"stats": {"nodes-created": "1"}}"#,
            "stats",
        ),
        (
            pull(),
            false,
            r#"SUCCESS {"notifications": {}}"#,
            "notifications",
        ),
        (
            pull(),
            false,
            r#"SUCCESS {"notifications": ["x"]}"#,
            "notifications",
        ),
        (pull(), false, r#"SUCCESS {"statuses": [1]}"#, "statuses"),
        (pull(), false, r#"SUCCESS {"plan": "p"}"#, "plan"),
        (pull(), false, r#"SUCCESS {"profile": []}"#, "profile"),
        (
            discard(),
            false,
            r#"SUCCESS {"has_more": "no"}"#,
            "has_more",
        ),
        (
            Request::Commit,
            true,
            r#"SUCCESS {"bookmark": 1}"#,
            "bookmark",
        ),
        (
            Request::Begin(Default::default()),
            false,
            r#"SUCCESS {"db": 1}"#,
            "db",
        ),
    ];
    for (request, in_tx, success, field) in cases {
        let name = request.name();
        let err = answer_with(request, in_tx, success)
            .unwrap_or_else(|| panic!("{name} answered {success} was accepted"));
        let BoltError::Protocol { reason } = &err else {
            panic!("{name} {success}: {err:?}");
        };
        assert!(
            reason.contains(&format!("SUCCESS of {name} has `{field}`")),
            "{name} {success}: {reason}"
        );
    }

    // The same fields with their types (and null, taken as absent) are accepted.
    let fine: Vec<(Request, bool, &str)> = vec![
        (
            run(),
            true,
            r#"SUCCESS {"fields": ["a"], "t_first": 1, "qid": 0, "db": "neo4j"}"#,
        ),
        (run(), false, r#"SUCCESS {"fields": null}"#),
        (
            pull(),
            false,
            r#"SUCCESS {"has_more": false, "bookmark": "b", "db": "neo4j", "type": "rw", "t_last": 0,
                "stats": {"nodes-created": 1, "contains-updates": true},
                "notifications": [{"code": "c"}], "statuses": [], "plan": {}, "profile": {}}"#,
        ),
        (
            Request::Commit,
            true,
            r#"SUCCESS {"bookmark": "b", "db": null}"#,
        ),
    ];
    for (request, in_tx, success) in fine {
        let name = request.name();
        assert_eq!(
            answer_with(request, in_tx, success),
            None,
            "{name} {success}"
        );
    }
}

#[test]
fn hello_metadata_of_the_wrong_type_is_a_protocol_error() {
    for (success, field) in [
        (r#"SUCCESS {"server": 5}"#, "server"),
        (
            r#"SUCCESS {"server": "Neo4j/5", "connection_id": 1}"#,
            "connection_id",
        ),
        (r#"SUCCESS {"server": "Neo4j/5", "hints": []}"#, "hints"),
        (
            r#"SUCCESS {"server": "Neo4j/5", "hints": {"connection.recv_timeout_seconds": "5"}}"#,
            "hints",
        ),
        (
            r#"SUCCESS {"server": "Neo4j/5", "hints": {"telemetry.enabled": 1}}"#,
            "hints",
        ),
        (
            r#"SUCCESS {"server": "Neo4j/5", "patch_bolt": "utc"}"#,
            "patch_bolt",
        ),
    ] {
        let now = Instant::now();
        let mut conn = Connection::new(ConnectionConfig::default(), now);
        let _ = conn.poll_transmit();
        conn.handle_input(&[0, 0, 4, 4], now).unwrap();
        conn.send(Request::Hello(Hello::new(AuthToken::basic("u", "p"))))
            .unwrap();
        let err = conn.handle_input(&server(&[success]), now).unwrap_err();
        assert!(
            matches!(&err, BoltError::Protocol { reason } if reason.contains(&format!("SUCCESS of HELLO has `{field}`"))),
            "{success}: {err:?}"
        );
        assert!(conn.is_defunct());
        assert!(conn.server_info().is_none(), "{success}");
    }
}
