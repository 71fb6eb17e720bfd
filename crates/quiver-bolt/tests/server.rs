//! The server role, transcript style: the handshake (classic, manifest v1, no common version,
//! HTTP), what it refuses in each state (checked against Neo4j 5.26, some byte for byte),
//! manual mode, and hostile client bytes (truncated, oversize, wrong field counts, unknown
//! tags, deep nesting, garbage) — typed errors, never panics.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use quiver_bolt::chunk::write_chunked;
use quiver_bolt::server::{
    IncomingRequest, ServerConfig, ServerConnection, ServerEvent, ServerMode, Verdict,
};
use quiver_bolt::value::{Map, Value, ValueContext};
use quiver_bolt::*;
use quiver_packstream::{Structure, Value as PValue};

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn preamble(slots: [[u8; 4]; 4]) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    for slot in slots {
        bytes.extend(slot);
    }
    bytes
}

fn events(server: &mut ServerConnection) -> Vec<ServerEvent> {
    std::iter::from_fn(|| server.poll_event()).collect()
}

/// A request message as the client role encodes it, chunked.
fn wire(message: &ClientMessage, version: Version) -> Vec<u8> {
    let ctx = ValueContext::for_version(version.major, version.minor, true);
    let mut body = BytesMut::new();
    message.encode(&ctx, &mut body).unwrap();
    let mut out = BytesMut::new();
    write_chunked(&body, &mut out);
    out.to_vec()
}

/// Any structure (well-formed PackStream), chunked: for messages no client role would write.
fn wire_raw(tag: u8, fields: Vec<PValue>) -> Vec<u8> {
    let body = quiver_packstream::to_bytes(&PValue::Structure(Structure { tag, fields })).unwrap();
    let mut out = BytesMut::new();
    write_chunked(&body, &mut out);
    out.to_vec()
}

fn hello(version: Version) -> ClientMessage {
    ClientMessage::from_request(
        &Request::Hello(Hello::new(AuthToken::basic("neo4j", "pw"))),
        &ConnectionConfig::default(),
        version,
    )
    .remove(0)
}

fn run(query: &str) -> ClientMessage {
    ClientMessage::Run(Run {
        query: query.into(),
        ..Run::default()
    })
}

fn pull(n: i64, qid: i64) -> ClientMessage {
    ClientMessage::Pull { n, qid }
}

/// A server (strict unless said otherwise) after the handshake on `version`.
fn negotiated(version: Version, mode: ServerMode) -> ServerConnection {
    let now = Instant::now();
    let mut server = ServerConnection::new(ServerConfig::default().with_mode(mode), now);
    let range = [0, 0, version.minor, version.major];
    server
        .handle_input(&preamble([range, [0; 4], [0; 4], [0; 4]]), now)
        .unwrap();
    assert_eq!(server.poll_transmit().unwrap()[..], range);
    assert!(matches!(
        events(&mut server)[..],
        [ServerEvent::Negotiated {
            manifest: false,
            ..
        }]
    ));
    server
}

/// Feeds one message and returns the requests the application must answer (strict mode: at
/// most one) and those the core handled.
fn feed(
    server: &mut ServerConnection,
    bytes: &[u8],
) -> (Vec<IncomingRequest>, Vec<IncomingRequest>) {
    server.handle_input(bytes, Instant::now()).unwrap();
    let mut requests = Vec::new();
    let mut handled = Vec::new();
    for event in events(server) {
        match event {
            ServerEvent::Request(r) => requests.push(*r),
            ServerEvent::Handled(r) => handled.push(*r),
            _ => {}
        }
    }
    (requests, handled)
}

/// A strict server in READY (HELLO and, on 5.1+, LOGON answered).
fn ready(version: Version) -> ServerConnection {
    let mut server = negotiated(version, ServerMode::Strict);
    let (requests, _) = feed(&mut server, &wire(&hello(version), version));
    assert_eq!(requests.len(), 1);
    server.success(Map::new()).unwrap();
    if version >= Version::V5_1 {
        let logon = ClientMessage::Logon(AuthToken::basic("neo4j", "pw"));
        let (requests, _) = feed(&mut server, &wire(&logon, version));
        assert_eq!(requests.len(), 1);
        server.success(Map::new()).unwrap();
    }
    let _ = server.poll_transmit();
    assert_eq!(server.state(), ServerState::Ready);
    server
}

fn meta(entries: &[(&str, Value)]) -> Map {
    entries.iter().cloned().collect()
}

// ---------------------------------------------------------------------------------------------
// Handshake.

#[test]
fn classic_handshake_picks_the_newest_common_version_whatever_the_split() {
    let bytes = preamble([[0, 8, 8, 5], [0, 0, 4, 4], [0; 4], [0; 4]]);
    for split in 0..=bytes.len() {
        let now = Instant::now();
        let config = ServerConfig::default()
            .with_versions(vec![VersionRange::exact(5, 4), VersionRange::exact(4, 4)]);
        let mut server = ServerConnection::new(config, now);
        server.handle_input(&bytes[..split], now).unwrap();
        if split < 20 {
            assert_eq!(
                server.poll_transmit(),
                None,
                "need more bytes is not an error"
            );
            assert_eq!(server.version(), None);
        }
        server.handle_input(&bytes[split..], now).unwrap();
        assert_eq!(server.poll_transmit().unwrap()[..], [0, 0, 4, 5]);
        assert_eq!(server.version(), Some(Version::new(5, 4)));
        assert_eq!(
            events(&mut server),
            [ServerEvent::Negotiated {
                version: Version::new(5, 4),
                manifest: false
            }]
        );
        assert_eq!(server.state(), ServerState::Negotiation);
    }
}

