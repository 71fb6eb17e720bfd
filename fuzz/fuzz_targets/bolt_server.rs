//! The Bolt server role driven by arbitrary client bytes: optionally after a scripted handshake
//! (classic or manifest) and HELLO, an arbitrary sequence of operations — client bytes, well-formed
//! requests of the negotiated version, the application's answers, raw output, time, EOF.
//! Checks: no panic; memory stays bounded (a 4 KiB `max_message_size`, libFuzzer's
//! `-rss_limit_mb`); a fatal error closes the connection for good; strict mode hands over at most
//! one request at a time and only accepted ones; every delivered request's raw fields decode.
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use quiver_bolt::chunk::write_chunked;
use quiver_bolt::server::{ServerConfig, ServerConnection, ServerEvent, ServerMode, Verdict};
use quiver_bolt::value::{Date, Map, Value, ValueContext};
use quiver_bolt::*;

const VERSIONS: [Version; 11] = Version::SUPPORTED;

/// Well-formed requests (chunked) per version, to reach deep states quickly.
fn canned(version: usize) -> &'static [Vec<u8>] {
    static CANNED: OnceLock<Vec<Vec<Vec<u8>>>> = OnceLock::new();
    let all = CANNED.get_or_init(|| {
        VERSIONS
            .iter()
            .map(|&v| {
                let config = ConnectionConfig::default();
                let mut params = Map::new();
                params.insert("d", Value::Date(Date { days: 5 }));
                params.insert("l", Value::List(vec![Value::from("a"), Value::Null]));
                let extra = TxExtra {
                    bookmarks: vec!["bm".into()],
                    mode: AccessMode::Read,
                    db: Some("neo4j".into()),
                    ..TxExtra::default()
                };
                let requests = [
                    Request::Hello(Hello::new(AuthToken::basic("u", "p"))),
                    Request::Logon(AuthToken::none()),
                    Request::Logoff,
                    Request::Run(Run {
                        query: "RETURN $d".into(),
                        parameters: params,
                        extra: extra.clone(),
                    }),
                    Request::Begin(extra),
                    Request::Commit,
                    Request::Rollback,
                    Request::pull_all(),
                    Request::Pull { n: 2, qid: 0 },
                    Request::Discard { n: -1, qid: 1 },
                    Request::Route(Route::default()),
                    Request::Telemetry(TelemetryApi::DriverLevel),
                    Request::Reset,
                    Request::Goodbye,
                ];
                let ctx = ValueContext::for_version(v.major, v.minor, true);
                let mut out = Vec::new();
                for request in &requests {
                    for message in ClientMessage::from_request(request, &config, v) {
                        let mut body = BytesMut::new();
                        if message.encode(&ctx, &mut body).is_ok() {
                            let mut wire = BytesMut::new();
                            write_chunked(&body, &mut wire);
                            out.push(wire.to_vec());
                        }
                    }
                }
                out
            })
            .collect()
    });
    &all[version]
}

