//! `ConnectionConfig::raw_records`: records validated on arrival, decoded on access. Whatever the
//! server sends, a raw-record connection accepts exactly what an eager one accepts, fails with the
//! same error, and decodes to the same values.

mod support;

use std::time::Instant;

use bytes::BytesMut;
use proptest::prelude::*;
use quiver_bolt::chunk::write_chunked;
use quiver_bolt::value::{self, Map, Value};
use quiver_bolt::*;
use support::standard_hello;

fn streaming(version: Version, raw_records: bool) -> (Connection, Instant) {
    let now = Instant::now();
    let config = ConnectionConfig::default().with_raw_records(raw_records);
    let mut conn = Connection::new(config, now);
    let _ = conn.poll_transmit();
    conn.handle_input(&[0, 0, version.minor, version.major], now)
        .unwrap();
    standard_hello(&mut conn, now);
    conn.send(Request::run("RETURN 1", Map::new())).unwrap();
    conn.send(Request::pull_all()).unwrap();
    let _ = conn.poll_transmit();
    // SUCCESS {fields: []} for the RUN.
    let mut out = BytesMut::new();
    write_chunked(&[0xB1, 0x70, 0xA0], &mut out);
    conn.handle_input(&out, now).unwrap();
    while conn.poll_event().is_some() {}
    (conn, now)
}

/// What a connection makes of one RECORD message whose list body is `body` (`fields` fields):
/// the decoded fields, or the error.
fn receive(
    version: Version,
    raw_records: bool,
    fields: u8,
    body: &[u8],
) -> Result<Vec<Value>, String> {
    let (mut conn, now) = streaming(version, raw_records);
    let mut message = vec![0xB1, 0x71, 0x90 | (fields & 0x0F)];
    message.extend_from_slice(body);
    let mut out = BytesMut::new();
    write_chunked(&message, &mut out);
    conn.handle_input(&out, now).map_err(|e| e.to_string())?;
    match conn.poll_event() {
        Some(Event::Record { fields, .. }) => Ok(fields),
        Some(Event::RawRecord { record, .. }) => {
            let all = record.decode();
            let one_by_one: Vec<Value> =
                (0..record.len()).filter_map(|i| record.field(i)).collect();
            assert_eq!(all, one_by_one);
            Ok(all)
        }
        other => Err(format!("unexpected event {other:?}")),
    }
}

fn same_outcome(fields: u8, body: &[u8]) {
    for version in [Version::V4_4, Version::V5_0, Version::V6_0] {
        let eager = receive(version, false, fields, body);
        let raw = receive(version, true, fields, body);
        assert_eq!(eager, raw, "{version} {body:02X?}");
    }
}

#[test]
fn hostile_records_fail_alike() {
    let cases: &[(u8, &[u8])] = &[
        // A node with two fields instead of three (four on 5.x).
        (1, &[0xB2, 0x4E, 0x01, 0x90]),
        // Invalid UTF-8 inside a list.
        (1, &[0x91, 0x82, 0xC3, 0x28]),
        // A map key that is not a string.
        (1, &[0xA1, 0x01, 0x02]),
        // Fewer fields than announced.
        (2, &[0x01]),
        // A date whose day count is a string.
        (1, &[0xB1, 0x44, 0x81, 0x61]),
        // Reserved marker.
        (1, &[0xC4]),
    ];
    for (fields, body) in cases {
        same_outcome(*fields, body);
        assert!(
            receive(Version::V5_0, true, *fields, body).is_err(),
            "{body:02X?}"
        );
    }
    // 100 nested lists: deeper than the default limit.
    let mut deep = vec![0x91; 100];
    deep.push(0x01);
    same_outcome(1, &deep);
    assert!(receive(Version::V5_0, true, 1, &deep).is_err());
}

#[test]
fn valid_records_decode_alike() {
    let cases: &[(u8, &[u8])] = &[
        (0, &[]),
        (
            3,
            &[0x01, 0x85, b'n', b'a', b'm', b'e', b'-', 0x92, 0x01, 0x01],
        ),
        // A node (4.4: 3 fields; 5.x: 4) is checked per version; a map with a nested list.
        (
            1,
            &[
                0xA1, 0x81, b'k', 0x92, 0xC1, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 0xC0,
            ],
        ),
        (2, &[0xB1, 0x44, 0x0A, 0xCC, 0x02, 0xFF, 0xFF]),
    ];
    for (fields, body) in cases {
        same_outcome(*fields, body);
        assert!(
            receive(Version::V5_0, true, *fields, body).is_ok(),
            "{body:02X?}"
        );
    }
}

/// Plain values (what the raw records' fast scanner handles itself), up to 4 deep.
fn plain_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::Integer),
        prop_oneof![
            Just(-129i64),
            Just(-17),
            Just(127),
            Just(128),
            Just(32768),
            Just(1 << 31)
        ]
        .prop_map(Value::Integer),
        any::<f64>().prop_map(Value::Float),
        ".{0,20}".prop_map(|s| Value::String(s.as_str().into())),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| Value::Bytes(b.into())),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            proptest::collection::vec(("[a-z]{0,3}", inner), 0..6).prop_map(|entries| {
                Value::Map(
                    entries
                        .into_iter()
                        .map(|(k, v)| (value::PackStr::from(k.as_str()), v))
                        .collect(),
                )
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    /// Valid plain records, intact or with one byte changed or cut short: same acceptance, same
    /// values, same errors — the fast scanner never accepts what the decoder refuses.
    #[test]
    fn plain_records_and_their_mutants_are_handled_alike(
        fields in proptest::collection::vec(plain_value(), 0..4),
        mutate in any::<Option<(usize, u8)>>(),
        cut in any::<Option<usize>>(),
    ) {
        let ctx = value::ValueContext::for_version(5, 0, false);
        let mut body = Vec::new();
        for field in &fields {
            value::encode_value(&mut body, field, &ctx).unwrap();
        }
        if let Some((at, byte)) = mutate {
            if !body.is_empty() {
                let at = at % body.len();
                body[at] = byte;
            }
        }
        if let Some(cut) = cut {
            body.truncate(cut % (body.len() + 1));
        }
        same_outcome(fields.len() as u8, &body);
        if mutate.is_none() && cut.is_none() {
            prop_assert_eq!(receive(Version::V5_0, true, fields.len() as u8, &body), Ok(fields));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// Random record bodies: same acceptance, same values, same errors.
    #[test]
    fn random_records_are_handled_alike(fields in 0u8..4, body in proptest::collection::vec(any::<u8>(), 0..48)) {
        same_outcome(fields, &body);
    }
}