#[test]
fn the_manifest_reply_is_byte_for_byte_neo4j_5_26s() {
    // Neo4j 5.26 offers 4.4–4.0, 5.4–5.0 and 5.8–5.6 (captured from the server).
    let neo4j = hex("000001ff0300040404000404050002080500");
    let now = Instant::now();
    let config = ServerConfig::default().with_versions(vec![
        VersionRange::new(4, 4, 0),
        VersionRange::new(5, 4, 0),
        VersionRange::new(5, 8, 6),
    ]);
    let mut server = ServerConnection::new(config, now);
    let offer = preamble([[0, 0, 1, 0xFF], [0, 8, 8, 5], [0; 4], [0; 4]]);
    server.handle_input(&offer, now).unwrap();
    assert_eq!(server.poll_transmit().unwrap()[..], neo4j[..]);
    assert!(
        events(&mut server).is_empty(),
        "the client has not chosen yet"
    );
    // The choice (5.7) and the client's capabilities (none), split.
    server.handle_input(&[0, 0, 7], now).unwrap();
    assert_eq!(server.version(), None);
    server.handle_input(&[5, 0], now).unwrap();
    assert_eq!(
        events(&mut server),
        [ServerEvent::Negotiated {
            version: Version::V5_7,
            manifest: true
        }]
    );
}

#[test]
fn the_client_role_negotiates_through_the_manifest_with_the_server_role() {
    let now = Instant::now();
    let mut client = Connection::new(ConnectionConfig::default(), now);
    let mut server = ServerConnection::new(ServerConfig::default(), now);
    server
        .handle_input(&client.poll_transmit().unwrap(), now)
        .unwrap();
    client
        .handle_input(&server.poll_transmit().unwrap(), now)
        .unwrap();
    assert_eq!(client.version(), Some(Version::V6_0));
    server
        .handle_input(&client.poll_transmit().unwrap(), now)
        .unwrap();
    assert_eq!(
        events(&mut server),
        [ServerEvent::Negotiated {
            version: Version::V6_0,
            manifest: true
        }]
    );
}

#[test]
fn without_manifest_support_the_manifest_slot_is_skipped() {
    let now = Instant::now();
    let mut server = ServerConnection::new(ServerConfig::default().with_manifest(false), now);
    let offer = preamble([[0, 0, 1, 0xFF], [0, 8, 8, 5], [0, 0, 4, 4], [0; 4]]);
    server.handle_input(&offer, now).unwrap();
    assert_eq!(server.poll_transmit().unwrap()[..], [0, 0, 8, 5]);
}

#[test]
fn manifest_choices_the_server_did_not_offer_are_refused() {
    let now = Instant::now();
    let offer = preamble([[0, 0, 1, 0xFF], [0; 4], [0; 4], [0; 4]]);
    let config = ServerConfig::default().with_versions(vec![VersionRange::exact(5, 4)]);
    for (choice, expect_version_error) in [
        (vec![0, 0, 8, 5, 0], false), // 5.8: not offered
        (vec![0, 1, 4, 5, 0], false), // a range, not a version
        (vec![0, 0, 0, 0, 0], true),  // the client found nothing in common
    ] {
        let mut server = ServerConnection::new(config.clone(), now);
        server.handle_input(&offer, now).unwrap();
        let _ = server.poll_transmit();
        let error = server.handle_input(&choice, now).unwrap_err();
        if expect_version_error {
            assert!(
                matches!(error, BoltError::NoVersionForClient { .. }),
                "{error}"
            );
        } else {
            assert!(matches!(error, BoltError::ClientProtocol { .. }), "{error}");
        }
        assert!(server.is_closed());
        assert_eq!(events(&mut server), [ServerEvent::Defunct(error)]);
        assert_eq!(server.handle_input(b"x", now), Err(BoltError::Defunct));
    }
}

#[test]
fn no_common_version_is_answered_with_zeros_and_closes() {
    let now = Instant::now();
    let config = ServerConfig::default().with_versions(vec![VersionRange::exact(5, 4)]);
    let mut server = ServerConnection::new(config, now);
    let error = server
        .handle_input(&preamble([[0, 0, 0, 3], [0, 0, 4, 4], [0; 4], [0; 4]]), now)
        .unwrap_err();
    assert_eq!(server.poll_transmit().unwrap()[..], [0, 0, 0, 0]);
    let BoltError::NoVersionForClient { client, offered } = &error else {
        panic!("{error}")
    };
    assert_eq!(
        client,
        &[VersionRange::exact(3, 0), VersionRange::exact(4, 4)]
    );
    assert_eq!(offered, &[VersionRange::exact(5, 4)]);
    assert!(error.to_string().contains("4.4"), "{error}");
    assert!(server.is_closed());
    assert_eq!(server.state(), ServerState::Defunct);
}