fn preamble(slot: [u8; 4]) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    bytes.extend(slot);
    bytes.extend([0; 12]);
    bytes
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let index = usize::from(first & 0x0F) % VERSIONS.len();
    let version = VERSIONS[index];
    let mode = if first & 0x10 != 0 {
        ServerMode::Manual
    } else {
        ServerMode::Strict
    };
    let mut now = Instant::now();
    let config = ServerConfig::default()
        .with_mode(mode)
        .with_max_message_size(4096)
        .with_recv_timeout(Some(Duration::from_secs(5)));
    let mut server = ServerConnection::new(config, now);
    if first & 0x40 == 0 {
        // A valid handshake: classic or manifest (then the client's choice).
        if first & 0x20 != 0 {
            server
                .handle_input(&preamble([0, 0, 1, 0xFF]), now)
                .unwrap();
            server
                .handle_input(&[0, 0, version.minor, version.major, 0], now)
                .unwrap();
        } else {
            server
                .handle_input(&preamble([0, 0, version.minor, version.major]), now)
                .unwrap();
        }
        assert_eq!(server.version(), Some(version));
    }
    // Otherwise the preamble is part of the input.

    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let arg = rest.first().copied().unwrap_or(0);
        match op % 7 {
            0 | 1 => {
                // Client bytes, in one or two reads.
                let len = usize::from(arg).min(rest.len().saturating_sub(1));
                let bytes = rest.get(1..1 + len).unwrap_or_default();
                rest = rest.get(1 + len..).unwrap_or_default();
                let split = usize::from(op / 7) % (bytes.len() + 1);
                for piece in [&bytes[..split], &bytes[split..]] {
                    if server.handle_input(piece, now).is_err() {
                        assert!(server.is_closed());
                        break;
                    }
                }
            }
            2 => {
                rest = rest.get(1..).unwrap_or_default();
                let canned = canned(index);
                if server
                    .handle_input(&canned[usize::from(arg) % canned.len()], now)
                    .is_err()
                {
                    assert!(server.is_closed());
                }
            }
            3 => {
                // The application answers.
                rest = rest.get(1..).unwrap_or_default();
                let mut metadata = Map::new();
                let result = match arg % 7 {
                    0 => server.success(Map::new()),
                    1 => {
                        metadata.insert("has_more", Value::Boolean(true));
                        server.success(metadata)
                    }
                    2 => {
                        metadata.insert("qid", Value::Integer(i64::from(arg >> 3)));
                        metadata.insert("patch_bolt", Value::List(vec![Value::from("utc")]));
                        server.success(metadata)
                    }
                    3 => server.record(&[Value::Integer(1), Value::from("a")]),
                    4 => {
                        let mut failure = Failure::from_metadata(&Map::new());
                        failure.code = "Neo.ClientError.Statement.SyntaxError".into();
                        failure.gql_status = Some("42001".into());
                        server.failure(&failure)
                    }
                    5 => server.ignored(),
                    _ => server.failure_metadata(Map::new()),
                };
                if let Err(e) = result {
                    assert!(!e.is_fatal() || e == BoltError::Defunct, "{e}");
                }
            }
            4 => {
                rest = rest.get(1..).unwrap_or_default();
                match arg % 4 {
                    0 => server.send_noop(),
                    1 => server.send_raw_message(&[0xB0, 0x7E]),
                    2 => server.send_raw_bytes(&[arg]),
                    _ => server.close(),
                }
            }
            5 => {
                rest = rest.get(1..).unwrap_or_default();
                now += Duration::from_millis(u64::from(arg) * 40);
                server.handle_timeout(now);
            }
            _ => server.handle_eof(now),
        }
        let mut delivered = 0;
        while let Some(event) = server.poll_event() {
            match event {
                ServerEvent::Request(request) => {
                    delivered += 1;
                    if mode == ServerMode::Strict {
                        assert_eq!(request.verdict, Verdict::Accept);
                        assert!(request.message.is_ok());
                    }
                    assert_eq!(request.raw.fields().len(), request.raw.len());
                    let _ = format!("{request:?}");
                }
                ServerEvent::Handled(request) => {
                    assert_eq!(mode, ServerMode::Strict);
                    assert_ne!(request.verdict, Verdict::Accept);
                    let _ = request.raw.fields();
                }
                ServerEvent::Defunct(error) => assert!(error.is_fatal()),
                ServerEvent::Negotiated { .. } | ServerEvent::Closed => {}
                _ => {}
            }
        }
        if mode == ServerMode::Strict {
            assert!(server.in_flight() <= 1, "strict mode hands over one request at a time");
            assert!(delivered <= 1);
        }
        let _ = (
            server.poll_transmit(),
            server.poll_timeout(),
            server.state(),
            server.current_verdict(),
        );
        if server.is_closed() {
            assert_eq!(server.state(), ServerState::Defunct);
            assert_eq!(server.handle_input(b"x", now), Err(BoltError::Defunct));
            assert_eq!(server.in_flight(), 0);
        }
    }
});
