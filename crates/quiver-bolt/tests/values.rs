//! Bolt value structures decoded from hand-written bytes for every version family, round trips,
//! malformed structures, unknown tags, the depth limit, and round-trip properties.

use bytes::Bytes;
use proptest::prelude::*;
use quiver_bolt::value::{
    Date, DateTime, DateTimeZoneId, Duration, LegacyDateTimeZoneId, LocalDateTime, LocalTime, Map,
    Node, PackStr, Path, Point2D, Point3D, Relationship, Time, UnboundRelationship, Unsupported,
    Value, ValueContext, ValueError, Vector, decode_map, decode_value, encode_map, encode_value,
};
use quiver_packstream::{Decoder, Structure};

fn v44() -> ValueContext {
    ValueContext::for_version(4, 4, false)
}
fn v44_utc() -> ValueContext {
    ValueContext::for_version(4, 4, true)
}
fn v5() -> ValueContext {
    ValueContext::for_version(5, 8, false)
}
fn v6() -> ValueContext {
    ValueContext::for_version(6, 0, false)
}
fn all_contexts() -> [ValueContext; 4] {
    [v44(), v44_utc(), v5(), v6()]
}

/// Decodes exactly one value from `bytes` (trailing bytes are a test failure).
fn decode(bytes: &[u8], ctx: &ValueContext) -> Result<Value, ValueError> {
    let mut dec = Decoder::new(Bytes::copy_from_slice(bytes));
    let value = decode_value(&mut dec, ctx)?;
    assert!(
        dec.is_empty(),
        "{} trailing bytes after {value:?}",
        dec.remaining()
    );
    Ok(value)
}

fn encode(value: &Value, ctx: &ValueContext) -> Result<Vec<u8>, ValueError> {
    let mut buf = Vec::new();
    encode_value(&mut buf, value, ctx)?;
    Ok(buf)
}

/// `bytes` decode to `value` and `value` encodes back to exactly `bytes`.
fn assert_wire(bytes: &[u8], value: &Value, ctx: &ValueContext) {
    let decoded = decode(bytes, ctx).unwrap_or_else(|e| panic!("decode {bytes:02X?}: {e}"));
    assert_eq!(
        &decoded,
        value,
        "decoding {bytes:02X?} on {:?}",
        ctx.version()
    );
    let encoded = encode(value, ctx).unwrap_or_else(|e| panic!("encode {value:?}: {e}"));
    assert_eq!(encoded, bytes, "encoding {value:?} on {:?}", ctx.version());
}

fn invalid_reason(result: Result<Value, ValueError>) -> (u8, String) {
    match result {
        Err(ValueError::InvalidStructure { tag, reason }) => (tag, reason),
        other => panic!("expected InvalidStructure, got {other:?}"),
    }
}

/// A tiny string (< 16 bytes) as PackStream bytes.
fn s(text: &str) -> Vec<u8> {
    assert!(text.len() < 16);
    let mut out = vec![0x80 | text.len() as u8];
    out.extend_from_slice(text.as_bytes());
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn map1(key: &str, value: impl Into<Value>) -> Map {
    let mut map = Map::new();
    map.insert(key, value);
    map
}

// ---------------------------------------------------------------------------------------------
// Plain values

#[test]
fn scalars_and_containers() {
    for ctx in all_contexts() {
        assert_wire(&[0xC0], &Value::Null, &ctx);
        assert_wire(&[0xC3], &Value::Boolean(true), &ctx);
        assert_wire(&[0xC2], &Value::Boolean(false), &ctx);
        assert_wire(&[0x2A], &Value::Integer(42), &ctx);
        assert_wire(&[0xC9, 0x01, 0x00], &Value::Integer(256), &ctx);
        assert_wire(
            &[0xC1, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0],
            &Value::Float(1.5),
            &ctx,
        );
        assert_wire(&s("hé"), &Value::from("hé"), &ctx);
        assert_wire(
            &[0xCC, 0x02, 0xAB, 0xCD],
            &Value::Bytes(Bytes::from_static(&[0xAB, 0xCD])),
            &ctx,
        );
        assert_wire(
            &[0x92, 0x01, 0x81, b'x'],
            &Value::List(vec![Value::Integer(1), Value::from("x")]),
            &ctx,
        );
        assert_wire(
            &cat(&[&[0xA1], &s("k"), &[0x92, 0xC0, 0xC3]]),
            &Value::Map(map1("k", vec![Value::Null, Value::Boolean(true)])),
            &ctx,
        );
    }
}

#[test]
fn duplicate_map_keys_last_value_wins_first_position_kept() {
    let bytes = cat(&[
        &[0xA3],
        &s("a"),
        &[0x01],
        &s("b"),
        &[0x02],
        &s("a"),
        &[0x03],
    ]);
    let value = decode(&bytes, &v5()).unwrap();
    let map = value.as_map().unwrap();
    let entries: Vec<(&str, i64)> = map
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_int().unwrap()))
        .collect();
    assert_eq!(entries, [("a", 3), ("b", 2)]);
}