#[test]
fn http_and_other_garbage_instead_of_the_preamble_are_typed_errors() {
    let now = Instant::now();
    let mut server = ServerConnection::new(ServerConfig::default(), now);
    let error = server
        .handle_input(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", now)
        .unwrap_err();
    assert_eq!(error, BoltError::ClientSpokeHttp);
    assert_eq!(server.poll_transmit(), None);

    let mut server = ServerConnection::new(ServerConfig::default(), now);
    let error = server
        .handle_input(&hex("6060b0180000040500"), now)
        .unwrap_err();
    assert!(
        matches!(&error, BoltError::ClientProtocol { reason } if reason.contains("60 60 B0 18")),
        "{error}"
    );

    // The client hangs up halfway through the preamble.
    let mut server = ServerConnection::new(ServerConfig::default(), now);
    server.handle_input(&MAGIC, now).unwrap();
    server.handle_eof(now);
    assert!(matches!(
        events(&mut server)[..],
        [ServerEvent::Defunct(BoltError::ClientProtocol { .. })]
    ));
}

// ---------------------------------------------------------------------------------------------
// What a strict server refuses, as Neo4j 5.26 does.

/// A request and the SUCCESS metadata the test answers it with.
type Step = (ClientMessage, Map);

/// The verdict a strict server in READY on 5.4 gives `message` right after `setup` requests,
/// each answered by the test with SUCCESS `metadata`.
fn strict_verdict(setup: &[Step], message: &ClientMessage) -> Verdict {
    let version = Version::V5_4;
    let mut server = ready(version);
    for (request, metadata) in setup {
        let (requests, handled) = feed(&mut server, &wire(request, version));
        assert!(handled.is_empty(), "{request:?} in setup: {handled:?}");
        assert_eq!(requests.len(), 1, "{request:?}");
        server.success(metadata.clone()).unwrap();
    }
    let _ = server.poll_transmit();
    let (requests, handled) = feed(&mut server, &wire(message, version));
    match (&requests[..], &handled[..]) {
        ([r], []) => r.verdict.clone(),
        ([], [h]) => h.verdict.clone(),
        other => panic!("{other:?}"),
    }
}

fn closes(verdict: &Verdict, text: &str) -> bool {
    matches!(verdict, Verdict::Refuse { failure, close: true }
        if failure.code == "Neo.ClientError.Request.Invalid"
            && failure.message.as_deref() == Some(text))
}

#[test]
fn requests_the_state_does_not_allow_are_refused_and_close_the_connection() {
    let fields = meta(&[("fields", Value::List(vec![]))]);
    let begin = ClientMessage::Begin(TxExtra::default());
    let in_tx = [(begin.clone(), Map::new())];
    let streaming = [(run("UNWIND"), fields.clone())];
    let cases: Vec<(&[Step], ClientMessage, &str)> = vec![
        (&[], ClientMessage::Commit, "CommitMessage"),
        (&[], pull(-1, -1), "PullMessage"),
        (
            &[],
            ClientMessage::Discard { n: -1, qid: -1 },
            "DiscardMessage",
        ),
        (&[], hello(Version::V5_4), "HelloMessage"),
        (&[], ClientMessage::Logon(AuthToken::none()), "LogonMessage"),
        (&in_tx, begin.clone(), "BeginMessage"),
        (
            &in_tx,
            ClientMessage::Route(Route::default()),
            "RouteMessage",
        ),
        (&in_tx, ClientMessage::Logoff, "LogoffMessage"),
        (
            &in_tx,
            ClientMessage::Telemetry(TelemetryApi::AutoCommit),
            "TelemetryMessage",
        ),
        (&streaming, run("RETURN 1"), "RunMessage"),
        (
            &streaming,
            ClientMessage::Telemetry(TelemetryApi::AutoCommit),
            "TelemetryMessage",
        ),
        (&streaming, ClientMessage::Logoff, "LogoffMessage"),
    ];
    for (setup, message, class) in cases {
        let state = match setup.first() {
            None => "READY",
            Some((ClientMessage::Begin(_), _)) => "IN_TRANSACTION",
            Some(_) => "AUTO_COMMIT",
        };
        let text =
            format!("Message of type {class} cannot be handled by a session in the {state} state.");
        let verdict = strict_verdict(setup, &message);
        assert!(
            closes(&verdict, &text),
            "{message:?} after {setup:?}: {verdict:?}"
        );
    }
}

#[test]
fn a_refusal_is_byte_for_byte_neo4j_5_26s_and_closes_the_connection() {
    // COMMIT in READY, captured from Neo4j 5.26 on Bolt 5.4 and 5.8 (with the GQL fields).
    for (version, neo4j) in [
        (
            Version::V5_4,
            "0083b17fa284636f6465d01f4e656f2e436c69656e744572726f722e526571756573742e496e76616c6964876d657373616765d0504d657373616765206f66207479706520436f6d6d69744d6573736167652063616e6e6f742062652068616e646c656420627920612073657373696f6e20696e207468652052454144592073746174652e0000",
        ),
        (
            Version::V5_8,
            "0119b17fa48a6e656f346a5f636f6465d01f4e656f2e436c69656e744572726f722e526571756573742e496e76616c6964876d657373616765d0504d657373616765206f66207479706520436f6d6d69744d6573736167652063616e6e6f742062652068616e646c656420627920612073657373696f6e20696e207468652052454144592073746174652e8a67716c5f7374617475738535304e34328b6465736372697074696f6ed0716572726f723a2067656e6572616c2070726f63657373696e6720657863657074696f6e202d20756e6578706563746564206572726f722e20556e6578706563746564206572726f7220686173206f636375727265642e20536565206465627567206c6f6720666f722064657461696c732e0000",
        ),
    ] {
        let mut server = ready(version);
        // Requests behind the refused one are not read.
        let mut bytes = wire(&ClientMessage::Commit, version);
        bytes.extend(wire(&run("RETURN 1"), version));
        server.handle_input(&bytes, Instant::now()).unwrap();
        assert_eq!(server.poll_transmit().unwrap()[..], hex(neo4j)[..]);
        let events = events(&mut server);
        assert!(
            matches!(&events[..], [ServerEvent::Handled(_), ServerEvent::Closed]),
            "{events:?}"
        );
        assert!(server.is_closed());
        assert_eq!(server.state(), ServerState::Defunct);
    }
}

#[test]
fn a_stream_that_is_not_open_is_no_such_statement_and_the_server_fails() {
    // PULL {n: -1, qid: 7} in a transaction with one result open: Neo4j 5.26's bytes on 5.4.
    let neo4j = hex(
        "004db17fa284636f6465d0254e656f2e436c69656e744572726f722e526571756573742e496e76616c6964466f726d6174876d657373616765d0144e6f20737563682073746174656d656e743a20370000",
    );
    let version = Version::V5_4;
    let mut server = ready(version);
    feed(
        &mut server,
        &wire(&ClientMessage::Begin(TxExtra::default()), version),
    );
    server.success(Map::new()).unwrap();
    feed(&mut server, &wire(&run("UNWIND"), version));
    server.success(Map::new()).unwrap(); // no qid: Neo4j's numbering, 0
    let _ = server.poll_transmit();
    assert_eq!(server.state(), ServerState::TxStreaming);
    let (requests, handled) = feed(&mut server, &wire(&pull(-1, 7), version));
    assert!(requests.is_empty());
    assert!(matches!(
        handled[0].verdict,
        Verdict::Refuse { close: false, .. }
    ));
    assert_eq!(server.poll_transmit().unwrap()[..], neo4j[..]);
    assert_eq!(server.state(), ServerState::Failed);
    // What follows is IGNORED until a RESET; qid 0 (the open one) would have been fine.
    let (_, handled) = feed(&mut server, &wire(&pull(-1, 0), version));
    assert_eq!(handled[0].verdict, Verdict::Ignore);
    assert_eq!(server.poll_transmit().unwrap()[..], hex("0002b07e0000")[..]);
    let (requests, _) = feed(&mut server, &wire(&ClientMessage::Reset, version));
    assert_eq!(requests[0].message, Ok(ClientMessage::Reset));
    server.success(Map::new()).unwrap();
    assert_eq!(server.state(), ServerState::Ready);

    // In a transaction, qid −1 is the last RUN's, open or not; a result stays open while
    // has_more is true.
    assert_eq!(
        strict_verdict(
            &[(ClientMessage::Begin(TxExtra::default()), Map::new())],
            &pull(-1, -1)
        ),
        Verdict::Refuse {
            failure: strict_failure(
                "Neo.ClientError.Request.InvalidFormat",
                "No such statement: 0"
            ),
            close: false
        }
    );
    let tx_two_results = [
        (ClientMessage::Begin(TxExtra::default()), Map::new()),
        (run("A"), meta(&[("qid", Value::Integer(0))])),
        (run("B"), meta(&[("qid", Value::Integer(1))])),
        (pull(-1, 1), Map::new()),
    ];
    assert_eq!(
        strict_verdict(&tx_two_results, &pull(-1, 0)),
        Verdict::Accept
    );
    assert!(matches!(
        strict_verdict(&tx_two_results, &pull(-1, -1)),
        Verdict::Refuse { ref failure, close: false } if failure.message.as_deref() == Some("No such statement: 1")
    ));
    let auto_commit = [(run("A"), Map::new())];
    assert_eq!(strict_verdict(&auto_commit, &pull(5, 0)), Verdict::Accept);
    assert!(matches!(
        strict_verdict(&auto_commit, &pull(5, 3)),
        Verdict::Refuse { close: false, .. }
    ));
    let more = [
        (run("A"), Map::new()),
        (pull(2, -1), meta(&[("has_more", Value::Boolean(true))])),
    ];
    assert_eq!(
        strict_verdict(&more, &ClientMessage::Discard { n: -1, qid: -1 }),
        Verdict::Accept
    );
    // COMMIT with results open is fine (Neo4j discards them).
    let open = [
        (ClientMessage::Begin(TxExtra::default()), Map::new()),
        (run("A"), Map::new()),
    ];
    assert_eq!(
        strict_verdict(&open, &ClientMessage::Commit),
        Verdict::Accept
    );
}

fn strict_failure(code: &str, message: &str) -> Box<Failure> {
    let mut failure = Failure::from_metadata(&Map::new());
    failure.code = code.into();
    failure.message = Some(message.into());
    Box::new(failure)
}

/// After a failure, in every state it can happen in (Neo4j 5.26, measured): RUN, PULL,
/// DISCARD, COMMIT, ROLLBACK, ROUTE and TELEMETRY are IGNORED; HELLO, LOGON, LOGOFF and BEGIN
/// are refused and close the connection; RESET is processed.
#[test]
fn after_a_failure_requests_are_ignored_or_refused_as_neo4j_does() {
    let version = Version::V5_4;
    let fields = meta(&[("fields", Value::List(vec![]))]);
    let origins: Vec<(&str, Vec<Step>, ClientMessage)> = vec![
        ("READY", vec![], run("RETURN")),
        (
            "AUTO_COMMIT",
            vec![(run("1/0"), fields.clone())],
            pull(-1, -1),
        ),
        (
            "IN_TRANSACTION",
            vec![(ClientMessage::Begin(TxExtra::default()), Map::new())],
            run("RETURN"),
        ),
        (
            "IN_TRANSACTION",
            vec![
                (ClientMessage::Begin(TxExtra::default()), Map::new()),
                (run("1/0"), fields.clone()),
            ],
            pull(-1, -1),
        ),
    ];
    let ignored = [
        run("RETURN 1"),
        pull(-1, -1),
        ClientMessage::Discard { n: -1, qid: -1 },
        ClientMessage::Commit,
        ClientMessage::Rollback,
        ClientMessage::Route(Route::default()),
        ClientMessage::Telemetry(TelemetryApi::ManagedTransaction),
    ];
    let refused = [
        (hello(version), "HelloMessage"),
        (ClientMessage::Logon(AuthToken::none()), "LogonMessage"),
        (ClientMessage::Logoff, "LogoffMessage"),
        (ClientMessage::Begin(TxExtra::default()), "BeginMessage"),
    ];
    for (state, setup, failing) in &origins {
        let failed = || {
            let mut server = ready(version);
            for (request, metadata) in setup {
                feed(&mut server, &wire(request, version));
                server.success(metadata.clone()).unwrap();
            }
            let (requests, _) = feed(&mut server, &wire(failing, version));
            assert_eq!(requests.len(), 1);
            server
                .failure(&strict_failure(
                    "Neo.ClientError.Statement.ArithmeticError",
                    "/ by zero",
                ))
                .unwrap();
            let _ = server.poll_transmit();
            assert_eq!(server.state(), ServerState::Failed);
            server
        };
        for message in &ignored {
            let mut server = failed();
            let (requests, handled) = feed(&mut server, &wire(message, version));
            assert!(requests.is_empty());
            assert_eq!(
                handled[0].verdict,
                Verdict::Ignore,
                "{message:?} after a failure in {state}"
            );
            assert_eq!(server.state(), ServerState::Failed);
            let (requests, _) = feed(&mut server, &wire(&ClientMessage::Reset, version));
            assert_eq!(requests.len(), 1, "RESET reaches the application");
            server.success(Map::new()).unwrap();
            assert_eq!(server.state(), ServerState::Ready);
        }
        for (message, class) in &refused {
            let mut server = failed();
            let (_, handled) = feed(&mut server, &wire(message, version));
            let text = format!(
                "Message of type {class} cannot be handled by a session in the {state} state."
            );
            assert!(
                closes(&handled[0].verdict, &text),
                "{message:?} after a failure in {state}: {:?}",
                handled[0].verdict
            );
            assert!(server.is_closed());
        }
    }
}

#[test]
fn a_reset_interrupts_what_was_queued_before_it() {
    // RUN + PULL + RESET in one read: Neo4j sees the RESET at once and ignores the two.
    let version = Version::V5_4;
    let mut server = ready(version);
    let mut bytes = wire(&run("RETURN 1"), version);
    bytes.extend(wire(&pull(-1, -1), version));
    bytes.extend(wire(&ClientMessage::Reset, version));
    let (requests, handled) = feed(&mut server, &bytes);
    assert_eq!(handled.len(), 2);
    assert!(handled.iter().all(|h| h.verdict == Verdict::Ignore));
    assert_eq!(requests[0].message, Ok(ClientMessage::Reset));
    assert_eq!(server.state(), ServerState::Interrupted);
    server.success(Map::new()).unwrap();
    assert_eq!(server.state(), ServerState::Ready);

    // A BEGIN queued before a RESET closes the connection (measured on 5.26).
    let mut server = ready(version);
    let mut bytes = wire(&ClientMessage::Begin(TxExtra::default()), version);
    bytes.extend(wire(&ClientMessage::Reset, version));
    let (_, handled) = feed(&mut server, &bytes);
    assert!(matches!(
        handled[0].verdict,
        Verdict::Refuse { close: true, .. }
    ));
    assert!(server.is_closed());

    // A request the application is working on when the RESET arrives is still its to answer.
    let mut server = ready(version);
    let (requests, _) = feed(&mut server, &wire(&run("SLOW"), version));
    assert_eq!(requests.len(), 1);
    let (requests, handled) = feed(&mut server, &wire(&ClientMessage::Reset, version));
    assert!(requests.is_empty() && handled.is_empty());
    assert_eq!(server.state(), ServerState::Interrupted);
    server
        .failure(&strict_failure(
            "Neo.TransientError.Transaction.Terminated",
            "interrupted",
        ))
        .unwrap();
    assert_eq!(events(&mut server).len(), 1, "then the RESET");
    server.success(Map::new()).unwrap();
    assert_eq!(server.state(), ServerState::Ready);
}

#[test]
fn before_authentication_only_hello_then_logon_are_accepted() {
    let version = Version::V5_4;
    for first in [
        run("RETURN 1"),
        ClientMessage::Reset,
        ClientMessage::Logon(AuthToken::none()),
    ] {
        let mut server = negotiated(version, ServerMode::Strict);
        let (_, handled) = feed(&mut server, &wire(&first, version));
        let class = match first {
            ClientMessage::Run(_) => "RunMessage",
            ClientMessage::Reset => "ResetMessage",
            _ => "LogonMessage",
        };
        let text = format!(
            "Message of type {class} cannot be handled by a session in the NEGOTIATION state."
        );
        assert!(
            closes(&handled[0].verdict, &text),
            "{:?}",
            handled[0].verdict
        );
    }
    // After HELLO (5.1+): AUTHENTICATION until LOGON; RESET there closes too, also after LOGOFF.
    let mut server = negotiated(version, ServerMode::Strict);
    feed(&mut server, &wire(&hello(version), version));
    server.success(Map::new()).unwrap();
    assert_eq!(server.state(), ServerState::Authentication);
    let (_, handled) = feed(&mut server, &wire(&ClientMessage::Reset, version));
    assert!(closes(
        &handled[0].verdict,
        "Message of type ResetMessage cannot be handled by a session in the AUTHENTICATION state."
    ));
    let mut server = ready(version);
    feed(&mut server, &wire(&ClientMessage::Logoff, version));
    server.success(Map::new()).unwrap();
    assert_eq!(server.state(), ServerState::Authentication);
    let (_, handled) = feed(&mut server, &wire(&run("RETURN 1"), version));
    assert!(matches!(
        handled[0].verdict,
        Verdict::Refuse { close: true, .. }
    ));
}

#[test]
fn a_failed_hello_logon_or_reset_closes_the_connection() {
    let version = Version::V5_4;
    let mut server = negotiated(version, ServerMode::Strict);
    feed(&mut server, &wire(&hello(version), version));
    server.success(Map::new()).unwrap();
    feed(
        &mut server,
        &wire(
            &ClientMessage::Logon(AuthToken::basic("u", "wrong")),
            version,
        ),
    );
    server
        .failure(&strict_failure(
            "Neo.ClientError.Security.Unauthorized",
            "no",
        ))
        .unwrap();
    assert!(server.is_closed());
    assert_eq!(events(&mut server), [ServerEvent::Closed]);
    assert!(
        server.poll_transmit().is_some(),
        "the FAILURE still goes out"
    );
}

// ---------------------------------------------------------------------------------------------
// Decoding: every request typed, malformed ones typed errors.

#[test]
fn hello_decodes_everything_it_carries_on_each_version() {
    let mut routing = Map::new();
    routing.insert("address", "example.com:7687");
    let config = ConnectionConfig::default()
        .with_routing(Some(routing.clone()))
        .with_notifications(NotificationFilter {
            minimum_severity: Some("WARNING".into()),
            disabled_classifications: Some(vec!["HINT".into()]),
        });
    for version in [
        Version::V4_4,
        Version::V5_0,
        Version::V5_2,
        Version::V5_5,
        Version::V6_0,
    ] {
        let config = if version < Version::V5_2 {
            config
                .clone()
                .with_notifications(NotificationFilter::default())
        } else {
            config.clone()
        };
        let auth = AuthToken::basic("neo4j", "pw");
        let messages = ClientMessage::from_request(
            &Request::Hello(Hello::new(auth.clone())),
            &config,
            version,
        );
        let mut server = negotiated(version, ServerMode::Manual);
        let (requests, _) = feed(&mut server, &wire(&messages[0], version));
        let Ok(ClientMessage::Hello(hello)) = &requests[0].message else {
            panic!("{:?}", requests[0])
        };
        assert_eq!(hello.user_agent, config.user_agent);
        assert_eq!(hello.routing.as_ref(), Some(&routing));
        assert_eq!(hello.auth.is_some(), version < Version::V5_1, "{version}");
        assert_eq!(
            hello.patch_bolt,
            if version == Version::V4_4 {
                vec!["utc".to_owned()]
            } else {
                vec![]
            }
        );
        assert_eq!(hello.bolt_agent.is_some(), version >= Version::V5_3);
        assert_eq!(hello.notifications, config.notifications);
        assert_eq!(requests[0].message, Ok(messages[0].clone()));
        if version >= Version::V5_1 {
            let (requests, _) = feed(&mut server, &wire(&messages[1], version));
            assert_eq!(requests[0].message, Ok(ClientMessage::Logon(auth)));
        }
    }
}

/// What a strict server answers for a malformed request: a FAILURE and nothing else changes
/// (measured on Neo4j 5.26: the next request is processed normally).
#[test]
fn malformed_requests_are_answered_with_a_failure_and_change_nothing() {
    let version = Version::V5_4;
    let s = |v: &str| PValue::from(v);
    let map = |entries: Vec<(&str, PValue)>| PValue::Map(entries.into_iter().collect());
    let empty = || map(vec![]);
    let node = PValue::Structure(Structure::new(
        0x4E,
        vec![1.into(), PValue::List(vec![]), empty(), s("e")],
    ));
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            wire_raw(0x10, vec![s("RETURN 1")]),
            "InvalidFormat",
            "Expected struct to be 3 fields but got 1",
        ),
        (
            wire_raw(0x10, vec![s("R"), empty(), empty(), empty()]),
            "InvalidFormat",
            "but got 4",
        ),
        (
            wire_raw(0x0F, vec![empty()]),
            "InvalidFormat",
            "Expected struct to be 0 fields but got 1",
        ),
        (
            wire_raw(0x10, vec![1.into(), empty(), empty()]),
            "Invalid",
            "\"statement\"",
        ),
        (
            wire_raw(0x10, vec![s("R"), map(vec![("x", node)]), empty()]),
            "Invalid",
            "\"params\"",
        ),
        (
            wire_raw(
                0x10,
                vec![s("R"), empty(), map(vec![("bookmarks", s("x"))])],
            ),
            "Invalid",
            "\"bookmarks\"",
        ),
        (
            wire_raw(0x10, vec![s("R"), empty(), map(vec![("mode", s("x"))])]),
            "Invalid",
            "\"mode\"",
        ),
        (
            wire_raw(
                0x10,
                vec![s("R"), empty(), map(vec![("tx_timeout", (-1).into())])],
            ),
            "Invalid",
            "\"tx_timeout\"",
        ),
        (
            wire_raw(0x11, vec![map(vec![("tx_metadata", PValue::List(vec![]))])]),
            "Invalid",
            "\"tx_metadata\"",
        ),
        (
            wire_raw(0x66, vec![1.into(), PValue::List(vec![]), empty()]),
            "Invalid",
            "\"routing\"",
        ),
        (
            wire_raw(0x66, vec![empty(), PValue::List(vec![]), s("neo4j")]),
            "Invalid",
            "\"extra\"",
        ),
        (wire_raw(0x54, vec![s("x")]), "Invalid", "\"api\""),
        (
            wire_raw(0x54, vec![9.into()]),
            "Invalid",
            "unknown driver interface type 9",
        ),
        // A Date with a string inside: well-formed PackStream, not a valid Bolt value.
        (
            wire_raw(
                0x10,
                vec![
                    s("R"),
                    map(vec![(
                        "d",
                        PValue::Structure(Structure::new(0x44, vec![s("x")])),
                    )]),
                    empty(),
                ],
            ),
            "Invalid",
            "Date",
        ),
    ];
    for (bytes, code, text) in cases {
        let mut server = ready(version);
        let (requests, handled) = feed(&mut server, &bytes);
        assert!(requests.is_empty());
        let request = &handled[0];
        let Verdict::Refuse {
            failure,
            close: false,
        } = &request.verdict
        else {
            panic!("{request:?}")
        };
        assert_eq!(failure.code, format!("Neo.ClientError.Request.{code}"));
        assert!(
            failure.message.as_deref().unwrap().contains(text),
            "{failure:?} should say {text}"
        );
        assert!(
            matches!(&request.message, Err(BoltError::InvalidClientRequest { reason }) if reason.contains(text))
        );
        assert!(!request.message.as_ref().unwrap_err().is_fatal());
        assert_eq!(
            request.raw.as_bytes()[..],
            bytes[2..bytes.len() - 2],
            "the raw message as sent"
        );
        assert_eq!(server.state(), ServerState::Ready, "nothing changed");
        let (requests, _) = feed(&mut server, &wire(&run("RETURN 1"), version));
        assert_eq!(requests.len(), 1, "the next request is processed");
    }
    // PULL's n must be -1 or positive (Neo4j: "Expecting size to be at least 1").
    for n in [0, -2] {
        let mut server = ready(version);
        feed(&mut server, &wire(&run("R"), version));
        server.success(Map::new()).unwrap();
        let (_, handled) = feed(
            &mut server,
            &wire_raw(0x3F, vec![map(vec![("n", n.into())])]),
        );
        assert!(
            matches!(handled[0].verdict, Verdict::Refuse { close: false, .. }),
            "n = {n}"
        );
    }
}

