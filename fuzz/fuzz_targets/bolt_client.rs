//! The Bolt client state machine after a valid handshake and HELLO, driven by an arbitrary
//! sequence of operations: requests, arbitrary server bytes, well-formed server messages, time.
//! Checks: no panic, fatal errors are sticky, raw records decode (whole and field by field), `in_flight` stays consistent, memory stays bounded
//! (libFuzzer's `-rss_limit_mb`, plus a small `max_message_size`).
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use quiver_bolt::value::{Map, Value};
use quiver_bolt::*;

const VERSIONS: [(u8, u8); 11] = [
    (4, 4),
    (5, 0),
    (5, 1),
    (5, 2),
    (5, 3),
    (5, 4),
    (5, 5),
    (5, 6),
    (5, 7),
    (5, 8),
    (6, 0),
];

/// Well-formed server messages (already chunked), to reach deep states quickly.
const CANNED: [&[u8]; 9] = [
    b"\x00\x03\xb1\x70\xa0\x00\x00",                    // SUCCESS {}
    b"\x00\x0d\xb1\x70\xa1\x88has_more\xc3\x00\x00",    // SUCCESS {has_more: true}
    b"\x00\x0d\xb1\x70\xa1\x86fields\x91\x81x\x00\x00", // SUCCESS {fields: ["x"]}
    b"\x00\x04\xb1\x71\x91\x01\x00\x00",                // RECORD [1]
    // RECORD ["ab", [1, {k: null}], Date(5)]
    b"\x00\x0f\xb1\x71\x93\x82ab\x92\x01\xa1\x81k\xc0\xb1\x44\x05\x00\x00",
    b"\x00\x02\xb0\x7e\x00\x00",                        // IGNORED
    b"\x00\x13\xb1\x7f\xa2\x84code\x81X\x87message\x81m\x00\x00", // FAILURE {code, message}
    b"\x00\x00",                                        // NOOP
    b"\x00\x0d\xb1\x70\xa1\x83qid\x05\x84db\x00\x00",   // truncated map: garbage
];

fn request(op: u8, arg: u8) -> Request {
    let n = i64::from(arg % 4) - 1; // -1 ..= 2
    match op % 13 {
        0 => {
            let mut params = Map::new();
            params.insert("p", Value::Integer(i64::from(arg)));
            Request::run("RETURN $p", params)
        }
        1 => Request::Pull {
            n,
            qid: if arg & 0x80 != 0 { 0 } else { -1 },
        },
        2 => Request::Discard { n, qid: -1 },
        3 => {
            let mut extra = TxExtra::default();
            if arg & 1 != 0 {
                extra.mode = AccessMode::Read;
                extra.bookmarks = vec!["bm".into()];
            }
            if arg & 2 != 0 {
                extra.notifications.minimum_severity = Some("OFF".into());
            }
            extra.tx_timeout = Some(Duration::from_micros(u64::from(arg)));
            Request::Begin(extra)
        }
        4 => Request::Commit,
        5 => Request::Rollback,
        6 => Request::Reset,
        7 => Request::Route(Route {
            db: Some("neo4j".into()),
            ..Route::default()
        }),
        8 => Request::Telemetry(TelemetryApi::AutoCommit),
        9 => Request::Logoff,
        10 => Request::Logon(AuthToken::basic("u", "p")),
        11 => Request::Hello(Hello::new(AuthToken::none())),
        _ => Request::Goodbye,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let (major, minor) = VERSIONS[usize::from(first) % VERSIONS.len()];
    let mut now = Instant::now();
    // Bit 6: records delivered raw (validated, decoded on access), as the driver uses them.
    let config = ConnectionConfig::default()
        .with_max_message_size(4096)
        .with_raw_records(first & 0x40 != 0);
    let mut conn = Connection::new(config, now);
    let _ = conn.poll_transmit();
    if first & 0x80 != 0 {
        // Manifest handshake listing exactly the chosen version.
        conn.handle_input(&[0, 0, 1, 0xFF, 1, 0, 0, minor, major, 0], now)
            .unwrap();
    } else {
        conn.handle_input(&[0, 0, minor, major], now).unwrap();
    }
    assert_eq!(conn.version(), Some(Version::new(major, minor)));
    conn.send(Request::Hello(Hello::new(AuthToken::basic(
        "neo4j", "pass",
    ))))
    .unwrap();
    let _ = conn.poll_transmit();
    // SUCCESS {hints: {connection.recv_timeout_seconds: 1}} (+ SUCCESS {} for LOGON).
    let hello =
        b"\x00\x2c\xb1\x70\xa1\x85hints\xa1\xd0\x1fconnection.recv_timeout_seconds\x01\x00\x00";
    conn.handle_input(hello, now).unwrap();
    if (major, minor) >= (5, 1) {
        conn.handle_input(CANNED[0], now).unwrap();
    }
    assert_eq!(conn.server_state(), ServerState::Ready);

    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let arg = rest.first().copied().unwrap_or(0);
        match op % 5 {
            0 | 1 => {
                rest = rest.get(1..).unwrap_or_default();
                let before = conn.in_flight();
                match conn.send(request(op / 5, arg)) {
                    Ok(_) => assert!(conn.in_flight() >= before || conn.is_defunct()),
                    Err(e) => {
                        assert_eq!(conn.in_flight(), before);
                        assert!(!e.is_fatal() || e == BoltError::Defunct, "{e}");
                    }
                }
            }
            2 => {
                let len = usize::from(arg).min(rest.len().saturating_sub(1));
                let bytes = rest.get(1..1 + len).unwrap_or_default();
                rest = rest.get(1 + len..).unwrap_or_default();
                if conn.handle_input(bytes, now).is_err() {
                    assert!(conn.is_defunct());
                }
            }
            3 => {
                rest = rest.get(1..).unwrap_or_default();
                if conn
                    .handle_input(CANNED[usize::from(arg) % CANNED.len()], now)
                    .is_err()
                {
                    assert!(conn.is_defunct());
                }
            }
            _ => {
                rest = rest.get(1..).unwrap_or_default();
                now += Duration::from_millis(u64::from(arg) * 10);
                conn.handle_timeout(now);
            }
        }
        while let Some(event) = conn.poll_event() {
            if let Event::RawRecord { record, .. } = event {
                // Validated on arrival, so decoding cannot fail (debug builds assert it), and
                // field by field gives the same values as all at once.
                let all = record.decode();
                assert_eq!(all.len(), record.len());
                for (i, value) in all.iter().enumerate() {
                    let field = record.field(i);
                    // NaN floats are not equal to themselves; compare their bits via Debug.
                    assert_eq!(format!("{field:?}"), format!("{:?}", Some(value)));
                }
            }
        }
        let _ = conn.poll_transmit();
        let _ = conn.poll_timeout();
        let _ = (
            conn.server_state(),
            conn.needs_reset(),
            conn.value_context(),
        );
        if conn.is_defunct() {
            assert_eq!(conn.send(Request::Reset), Err(BoltError::Defunct));
            assert_eq!(conn.in_flight(), 0);
        }
    }
});