#[test]
fn decode_map_and_encode_map() {
    let bytes = cat(&[&[0xA2], &s("n"), &[0x05], &s("d"), &[0xB1, 0x44, 0x01]]);
    let mut dec = Decoder::new(Bytes::from(bytes.clone()));
    let map = decode_map(&mut dec, &v5()).unwrap();
    assert_eq!(map.get("n"), Some(&Value::Integer(5)));
    assert_eq!(map.get("d"), Some(&Value::Date(Date { days: 1 })));
    let mut out = Vec::new();
    encode_map(&mut out, &map, &v5()).unwrap();
    assert_eq!(out, bytes);

    let mut dec = Decoder::new(Bytes::from_static(&[0x91, 0x01]));
    assert!(matches!(
        decode_map(&mut dec, &v5()),
        Err(ValueError::Decode(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Graph values

fn node_44_bytes() -> Vec<u8> {
    // Node(id 3, ["Person"], {"name": "Ann"})
    cat(&[
        &[0xB3, 0x4E, 0x03, 0x91],
        &s("Person"),
        &[0xA1],
        &s("name"),
        &s("Ann"),
    ])
}

fn node_5_bytes() -> Vec<u8> {
    let mut bytes = node_44_bytes();
    bytes[0] = 0xB4;
    bytes.extend(s("4:ab:3"));
    bytes
}

fn ann(element_id: Option<&str>) -> Node {
    Node {
        id: 3,
        labels: vec![PackStr::from("Person")],
        properties: map1("name", "Ann"),
        element_id: element_id.map(PackStr::from),
    }
}

#[test]
fn node_per_version() {
    for ctx in [v44(), v44_utc()] {
        let value = decode(&node_44_bytes(), &ctx).unwrap();
        assert_eq!(value, Value::from(ann(None)));
        assert_eq!(value.type_name(), "NODE");
    }
    for ctx in [v5(), v6()] {
        let value = decode(&node_5_bytes(), &ctx).unwrap();
        assert_eq!(value, Value::from(ann(Some("4:ab:3"))));
    }
}

#[test]
fn node_with_wrong_field_count_is_invalid() {
    let (tag, reason) = invalid_reason(decode(&node_44_bytes(), &v5()));
    assert_eq!(tag, 0x4E);
    assert_eq!(reason, "Node needs 4 fields on Bolt 5.8, got 3");
    let (_, reason) = invalid_reason(decode(&node_5_bytes(), &v44()));
    assert_eq!(reason, "Node needs 3 fields on Bolt 4.4, got 4");
}

#[test]
fn node_with_wrong_field_types_is_invalid() {
    // labels is a string instead of a list
    let bytes = cat(&[&[0xB3, 0x4E, 0x03], &s("Person"), &[0xA0]]);
    let (_, reason) = invalid_reason(decode(&bytes, &v44()));
    assert_eq!(reason, "Node field `labels` must be List, got String");
    // id is a float
    let bytes = cat(&[&[0xB3, 0x4E, 0xC1, 0, 0, 0, 0, 0, 0, 0, 0, 0x90, 0xA0]]);
    let (_, reason) = invalid_reason(decode(&bytes, &v44()));
    assert_eq!(reason, "Node field `id` must be Integer, got Float");
    // a label that is not a string
    let bytes = [0xB3, 0x4E, 0x03, 0x91, 0x01, 0xA0];
    let (_, reason) = invalid_reason(decode(&bytes, &v44()));
    assert_eq!(reason, "Node field `labels` must be String, got Integer");
    // element id missing (null) on 5.x
    let bytes = cat(&[&[0xB4, 0x4E, 0x03, 0x90, 0xA0, 0xC0]]);
    let (_, reason) = invalid_reason(decode(&bytes, &v5()));
    assert_eq!(reason, "Node field `element_id` must be String, got Null");
}

fn knows(element_ids: bool) -> Relationship {
    Relationship {
        id: 11,
        start_node_id: 2,
        end_node_id: 3,
        rel_type: PackStr::from("KNOWS"),
        properties: map1("since", 2020),
        element_id: element_ids.then(|| PackStr::from("5:r11")),
        start_node_element_id: element_ids.then(|| PackStr::from("4:n2")),
        end_node_element_id: element_ids.then(|| PackStr::from("4:n3")),
    }
}

#[test]
fn relationship_per_version() {
    let head = cat(&[
        &[0x0B, 0x02, 0x03],
        &s("KNOWS"),
        &[0xA1],
        &s("since"),
        &[0xC9, 0x07, 0xE4],
    ]);
    let bytes_44 = cat(&[&[0xB5, 0x52], &head]);
    let bytes_5 = cat(&[&[0xB8, 0x52], &head, &s("5:r11"), &s("4:n2"), &s("4:n3")]);
    assert_eq!(
        decode(&bytes_44, &v44()).unwrap(),
        Value::from(knows(false))
    );
    assert_eq!(decode(&bytes_5, &v5()).unwrap(), Value::from(knows(true)));
    assert_eq!(decode(&bytes_5, &v6()).unwrap(), Value::from(knows(true)));
    let (tag, reason) = invalid_reason(decode(&bytes_44, &v6()));
    assert_eq!(tag, 0x52);
    assert_eq!(reason, "Relationship needs 8 fields on Bolt 6.0, got 5");
}

fn small_node(id: i64, ctx: &ValueContext) -> Vec<u8> {
    let element_id = format!("n{id}");
    if ctx.element_ids() {
        cat(&[&[0xB4, 0x4E, id as u8, 0x90, 0xA0], &s(&element_id)])
    } else {
        vec![0xB3, 0x4E, id as u8, 0x90, 0xA0]
    }
}

fn small_rel(id: i64, ctx: &ValueContext) -> Vec<u8> {
    if ctx.element_ids() {
        cat(&[
            &[0xB4, 0x72, id as u8],
            &s("R"),
            &[0xA0],
            &s(&format!("r{id}")),
        ])
    } else {
        cat(&[&[0xB3, 0x72, id as u8], &s("R"), &[0xA0]])
    }
}

/// The example from the Bolt docs, with small ids: (10)-[20]->(11)-[20]->(10)<-[21]-(12)
fn path_bytes(ctx: &ValueContext, indices: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0xB3, 0x50, 0x93];
    for id in [10, 11, 12] {
        bytes.extend(small_node(id, ctx));
    }
    bytes.push(0x92);
    for id in [20, 21] {
        bytes.extend(small_rel(id, ctx));
    }
    bytes.push(0x90 | indices.len() as u8);
    bytes.extend_from_slice(indices);
    bytes
}

#[test]
fn path_decodes_and_walks() {
    for ctx in all_contexts() {
        let bytes = path_bytes(&ctx, &[0x01, 0x01, 0x01, 0x00, 0xFE, 0x02]);
        let value = decode(&bytes, &ctx).unwrap();
        let path = value.as_path().unwrap();
        assert_eq!(path.len(), 3);
        assert_eq!(path.start().map(|n| n.id), Some(10));
        assert_eq!(path.end().map(|n| n.id), Some(12));
        let steps: Vec<(i64, i64, i64, bool)> = path
            .segments()
            .map(|seg| (seg.start.id, seg.unbound.id, seg.end.id, seg.forward))
            .collect();
        assert_eq!(
            steps,
            [(10, 20, 11, true), (11, 20, 10, true), (10, 21, 12, false)]
        );
        let last = path.segments().last().unwrap().relationship();
        assert_eq!((last.start_node_id, last.end_node_id), (12, 10));
        if ctx.element_ids() {
            assert_eq!(last.start_node_element_id.as_deref(), Some("n12"));
            assert_eq!(last.element_id.as_deref(), Some("r21"));
        } else {
            assert_eq!(last.element_id, None);
        }
    }
}

#[test]
fn path_with_bad_indices_is_invalid() {
    let ctx = v5();
    for (indices, expected) in [
        (
            &[0x01][..],
            "path indices must come in pairs, got 1 entries",
        ),
        (
            &[0x00, 0x01][..],
            "path step 0: relationship index 0 is not in ±1..=2",
        ),
        (
            &[0x03, 0x01][..],
            "path step 0: relationship index 3 is not in ±1..=2",
        ),
        (
            &[0x01, 0x03][..],
            "path step 0: node index 3 is not in 0..3",
        ),
        (
            &[0x01, 0x01, 0x01, 0xFF][..],
            "path step 1: node index -1 is not in 0..3",
        ),
    ] {
        let (tag, reason) = invalid_reason(decode(&path_bytes(&ctx, indices), &ctx));
        assert_eq!(tag, 0x50);
        assert_eq!(reason, expected);
    }
    // a Path whose node list holds something that is not a node
    let bytes = [0xB3, 0x50, 0x91, 0xB1, 0x44, 0x00, 0x90, 0x90];
    let (_, reason) = invalid_reason(decode(&bytes, &ctx));
    assert_eq!(
        reason,
        "Path field `nodes` must hold structures 0x4E, got 0x44"
    );
}

#[test]
fn hand_built_broken_path_walk_stops_without_panic() {
    let path = Path {
        nodes: vec![ann(None)],
        relationships: vec![],
        indices: vec![1, 5, 7],
    };
    assert!(path.check().is_err());
    assert_eq!(path.segments().count(), 0);
    assert_eq!(path.end().map(|n| n.id), Some(3));
    let empty = Path {
        nodes: vec![],
        relationships: vec![],
        indices: vec![],
    };
    assert_eq!(empty.start(), None);
    assert_eq!(empty.end(), None);
}

#[test]
fn graph_values_are_not_sendable() {
    let unbound = UnboundRelationship {
        id: 1,
        rel_type: PackStr::from("R"),
        properties: Map::new(),
        element_id: None,
    };
    let path = Path {
        nodes: vec![ann(None), ann(None)],
        relationships: vec![unbound],
        indices: vec![1, 1],
    };
    for (value, what) in [
        (Value::from(ann(None)), "Node"),
        (Value::from(knows(true)), "Relationship"),
        (Value::from(path), "Path"),
    ] {
        for ctx in all_contexts() {
            match encode(&value, &ctx) {
                Err(ValueError::NotSendable { what: got }) => assert_eq!(got, what),
                other => panic!("{what} on {:?}: {other:?}", ctx.version()),
            }
            let params = map1("p", vec![value.clone()]);
            let mut buf = Vec::new();
            assert!(matches!(
                encode_map(&mut buf, &params, &ctx),
                Err(ValueError::NotSendable { .. })
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Temporal and spatial values

#[test]
fn version_independent_structures() {
    for ctx in all_contexts() {
        assert_wire(
            &[0xB1, 0x44, 0xC9, 0x4A, 0x38],
            &Value::Date(Date { days: 19_000 }),
            &ctx,
        );
        assert_wire(&[0xB1, 0x44, 0xF0], &Value::Date(Date { days: -16 }), &ctx);
        assert_wire(
            &[0xB2, 0x54, 0xCA, 0x3B, 0x9A, 0xCA, 0x00, 0xC9, 0x0E, 0x10],
            &Value::Time(Time {
                nanoseconds: 1_000_000_000,
                tz_offset_seconds: 3600,
            }),
            &ctx,
        );
        assert_wire(
            &[0xB1, 0x74, 0x7F],
            &Value::LocalTime(LocalTime { nanoseconds: 127 }),
            &ctx,
        );
        assert_wire(
            &[0xB2, 0x64, 0xC9, 0x11, 0x94, 0x2A],
            &Value::LocalDateTime(LocalDateTime {
                seconds: 4500,
                nanoseconds: 42,
            }),
            &ctx,
        );
        assert_wire(
            &[0xB4, 0x45, 0x0E, 0xF1, 0x00, 0xC8, 0x80],
            &Value::Duration(Duration {
                months: 14,
                days: -15,
                seconds: 0,
                nanoseconds: -128,
            }),
            &ctx,
        );
        assert_wire(
            &cat(&[
                &[0xB3, 0x58, 0xC9, 0x1C, 0x23],
                &[0xC1, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0],
                &[0xC1, 0xC0, 0, 0, 0, 0, 0, 0, 0],
            ]),
            &Value::Point2D(Point2D {
                srid: 7203,
                x: 1.0,
                y: -2.0,
            }),
            &ctx,
        );
        assert_wire(
            &cat(&[
                &[0xB4, 0x59, 0xC9, 0x23, 0xC5],
                &[0xC1, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0],
                &[0xC1, 0xC0, 0, 0, 0, 0, 0, 0, 0],
                &[0xC1, 0, 0, 0, 0, 0, 0, 0, 0],
            ]),
            &Value::Point3D(Point3D {
                srid: 9157,
                x: 1.0,
                y: -2.0,
                z: 0.0,
            }),
            &ctx,
        );
    }
}

#[test]
fn temporal_and_spatial_field_errors() {
    let ctx = v5();
    let (tag, reason) = invalid_reason(decode(&[0xB2, 0x44, 0x01, 0x02], &ctx));
    assert_eq!(tag, 0x44);
    assert_eq!(reason, "Date needs 1 fields on Bolt 5.8, got 2");
    let (_, reason) = invalid_reason(decode(&cat(&[&[0xB1, 0x44], &s("x")]), &ctx));
    assert_eq!(reason, "Date field `days` must be Integer, got String");
    // integer where a float is required
    let (tag, reason) = invalid_reason(decode(&[0xB3, 0x58, 0x01, 0x02, 0x03], &ctx));
    assert_eq!(tag, 0x58);
    assert_eq!(reason, "Point2D field `x` must be Float, got Integer");
    let (_, reason) = invalid_reason(decode(&[0xB3, 0x45, 0x01, 0x02, 0x03], &ctx));
    assert_eq!(reason, "Duration needs 4 fields on Bolt 5.8, got 3");
    let (_, reason) = invalid_reason(decode(&[0xB3, 0x69, 0x01, 0x02, 0x03], &ctx));
    assert_eq!(
        reason,
        "DateTimeZoneId field `tz_id` must be String, got Integer"
    );
}

/// `1970-01-01T02:15:00.000000042+01:00`, the docs' example.
const PARIS: DateTime = DateTime {
    seconds: 4500,
    nanoseconds: 42,
    tz_offset_seconds: 3600,
};

#[test]
fn date_time_with_offset_per_version() {
    let utc = [0xB3, 0x49, 0xC9, 0x11, 0x94, 0x2A, 0xC9, 0x0E, 0x10];
    let legacy = [0xB3, 0x46, 0xC9, 0x1F, 0xA4, 0x2A, 0xC9, 0x0E, 0x10]; // 8100 local seconds
    for ctx in [v44_utc(), v5(), v6()] {
        assert_wire(&utc, &Value::DateTime(PARIS), &ctx);
        // the legacy tag is not defined there: kept as an unknown structure
        assert!(matches!(decode(&legacy, &ctx), Ok(Value::Unknown(s)) if s.tag == 0x46));
    }
    assert_wire(&legacy, &Value::DateTime(PARIS), &v44());
    assert!(matches!(decode(&utc, &v44()), Ok(Value::Unknown(s)) if s.tag == 0x49));

    // negative offset: local = utc - 5h
    let west = DateTime {
        seconds: 0,
        nanoseconds: 0,
        tz_offset_seconds: -18_000,
    };
    assert_wire(
        &[0xB3, 0x46, 0xC9, 0xB9, 0xB0, 0x00, 0xC9, 0xB9, 0xB0],
        &Value::DateTime(west),
        &v44(),
    );
}

#[test]
fn legacy_date_time_overflow_is_an_error_not_a_panic() {
    let mut bytes = vec![0xB3, 0x46, 0xCB];
    bytes.extend_from_slice(&i64::MIN.to_be_bytes());
    bytes.extend_from_slice(&[0x00, 0x01]);
    let (tag, _) = invalid_reason(decode(&bytes, &v44()));
    assert_eq!(tag, 0x46);
    let huge = Value::DateTime(DateTime {
        seconds: i64::MAX,
        nanoseconds: 0,
        tz_offset_seconds: 1,
    });
    assert!(matches!(
        encode(&huge, &v44()),
        Err(ValueError::NotSupportedByVersion { .. })
    ));
    assert!(encode(&huge, &v5()).is_ok());
}

#[test]
fn date_time_with_zone_id_per_version() {
    let utc = cat(&[&[0xB3, 0x69, 0xC9, 0x11, 0x94, 0x2A], &s("Europe/Paris")]);
    let legacy = cat(&[&[0xB3, 0x66, 0xC9, 0x1F, 0xA4, 0x2A], &s("Europe/Paris")]);
    let zoned = Value::from(DateTimeZoneId {
        seconds: 4500,
        nanoseconds: 42,
        tz_id: PackStr::from("Europe/Paris"),
    });
    let legacy_value = Value::from(LegacyDateTimeZoneId {
        local_seconds: 8100,
        nanoseconds: 42,
        tz_id: PackStr::from("Europe/Paris"),
    });
    for ctx in [v44_utc(), v5(), v6()] {
        assert_wire(&utc, &zoned, &ctx);
        assert!(matches!(decode(&legacy, &ctx), Ok(Value::Unknown(_))));
        assert!(matches!(
            encode(&legacy_value, &ctx),
            Err(ValueError::NotSupportedByVersion { .. })
        ));
    }
    // 4.4 without the patch: kept as local seconds, no time zone database involved
    assert_wire(&legacy, &legacy_value, &v44());
    // A UTC instant needs the zone's offset (Paris was at +01:00 in January 1970): only with
    // the time zone database of feature `chrono-tz`.
    #[cfg(not(feature = "chrono-tz"))]
    match encode(&zoned, &v44()) {
        Err(ValueError::NotSupportedByVersion { version, .. }) => assert_eq!(version, (4, 4)),
        other => panic!("{other:?}"),
    }
    #[cfg(feature = "chrono-tz")]
    assert_eq!(encode(&zoned, &v44()).unwrap(), legacy);
}

// ---------------------------------------------------------------------------------------------
// Bolt 6.0: Vector and Unsupported

#[test]
fn vectors_of_every_element_type() {
    let cases: Vec<(u8, Vec<u8>, Vector)> = vec![
        (0xC8, vec![0x01, 0xFF], Vector::I8(vec![1, -1])),
        (
            0xC9,
            vec![0x01, 0x00, 0xFF, 0xFE],
            Vector::I16(vec![256, -2]),
        ),
        (0xCA, vec![0x00, 0x01, 0x00, 0x00], Vector::I32(vec![65536])),
        (0xCB, (-5i64).to_be_bytes().to_vec(), Vector::I64(vec![-5])),
        (
            0xC6,
            [1.5f32.to_be_bytes(), (-0.0f32).to_be_bytes()].concat(),
            Vector::F32(vec![1.5, -0.0]),
        ),
        (
            0xC1,
            2.25f64.to_be_bytes().to_vec(),
            Vector::F64(vec![2.25]),
        ),
        (0xC6, vec![], Vector::F32(vec![])),
    ];
    for (marker, data, vector) in cases {
        let mut bytes = vec![0xB2, 0x56, 0xCC, 0x01, marker, 0xCC, data.len() as u8];
        bytes.extend_from_slice(&data);
        assert_wire(&bytes, &Value::Vector(vector.clone()), &v6());
        // before 6.0 the tag means nothing: kept as is, and a Vector cannot be sent
        for ctx in [v44(), v44_utc(), v5()] {
            match decode(&bytes, &ctx).unwrap() {
                Value::Unknown(s) => {
                    assert_eq!(s.tag, 0x56);
                    assert_eq!(encode(&Value::Unknown(s), &ctx).unwrap(), bytes);
                }
                other => panic!("{other:?}"),
            }
            assert!(matches!(
                encode(&Value::Vector(vector.clone()), &ctx),
                Err(ValueError::NotSupportedByVersion { .. })
            ));
        }
    }
}

#[test]
fn malformed_vectors_are_invalid() {
    let ctx = v6();
    let (tag, reason) = invalid_reason(decode(&[0xB2, 0x56, 0xCC, 0x01, 0xC7, 0xCC, 0x00], &ctx));
    assert_eq!(tag, 0x56);
    assert_eq!(reason, "unknown vector element type marker 0xC7");
    let (_, reason) = invalid_reason(decode(
        &[0xB2, 0x56, 0xCC, 0x01, 0xC9, 0xCC, 0x03, 1, 2, 3],
        &ctx,
    ));
    assert_eq!(
        reason,
        "vector data of 3 bytes is not a multiple of the 2-byte element size"
    );
    let (_, reason) = invalid_reason(decode(&[0xB2, 0x56, 0xCC, 0x00, 0xCC, 0x00], &ctx));
    assert_eq!(reason, "Vector type_marker must be 1 byte, got 0 bytes");
    let (_, reason) = invalid_reason(decode(&[0xB2, 0x56, 0xC8, 0x00], &ctx));
    assert_eq!(
        reason,
        "Vector field `type_marker` must be Bytes, got Integer"
    );
    let (_, reason) = invalid_reason(decode(&[0xB1, 0x56, 0xCC, 0x00], &ctx));
    assert_eq!(reason, "Vector needs 2 fields on Bolt 6.0, got 1");
}

#[test]
fn unsupported_type_on_6_0() {
    let bytes = cat(&[
        &[0xB4, 0x3F],
        &s("FLOAT16 VECTOR"),
        &[0x06, 0x01, 0xA1],
        &s("message"),
        &s("upgrade"),
    ]);
    let value = decode(&bytes, &v6()).unwrap();
    let Value::Unsupported(unsupported) = &value else {
        panic!("{value:?}")
    };
    assert_eq!(unsupported.name, "FLOAT16 VECTOR");
    assert_eq!(unsupported.minimum_protocol_version, (6, 1));
    assert_eq!(unsupported.message(), Some("upgrade"));
    assert!(matches!(
        encode(&value, &v6()),
        Err(ValueError::NotSendable {
            what: "Unsupported"
        })
    ));
    let without_message = Unsupported {
        name: PackStr::from("X"),
        minimum_protocol_version: (7, 0),
        extra: Map::new(),
    };
    assert_eq!(without_message.message(), None);
    // before 6.0 the tag is unknown
    assert!(matches!(decode(&bytes, &v5()), Ok(Value::Unknown(s)) if s.tag == 0x3F));
    // version numbers out of range
    let bad = cat(&[&[0xB4, 0x3F], &s("X"), &[0xC9, 0x01, 0x00, 0x00, 0xA0]]);
    let (tag, _) = invalid_reason(decode(&bad, &v6()));
    assert_eq!(tag, 0x3F);
}

// ---------------------------------------------------------------------------------------------
// Unknown structures, robustness

#[test]
fn unknown_tags_pass_through_losslessly() {
    let bytes = cat(&[&[0xB3, 0x01, 0x2A], &s("x"), &[0x91, 0xB1, 0x44, 0x00]]);
    for ctx in all_contexts() {
        let value = decode(&bytes, &ctx).unwrap();
        let Value::Unknown(Structure { tag, fields }) = &value else {
            panic!("{value:?}")
        };
        assert_eq!(*tag, 0x01);
        assert_eq!(fields.len(), 3);
        assert_eq!(encode(&value, &ctx).unwrap(), bytes);
        assert_eq!(value.type_name(), "UNKNOWN STRUCTURE");
    }
    // a lone UnboundRelationship is kept as is too
    let lone = cat(&[&[0xB3, 0x72, 0x01], &s("R"), &[0xA0]]);
    assert!(matches!(decode(&lone, &v44()), Ok(Value::Unknown(s)) if s.tag == 0x72));
}

fn nested_lists(depth: usize) -> Vec<u8> {
    let mut bytes = vec![0x91; depth];
    bytes.push(0x01);
    bytes
}

#[test]
fn depth_limit() {
    let ctx = v5();
    assert!(decode(&nested_lists(64), &ctx).is_ok());
    match decode(&nested_lists(65), &ctx) {
        Err(ValueError::DepthLimitExceeded { max_depth, .. }) => assert_eq!(max_depth, 64),
        other => panic!("{other:?}"),
    }
    // a deep hostile input is rejected quickly, without recursing through all of it
    assert!(matches!(
        decode_value(&mut Decoder::new(Bytes::from(nested_lists(100_000))), &ctx),
        Err(ValueError::DepthLimitExceeded { .. })
    ));
    let strict = ctx.with_max_depth(2);
    assert!(decode(&nested_lists(2), &strict).is_ok());
    assert!(matches!(
        decode(&nested_lists(3), &strict),
        Err(ValueError::DepthLimitExceeded { .. })
    ));
    // maps and structures count as levels too: a node's properties map is level 2
    assert!(decode(&node_5_bytes(), &ctx.with_max_depth(2)).is_ok());
    assert!(matches!(
        decode(&node_5_bytes(), &ctx.with_max_depth(1)),
        Err(ValueError::DepthLimitExceeded { .. })
    ));
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let samples: Vec<(Vec<u8>, ValueContext)> = vec![
        (node_5_bytes(), v5()),
        (path_bytes(&v44(), &[0x01, 0x01]), v44()),
        (
            cat(&[&[0xB3, 0x69, 0xC9, 0x11, 0x94, 0x2A], &s("Europe/Paris")]),
            v5(),
        ),
        (
            vec![0xB2, 0x56, 0xCC, 0x01, 0xC9, 0xCC, 0x02, 0x01, 0x02],
            v6(),
        ),
        (cat(&[&[0xB3, 0x01, 0x2A], &s("x"), &[0x91, 0xC0]]), v6()),
    ];
    for (bytes, ctx) in samples {
        assert!(decode(&bytes, &ctx).is_ok());
        for cut in 0..bytes.len() {
            let mut dec = Decoder::new(Bytes::copy_from_slice(&bytes[..cut]));
            assert!(
                decode_value(&mut dec, &ctx).is_err(),
                "prefix {cut} of {bytes:02X?} decoded"
            );
        }
    }
}

#[test]
fn lying_length_headers_do_not_allocate_their_claim() {
    // a list claiming 2^32 - 1 elements with nothing behind it
    let bytes = [0xD6, 0xFF, 0xFF, 0xFF, 0xFF];
    assert!(matches!(decode(&bytes, &v5()), Err(ValueError::Decode(_))));
    let bytes = [0xDA, 0xFF, 0xFF, 0xFF, 0xFF];
    assert!(matches!(decode(&bytes, &v5()), Err(ValueError::Decode(_))));
}

#[test]
fn value_size_stays_small() {
    // Records are vectors of values: keep the common case compact (boxing rare large variants).
    let size = size_of::<Value>();
    assert!(size <= 40, "Value is {size} bytes");
}

#[test]
fn conversions_and_accessors() {
    assert_eq!(Value::from(7i32), Value::Integer(7));
    assert_eq!(Value::from(7u32).as_int(), Some(7));
    assert_eq!(Value::from(1.5f32).as_float(), Some(1.5));
    assert_eq!(Value::from(true).as_bool(), Some(true));
    assert_eq!(Value::from(String::from("x")).as_str(), Some("x"));
    assert_eq!(Value::from(None::<i64>), Value::Null);
    assert_eq!(Value::from(Some(3)), Value::Integer(3));
    assert_eq!(
        Value::from(vec![1, 2]),
        Value::List(vec![Value::Integer(1), Value::Integer(2)])
    );
    assert!(Value::Null.is_null());
    assert_eq!(Value::Integer(1).as_str(), None);
    let map: Map = [("a", 1), ("b", 2)].into_iter().collect();
    assert_eq!(Value::from(map.clone()).as_map(), Some(&map));
    let ps = quiver_packstream::Value::List(vec![
        quiver_packstream::Value::Integer(1),
        quiver_packstream::Value::Structure(Structure::new(0x44, vec![])),
    ]);
    assert_eq!(
        Value::from(ps),
        Value::List(vec![
            Value::Integer(1),
            Value::Unknown(Structure::new(0x44, vec![]))
        ])
    );
}

#[test]
fn map_behaves_like_an_ordered_dictionary() {
    let mut map = Map::new();
    assert!(map.is_empty());
    assert_eq!(map.insert("b", 1), None);
    assert_eq!(map.insert("a", 2), None);
    assert_eq!(map.insert("b", 3), Some(Value::Integer(1)));
    assert_eq!(
        map.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
        ["b", "a"]
    );
    assert!(map.contains_key("a"));
    assert_eq!(map.remove("b"), Some(Value::Integer(3)));
    assert_eq!(map.len(), 1);
    if let Some(v) = map.get_mut("a") {
        *v = Value::Null;
    }
    assert_eq!(map.get("a"), Some(&Value::Null));
    // equality ignores order
    let x: Map = [("a", 1), ("b", 2)].into_iter().collect();
    let y: Map = [("b", 2), ("a", 1)].into_iter().collect();
    assert_eq!(x, y);
    let z: Map = [("b", 2), ("a", 9)].into_iter().collect();
    assert_ne!(x, z);
}

#[test]
fn large_maps_with_repeated_keys_decode_last_wins() {
    // 40 entries, keys k0..k19 twice: the hash-index path
    let mut bytes = vec![0xD8, 40];
    for round in 0..2u8 {
        for i in 0..20u8 {
            bytes.extend(s(&format!("k{i}")));
            bytes.push(round * 100 + i);
        }
    }
    let value = decode(&bytes, &v5()).unwrap();
    let map = value.as_map().unwrap();
    assert_eq!(map.len(), 20);
    assert_eq!(map.keys().next().map(|k| k.as_str()), Some("k0"));
    assert_eq!(map.get("k7"), Some(&Value::Integer(107)));

    // 40 distinct keys: kept as sent, in order
    let mut bytes = vec![0xD8, 40];
    for i in 0..40u8 {
        bytes.extend(s(&format!("k{i}")));
        bytes.push(i);
    }
    let value = decode(&bytes, &v5()).unwrap();
    let map = value.as_map().unwrap();
    assert_eq!(map.len(), 40);
    let keys: Vec<String> = map.keys().map(|k| k.to_string()).collect();
    let expected: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    assert_eq!(keys, expected);
}

// ---------------------------------------------------------------------------------------------
// Properties

fn finite() -> impl Strategy<Value = f64> {
    prop::num::f64::NORMAL | prop::num::f64::ZERO | prop::num::f64::SUBNORMAL
}

fn key() -> impl Strategy<Value = String> {
    "[a-z]{0,6}"
}

/// Values a client may send as parameters on `ctx` (floats without NaN, so `==` is meaningful).
fn sendable(ctx: ValueContext) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::Integer),
        finite().prop_map(Value::Float),
        "\\PC{0,20}".prop_map(Value::from),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| Value::Bytes(Bytes::from(b))),
        any::<i64>().prop_map(|days| Value::Date(Date { days })),
        (any::<i64>(), any::<i64>()).prop_map(|(nanoseconds, tz_offset_seconds)| Value::Time(
            Time {
                nanoseconds,
                tz_offset_seconds
            }
        )),
        any::<i64>().prop_map(|nanoseconds| Value::LocalTime(LocalTime { nanoseconds })),
        (any::<i64>(), 0..1_000_000_000i64, -64_800..=64_800i64).prop_map(
            |(seconds, nanoseconds, tz_offset_seconds)| {
                // keep local seconds representable for the legacy encoding
                let seconds = seconds / 2;
                Value::DateTime(DateTime {
                    seconds,
                    nanoseconds,
                    tz_offset_seconds,
                })
            }
        ),
        (any::<i64>(), any::<i64>()).prop_map(|(seconds, nanoseconds)| Value::LocalDateTime(
            LocalDateTime {
                seconds,
                nanoseconds
            }
        )),
        (any::<i64>(), any::<i64>(), any::<i64>(), any::<i64>()).prop_map(|(m, d, s, n)| {
            Value::Duration(Duration {
                months: m,
                days: d,
                seconds: s,
                nanoseconds: n,
            })
        }),
        (any::<i64>(), finite(), finite()).prop_map(|(srid, x, y)| Value::Point2D(Point2D {
            srid,
            x,
            y
        })),
        (any::<i64>(), finite(), finite(), finite())
            .prop_map(|(srid, x, y, z)| Value::Point3D(Point3D { srid, x, y, z })),
        (any::<i64>(), any::<i64>(), "[A-Za-z/_]{1,20}").prop_map(move |(s, n, tz)| {
            if ctx.utc_date_times() {
                Value::from(DateTimeZoneId {
                    seconds: s,
                    nanoseconds: n,
                    tz_id: PackStr::from(tz),
                })
            } else {
                Value::from(LegacyDateTimeZoneId {
                    local_seconds: s,
                    nanoseconds: n,
                    tz_id: PackStr::from(tz),
                })
            }
        }),
        vector().prop_map(move |v| if ctx.bolt6_types() {
            Value::Vector(v)
        } else {
            Value::Null
        }),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::List),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|entries| Value::Map(entries.into_iter().collect())),
        ]
    })
}

fn vector() -> impl Strategy<Value = Vector> {
    prop_oneof![
        prop::collection::vec(any::<i8>(), 0..20).prop_map(Vector::I8),
        prop::collection::vec(any::<i16>(), 0..20).prop_map(Vector::I16),
        prop::collection::vec(any::<i32>(), 0..20).prop_map(Vector::I32),
        prop::collection::vec(any::<i64>(), 0..20).prop_map(Vector::I64),
        prop::collection::vec(prop::num::f32::NORMAL | prop::num::f32::ZERO, 0..20)
            .prop_map(Vector::F32),
        prop::collection::vec(finite(), 0..20).prop_map(Vector::F64),
    ]
}

fn round_trip(value: &Value, ctx: &ValueContext) -> Result<(), TestCaseError> {
    let bytes = encode(value, ctx).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut dec = Decoder::new(Bytes::from(bytes.clone()));
    let decoded = decode_value(&mut dec, ctx).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(dec.is_empty());
    prop_assert_eq!(&decoded, value);
    prop_assert_eq!(encode(&decoded, ctx).unwrap(), bytes);
    Ok(())
}

proptest! {
    #[test]
    fn parameters_round_trip_on_4_4(value in sendable(v44())) {
        round_trip(&value, &v44())?;
    }

    #[test]
    fn parameters_round_trip_on_4_4_utc(value in sendable(v44_utc())) {
        round_trip(&value, &v44_utc())?;
    }

    #[test]
    fn parameters_round_trip_on_5(value in sendable(v5())) {
        round_trip(&value, &v5())?;
    }

    #[test]
    fn parameters_round_trip_on_6(value in sendable(v6())) {
        round_trip(&value, &v6())?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        for ctx in all_contexts() {
            let mut dec = Decoder::new(Bytes::from(bytes.clone()));
            if let Ok(value) = decode_value(&mut dec, &ctx) {
                // whatever decodes and is sendable re-encodes to a decodable value
                if let Ok(again) = encode(&value, &ctx) {
                    let mut dec = Decoder::new(Bytes::from(again));
                    prop_assert!(decode_value(&mut dec, &ctx).is_ok());
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Display

#[test]
fn display_is_cypher_like() {
    let cases: Vec<(Value, &str)> = vec![
        (Value::Null, "null"),
        (Value::Boolean(true), "true"),
        (Value::Integer(-7), "-7"),
        (Value::Float(1.0), "1.0"),
        (Value::Float(0.1), "0.1"),
        (Value::Float(1e300), "1e300"),
        (Value::Float(f64::NAN), "NaN"),
        (Value::Float(f64::NEG_INFINITY), "-Infinity"),
        (Value::from("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#),
        (
            Value::Bytes(Bytes::from_static(&[0x0A, 0xFF])),
            "bytes(0x0aff)",
        ),
        (
            Value::from(vec![Value::Integer(1), Value::from("x"), Value::Null]),
            r#"[1, "x", null]"#,
        ),
        (
            Value::Map(
                [
                    ("name", Value::from("Ann")),
                    ("odd key", Value::from(1)),
                    ("", Value::Null),
                ]
                .into_iter()
                .collect(),
            ),
            r#"{name: "Ann", `odd key`: 1, ``: null}"#,
        ),
        (Value::from(ann(Some("x"))), r#"(:Person {name: "Ann"})"#),
        (Value::from(knows(false)), "()-[:KNOWS {since: 2020}]->()"),
        (Value::Date(Date { days: 19_000 }), "date('2022-01-08')"),
        (Value::Date(Date { days: -719_528 }), "date('0000-01-01')"),
        (Value::Date(Date { days: -719_529 }), "date('-0001-12-31')"),
        (
            Value::Date(Date { days: 2_932_897 }),
            "date('+10000-01-01')",
        ),
        (Value::Date(Date { days: 11_016 }), "date('2000-02-29')"),
        (
            Value::Date(Date { days: i64::MIN }).clone(),
            "date('-25252734927764585-06-07')",
        ),
        (
            Value::LocalTime(LocalTime {
                nanoseconds: 45_296_500_000_000,
            }),
            "localtime('12:34:56.5')",
        ),
        (
            Value::LocalTime(LocalTime { nanoseconds: -1 }),
            "localtime({nanoseconds: -1})",
        ),
        (
            Value::Time(Time {
                nanoseconds: 42,
                tz_offset_seconds: -16_200,
            }),
            "time('00:00:00.000000042-04:30')",
        ),
        (
            Value::Time(Time {
                nanoseconds: 0,
                tz_offset_seconds: 0,
            }),
            "time('00:00:00Z')",
        ),
        (
            Value::DateTime(PARIS),
            "datetime('1970-01-01T02:15:00.000000042+01:00')",
        ),
        (
            Value::LocalDateTime(LocalDateTime {
                seconds: -1,
                nanoseconds: 0,
            }),
            "localdatetime('1969-12-31T23:59:59')",
        ),
        (
            Value::from(DateTimeZoneId {
                seconds: 4500,
                nanoseconds: 42,
                tz_id: PackStr::from("Europe/Paris"),
            }),
            r#"datetime({epochSeconds: 4500, nanosecond: 42, timezone: "Europe/Paris"})"#,
        ),
        (
            Value::from(LegacyDateTimeZoneId {
                local_seconds: 8100,
                nanoseconds: 0,
                tz_id: PackStr::from("Europe/Paris"),
            }),
            "datetime('1970-01-01T02:15:00[Europe/Paris]')",
        ),
        (
            Value::Duration(Duration {
                months: 14,
                days: -15,
                seconds: 1,
                nanoseconds: 2,
            }),
            "duration({months: 14, days: -15, seconds: 1, nanoseconds: 2})",
        ),
        (
            Value::Point2D(Point2D {
                srid: 7203,
                x: 1.0,
                y: -2.5,
            }),
            "point({srid: 7203, x: 1.0, y: -2.5})",
        ),
        (
            Value::Point3D(Point3D {
                srid: 9157,
                x: 1.0,
                y: 2.0,
                z: 3.0,
            }),
            "point({srid: 9157, x: 1.0, y: 2.0, z: 3.0})",
        ),
        (
            Value::Vector(Vector::I8(vec![1, -2])),
            "vector([1, -2], 2, INTEGER8)",
        ),
        (
            Value::Vector(Vector::F32(vec![0.1, 2.0])),
            "vector([0.1, 2.0], 2, FLOAT32)",
        ),
        (
            Value::from(Unsupported {
                name: PackStr::from("FLOAT16 VECTOR"),
                minimum_protocol_version: (6, 1),
                extra: Map::new(),
            }),
            r#"unsupported("FLOAT16 VECTOR", 6.1)"#,
        ),
        (
            Value::Unknown(Structure::new(
                0x01,
                vec![quiver_packstream::Value::Integer(1)],
            )),
            "structure(0x01, [1])",
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(value.to_string(), expected, "{value:?}");
    }
}

#[test]
fn display_of_a_path() {
    let ctx = v44();
    let value = decode(
        &path_bytes(&ctx, &[0x01, 0x01, 0x01, 0x00, 0xFE, 0x02]),
        &ctx,
    )
    .unwrap();
    assert_eq!(value.to_string(), "()-[:R]->()-[:R]->()<-[:R]-()");
}

/// Arbitrary PackStream values, structures included (with the Bolt tags over-represented).
fn packstream_value() -> impl Strategy<Value = quiver_packstream::Value> {
    use quiver_packstream::Value as P;
    let leaf = prop_oneof![
        Just(P::Null),
        any::<bool>().prop_map(P::Boolean),
        prop_oneof![any::<i64>(), -20..130i64].prop_map(P::Integer),
        any::<f64>().prop_map(P::Float),
        "\\PC{0,8}".prop_map(|s| P::String(PackStr::from(s))),
        prop::collection::vec(any::<u8>(), 0..9).prop_map(|b| P::Bytes(Bytes::from(b))),
    ];
    leaf.prop_recursive(3, 32, 9, |inner| {
        let tag = prop_oneof![
            prop::sample::select(vec![
                0x4E, 0x52, 0x72, 0x50, 0x44, 0x54, 0x74, 0x49, 0x69, 0x46, 0x66, 0x64, 0x45, 0x58,
                0x59, 0x56, 0x3F,
            ]),
            any::<u8>(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(P::List),
            prop::collection::vec(("[a-c]{1}", inner.clone()), 0..4)
                .prop_map(|entries| P::Map(entries.into_iter().collect())),
            (tag, prop::collection::vec(inner, 0..9))
                .prop_map(|(tag, fields)| P::Structure(Structure::new(tag, fields))),
        ]
    })
}

proptest! {
    /// Valid PackStream never fails as PackStream: it decodes to a value, or the structure is
    /// reported as invalid for the version — and whatever decodes re-encodes and decodes equal
    /// (server-only values aside).
    #[test]
    fn valid_packstream_decodes_or_is_an_invalid_structure(value in packstream_value()) {
        let bytes = quiver_packstream::to_bytes(&value).expect("generated values encode");
        for ctx in all_contexts() {
            let mut dec = Decoder::new(bytes.clone());
            match decode_value(&mut dec, &ctx) {
                Ok(decoded) => {
                    prop_assert!(dec.is_empty());
                    if let Ok(again) = encode(&decoded, &ctx) {
                        let mut dec = Decoder::new(Bytes::from(again));
                        let redecoded = decode_value(&mut dec, &ctx);
                        prop_assert!(redecoded.is_ok());
                        // NaN != NaN, so compare a second encoding instead of values
                        let twice = encode(&redecoded.unwrap_or(Value::Null), &ctx);
                        prop_assert_eq!(twice.ok(), encode(&decoded, &ctx).ok());
                    }
                }
                Err(ValueError::InvalidStructure { .. }) => {}
                Err(other) => prop_assert!(false, "{:?} on {:?}: {}", value, ctx.version(), other),
            }
        }
    }
}