#[test]
fn a_message_that_is_no_request_of_the_version_closes_without_an_answer() {
    // Measured on 5.26: an unknown tag, TELEMETRY on 5.3 and LOGON on 4.4 close silently.
    for (version, bytes) in [
        (Version::V5_4, wire_raw(0x55, vec![])),
        (
            Version::V5_3,
            wire(
                &ClientMessage::Telemetry(TelemetryApi::AutoCommit),
                Version::V5_4,
            ),
        ),
        (
            Version::V4_4,
            wire(&ClientMessage::Logon(AuthToken::none()), Version::V5_1),
        ),
        (
            Version::V5_4,
            wire_raw(0x70, vec![PValue::Map(Default::default())]),
        ), // a SUCCESS
    ] {
        let mut server = ready(version);
        let (requests, handled) = feed(&mut server, &bytes);
        assert!(requests.is_empty());
        assert_eq!(handled[0].verdict, Verdict::Close);
        assert!(matches!(
            handled[0].message,
            Err(BoltError::InvalidClientRequest { .. })
        ));
        assert_eq!(server.poll_transmit(), None, "no answer");
        assert!(server.is_closed());
    }
}

#[test]
fn hostile_bytes_are_typed_errors_never_panics() {
    let version = Version::V5_4;
    let protocol = |e: &BoltError| matches!(e, BoltError::ClientProtocol { .. });
    // Not PackStream, not a structure, truncated inside a message, nested too deep.
    let mut deep = vec![0xB1, 0x10];
    deep.extend(std::iter::repeat_n(0x91, 100));
    deep.push(0x01);
    let mut deep_chunked = BytesMut::new();
    write_chunked(&deep, &mut deep_chunked);
    for bytes in [
        hex("0002c7c70000"),     // reserved markers
        hex("0001010000"),       // an integer, not a structure
        hex("0003b110d00000"),   // RUN whose string claims more bytes than there are
        hex("0004b11081ff0000"), // invalid UTF-8
        deep_chunked.to_vec(),
    ] {
        let mut server = ready(version);
        let error = server
            .handle_input(&bytes, Instant::now())
            .expect_err(&format!("{bytes:02X?}"));
        assert!(protocol(&error), "{bytes:02X?}: {error}");
        assert!(error.is_fatal());
        assert_eq!(events(&mut server), [ServerEvent::Defunct(error)]);
    }

    // Oversize: refused from the chunk headers, before the bytes arrive.
    let now = Instant::now();
    let mut server = ServerConnection::new(ServerConfig::default().with_max_message_size(100), now);
    server
        .handle_input(&preamble([[0, 0, 4, 5], [0; 4], [0; 4], [0; 4]]), now)
        .unwrap();
    let error = server.handle_input(&[0x00, 0x65, 0xB3], now).unwrap_err();
    assert_eq!(error, BoltError::ClientMessageTooLarge { limit: 100 });

    // The client hangs up inside a message; or between messages (an orderly close).
    let mut server = ready(version);
    let bytes = wire(&run("RETURN 1"), version);
    server.handle_input(&bytes[..5], now).unwrap();
    server.handle_eof(now);
    assert!(matches!(
        events(&mut server)[..],
        [ServerEvent::Defunct(BoltError::ClientProtocol { .. })]
    ));
    let mut server = ready(version);
    server.handle_eof(now);
    assert_eq!(events(&mut server), [ServerEvent::Closed]);

    // Garbage of every length after the handshake, whole and split: errors or need-more, never
    // a panic.
    let mut seed = 0x2545F4914F6CDD1Du64;
    for len in 0..300 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        for mode in [ServerMode::Strict, ServerMode::Manual] {
            let mut server = negotiated(version, mode);
            for piece in bytes.chunks(1 + len % 7) {
                if server.handle_input(piece, now).is_err() {
                    break;
                }
                while let Some(event) = server.poll_event() {
                    if let ServerEvent::Request(r) = event {
                        let _ = (r.raw.fields(), format!("{r:?}"));
                        let _ = server.success(Map::new());
                    }
                }
            }
            server.handle_eof(now);
            let _ = (server.state(), server.poll_transmit());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Manual mode and the raw view.

#[test]
fn manual_mode_delivers_every_request_at_once_with_its_verdict_and_enforces_nothing() {
    let version = Version::V5_4;
    let mut server = negotiated(version, ServerMode::Manual);
    let mut bytes = wire(&hello(version), version);
    bytes.extend(wire(
        &ClientMessage::Logon(AuthToken::basic("u", "p")),
        version,
    ));
    bytes.extend(wire(&ClientMessage::Commit, version)); // refused by a real server
    bytes.extend(wire_raw(0x10, vec![PValue::from("R")])); // malformed
    bytes.extend(wire_raw(0x55, vec![PValue::Integer(1)])); // unknown
    let (requests, handled) = feed(&mut server, &bytes);
    assert!(handled.is_empty());
    let names: Vec<_> = requests.iter().map(|r| r.raw.name()).collect();
    assert_eq!(
        names,
        [
            Some("HELLO"),
            Some("LOGON"),
            Some("COMMIT"),
            Some("RUN"),
            None
        ]
    );
    assert_eq!(requests[0].verdict, Verdict::Accept);
    assert_eq!(
        requests[1].verdict,
        Verdict::Accept,
        "judged as if HELLO succeeded"
    );
    assert!(matches!(
        requests[2].verdict,
        Verdict::Refuse { close: true, .. }
    ));
    assert!(matches!(
        requests[3].verdict,
        Verdict::Refuse { close: false, .. }
    ));
    assert_eq!(requests[4].verdict, Verdict::Close);
    assert_eq!(requests[4].raw.tag(), 0x55);
    assert_eq!(requests[4].raw.fields(), [PValue::Integer(1)]);
    assert_eq!(requests[3].raw.fields(), [PValue::from("R")]);
    assert_eq!(server.in_flight(), 5);
    assert_eq!(server.oldest_unanswered(), Some(requests[0].id));

    // Answer anything, in order; only the state is tracked.
    server.success(Map::new()).unwrap();
    assert_eq!(server.state(), ServerState::Authentication);
    // The current verdict of LOGON knows HELLO succeeded.
    assert_eq!(server.current_verdict(), Some(Verdict::Accept));
    server.success(Map::new()).unwrap();
    assert_eq!(server.state(), ServerState::Ready);
    assert!(matches!(
        server.current_verdict(),
        Some(Verdict::Refuse { close: true, .. })
    ));
    server.success(Map::new()).unwrap(); // a real server would have refused COMMIT
    server.record(&[Value::Integer(1)]).unwrap(); // RECORD for a RUN: allowed here
    server.ignored().unwrap();
    server.failure(&strict_failure("X", "y")).unwrap();
    assert_eq!(server.in_flight(), 0);
    assert!(!server.is_closed());
    // A response nobody asked for is still sent: hostile servers need it.
    server.success(Map::new()).unwrap();
    // Raw escape hatches.
    let _ = server.poll_transmit();
    server.send_raw_message(&[0xB0, 0x7E]);
    server.send_noop();
    server.send_raw_bytes(b"junk");
    assert_eq!(
        server.poll_transmit().unwrap()[..],
        *b"\x00\x02\xb0\x7e\x00\x00\x00\x00junk"
    );
    server.close();
    assert_eq!(events(&mut server), [ServerEvent::Closed]);
    assert_eq!(server.success(Map::new()), Err(BoltError::Defunct));
}

#[test]
fn strict_mode_refuses_responses_that_answer_nothing_or_do_not_fit() {
    let version = Version::V5_4;
    let mut server = ready(version);
    assert!(matches!(
        server.success(Map::new()),
        Err(BoltError::InvalidResponse { .. })
    ));
    feed(&mut server, &wire(&run("R"), version));
    let error = server.record(&[Value::Integer(1)]).unwrap_err();
    assert!(matches!(error, BoltError::InvalidResponse { .. }) && !error.is_fatal());
    assert_eq!(server.poll_transmit(), None, "nothing was sent");
    // Values the version cannot carry: nothing sent, the request still waits.
    server.success(Map::new()).unwrap();
    feed(&mut server, &wire(&pull(-1, -1), version));
    let vector = Value::Vector(value::Vector::I8(vec![1]));
    assert!(matches!(
        server.record(&[vector]),
        Err(BoltError::Encode(_))
    ));
    assert_eq!(server.in_flight(), 1);
}

#[test]
fn strict_mode_hands_requests_over_one_at_a_time() {
    let version = Version::V5_4;
    let mut server = ready(version);
    let mut bytes = wire(&ClientMessage::Begin(TxExtra::default()), version);
    bytes.extend(wire(&run("A"), version));
    bytes.extend(wire(&pull(-1, -1), version));
    bytes.extend(wire(&ClientMessage::Commit, version));
    let (requests, _) = feed(&mut server, &bytes);
    assert_eq!(requests.len(), 1);
    let mut seen = vec![requests[0].raw.name().unwrap()];
    for metadata in [Map::new(), Map::new(), Map::new()] {
        server.success(metadata).unwrap();
        let events = events(&mut server);
        let [ServerEvent::Request(next)] = &events[..] else {
            panic!("{events:?}")
        };
        seen.push(next.raw.name().unwrap());
    }
    server
        .success(meta(&[("bookmark", Value::from("bm"))]))
        .unwrap();
    assert_eq!(seen, ["BEGIN", "RUN", "PULL", "COMMIT"]);
    assert_eq!(server.state(), ServerState::Ready);
}

#[test]
fn the_receive_timeout_runs_while_the_server_waits_for_the_client() {
    let start = Instant::now();
    let config = ServerConfig::default().with_recv_timeout(Some(Duration::from_secs(30)));
    let mut server = ServerConnection::new(config, start);
    assert_eq!(server.poll_timeout(), Some(start + Duration::from_secs(30)));
    let later = start + Duration::from_secs(10);
    server
        .handle_input(&preamble([[0, 0, 4, 5], [0; 4], [0; 4], [0; 4]]), later)
        .unwrap();
    assert_eq!(server.poll_timeout(), Some(later + Duration::from_secs(30)));
    server
        .handle_input(&wire(&hello(Version::V5_4), Version::V5_4), later)
        .unwrap();
    assert_eq!(server.poll_timeout(), None, "the application is answering");
    server.handle_timeout(later + Duration::from_secs(100));
    assert!(!server.is_closed());
    server.success(Map::new()).unwrap();
    let deadline = server.poll_timeout().unwrap();
    server.handle_timeout(deadline - Duration::from_secs(1));
    assert!(!server.is_closed());
    server.handle_timeout(deadline);
    assert!(server.is_closed());
    assert!(
        events(&mut server).contains(&ServerEvent::Defunct(BoltError::ClientTimeout {
            after: Duration::from_secs(30)
        }))
    );
}

#[test]
fn records_carry_graph_values_for_the_version() {
    use quiver_bolt::value::{Node, PackStr};
    let node = Node {
        id: 7,
        labels: vec![PackStr::from("Person")],
        properties: Map::new(),
        element_id: Some(PackStr::from("4:x:7")),
    };
    for version in [Version::V4_4, Version::V5_0] {
        let mut server = ready(version);
        feed(&mut server, &wire(&run("R"), version));
        server.success(Map::new()).unwrap();
        feed(&mut server, &wire(&pull(-1, -1), version));
        let _ = server.poll_transmit();
        server.record(&[Value::from(node.clone())]).unwrap();
        let bytes = server.poll_transmit().unwrap();
        // 4.4: a Node of 3 fields (no element id); 5.0: 4 fields.
        let expected_marker = if version.major == 4 { 0xB3 } else { 0xB4 };
        assert_eq!(bytes[5], expected_marker, "{version}: {bytes:02X?}");
    }
    let mut no_id = node;
    no_id.element_id = None;
    let mut server = ready(Version::V5_0);
    feed(&mut server, &wire(&run("R"), Version::V5_0));
    server.success(Map::new()).unwrap();
    feed(&mut server, &wire(&pull(-1, -1), Version::V5_0));
    assert!(matches!(
        server.record(&[Value::from(no_id)]),
        Err(BoltError::Encode(_))
    ));
}
