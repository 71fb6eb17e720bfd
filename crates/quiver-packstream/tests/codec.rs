//! Marker boundaries, exact bytes, float bits and hostile-input handling.

use bytes::Bytes;
use quiver_packstream::{
    DecodeError, DecodeErrorKind, DecodeLimits, Decoder, EncodeError, Map, PackStr, Structure,
    Token, Value, decode, decode_with_limits, encode, to_bytes,
};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Encodes `value`, checks the bytes, decodes them back and checks bitwise equality.
fn roundtrip(value: &Value) -> Bytes {
    let bytes = to_bytes(value).unwrap();
    let back = decode(bytes.clone()).unwrap();
    assert!(back.bit_eq(value), "{value:?} came back as {back:?}");
    // Skipping consumes exactly the same bytes.
    let mut d = Decoder::new(bytes.clone());
    d.skip_value().unwrap();
    assert!(d.is_empty());
    bytes
}

fn decode_err(bytes: &[u8]) -> DecodeError {
    decode(Bytes::copy_from_slice(bytes)).unwrap_err()
}

#[test]
fn integers_at_every_marker_boundary() {
    let cases: &[(i64, &str)] = &[
        (0, "00"),
        (1, "01"),
        (127, "7F"),
        (128, "C9 0080"),
        (-1, "FF"),
        (-16, "F0"),
        (-17, "C8 EF"),
        (-128, "C8 80"),
        (-129, "C9 FF7F"),
        (32767, "C9 7FFF"),
        (32768, "CA 00008000"),
        (-32768, "C9 8000"),
        (-32769, "CA FFFF7FFF"),
        (2147483647, "CA 7FFFFFFF"),
        (2147483648, "CB 0000000080000000"),
        (-2147483648, "CA 80000000"),
        (-2147483649, "CB FFFFFFFF7FFFFFFF"),
        (i64::MAX, "CB 7FFFFFFFFFFFFFFF"),
        (i64::MIN, "CB 8000000000000000"),
    ];
    for &(n, expected) in cases {
        let bytes = roundtrip(&Value::Integer(n));
        assert_eq!(hex(&bytes), hex(&unhex(expected)), "encoding {n}");
        let mut buf = Vec::new();
        encode::write_int(&mut buf, n);
        assert_eq!(buf, bytes.as_ref());
    }
}

#[test]
fn every_tiny_int_is_one_byte_and_non_canonical_forms_decode() {
    for n in -16i64..=127 {
        let bytes = roundtrip(&Value::Integer(n));
        assert_eq!(bytes.len(), 1);
        // The same value in every wider form decodes to the same integer.
        for wide in [
            [&[0xC8][..], &(n as i8).to_be_bytes()[..]].concat(),
            [&[0xC9][..], &(n as i16).to_be_bytes()[..]].concat(),
            [&[0xCA][..], &(n as i32).to_be_bytes()[..]].concat(),
            [&[0xCB][..], &n.to_be_bytes()[..]].concat(),
        ] {
            assert_eq!(decode(Bytes::from(wide)).unwrap(), Value::Integer(n));
        }
    }
}

#[test]
fn scalars() {
    assert_eq!(hex(&roundtrip(&Value::Null)), "C0");
    assert_eq!(hex(&roundtrip(&Value::Boolean(false))), "C2");
    assert_eq!(hex(&roundtrip(&Value::Boolean(true))), "C3");
    assert_eq!(
        hex(&roundtrip(&Value::Float(1.1))),
        "C13FF199999999999A",
        "the PackStream spec's example"
    );
}

#[test]
fn floats_are_bit_exact() {
    let bits: &[u64] = &[
        0x0000_0000_0000_0000, // 0.0
        0x8000_0000_0000_0000, // -0.0
        0x7FF0_0000_0000_0000, // +inf
        0xFFF0_0000_0000_0000, // -inf
        0x7FF8_0000_0000_0000, // canonical quiet NaN
        0xFFF8_0000_0000_0000, // negative quiet NaN
        0x7FF0_0000_0000_0001, // signalling NaN, payload 1
        0x7FF4_0000_DEAD_BEEF, // signalling NaN with a payload
        0x7FFF_FFFF_FFFF_FFFF, // quiet NaN, all payload bits
        0x0000_0000_0000_0001, // smallest subnormal
        0x000F_FFFF_FFFF_FFFF, // largest subnormal
        0x0010_0000_0000_0000, // smallest normal
        0x7FEF_FFFF_FFFF_FFFF, // f64::MAX
        0xFFEF_FFFF_FFFF_FFFF, // f64::MIN
        0x3FF0_0000_0000_0000, // 1.0
    ];
    for &b in bits {
        let f = f64::from_bits(b);
        let bytes = roundtrip(&Value::Float(f));
        assert_eq!(bytes[0], 0xC1);
        assert_eq!(&bytes[1..], &b.to_be_bytes());
        match decode(bytes).unwrap() {
            Value::Float(g) => assert_eq!(g.to_bits(), b),
            other => panic!("{other:?}"),
        }
    }
    // PartialEq is numeric, bit_eq is bitwise.
    assert_eq!(Value::Float(0.0), Value::Float(-0.0));
    assert!(!Value::Float(0.0).bit_eq(&Value::Float(-0.0)));
    assert_ne!(Value::Float(f64::NAN), Value::Float(f64::NAN));
    assert!(Value::Float(f64::NAN).bit_eq(&Value::Float(f64::NAN)));
}

const SIZES: &[usize] = &[0, 1, 15, 16, 255, 256, 65535, 65536];

/// The expected header for a sized type.
fn header(tiny: Option<u8>, markers: [u8; 3], len: usize) -> Vec<u8> {
    match tiny {
        Some(base) if len < 16 => vec![base | len as u8],
        _ if len < 256 => vec![markers[0], len as u8],
        _ if len < 65536 => {
            let mut v = vec![markers[1]];
            v.extend((len as u16).to_be_bytes());
            v
        }
        _ => {
            let mut v = vec![markers[2]];
            v.extend((len as u32).to_be_bytes());
            v
        }
    }
}

#[test]
fn strings_at_every_size_boundary() {
    for &len in SIZES {
        let s = "x".repeat(len);
        let bytes = roundtrip(&Value::from(s.as_str()));
        let h = header(Some(0x80), [0xD0, 0xD1, 0xD2], len);
        assert_eq!(&bytes[..h.len()], &h[..], "string of {len}");
        assert_eq!(bytes.len(), h.len() + len);
        let mut buf = Vec::new();
        encode::write_str(&mut buf, &s).unwrap();
        assert_eq!(buf, bytes.as_ref());
    }
    // Multi-byte characters: the size counts bytes, not characters.
    let s = "é".repeat(8); // 16 bytes
    assert_eq!(roundtrip(&Value::from(s.as_str()))[..2], [0xD0, 16]);
}

#[test]
fn bytes_at_every_size_boundary() {
    for &len in SIZES {
        let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let bytes = roundtrip(&Value::Bytes(Bytes::from(data.clone())));
        let h = header(None, [0xCC, 0xCD, 0xCE], len);
        assert_eq!(&bytes[..h.len()], &h[..], "bytes of {len}");
        assert_eq!(&bytes[h.len()..], &data[..]);
    }
}

#[test]
fn lists_at_every_size_boundary() {
    for &len in SIZES {
        let list = Value::List((0..len).map(|i| Value::Integer(i as i64 % 100)).collect());
        let bytes = roundtrip(&list);
        let h = header(Some(0x90), [0xD4, 0xD5, 0xD6], len);
        assert_eq!(&bytes[..h.len()], &h[..], "list of {len}");
        let mut buf = Vec::new();
        encode::write_list_header(&mut buf, len).unwrap();
        assert_eq!(buf, h);
    }
}

#[test]
fn maps_at_every_size_boundary() {
    for &len in SIZES {
        let map: Map = (0..len)
            .map(|i| (format!("k{i}"), Value::Integer(i as i64)))
            .collect();
        assert_eq!(map.len(), len);
        let bytes = roundtrip(&Value::Map(map));
        let h = header(Some(0xA0), [0xD8, 0xD9, 0xDA], len);
        assert_eq!(&bytes[..h.len()], &h[..], "map of {len}");
        let mut buf = Vec::new();
        encode::write_map_header(&mut buf, len).unwrap();
        assert_eq!(buf, h);
    }
}

#[test]
fn structures() {
    let s = Value::Structure(Structure::new(
        0x4E,
        vec![
            Value::Integer(1),
            Value::List(vec![Value::from("Person")]),
            Value::Map(Map::new()),
            Value::from("4:abc:1"),
        ],
    ));
    let bytes = roundtrip(&s);
    assert_eq!(&bytes[..2], &[0xB4, 0x4E]);
    for len in 0..=15 {
        let s = Value::Structure(Structure::new(0x7F, vec![Value::Null; len]));
        let bytes = roundtrip(&s);
        assert_eq!(bytes[0], 0xB0 | len as u8);
        assert_eq!(bytes[1], 0x7F);
    }
    let too_many = Value::Structure(Structure::new(1, vec![Value::Null; 16]));
    assert_eq!(
        to_bytes(&too_many).unwrap_err(),
        EncodeError::TooManyStructFields(16)
    );
    let mut buf = Vec::new();
    assert_eq!(
        encode::write_struct_header(&mut buf, 1, 300).unwrap_err(),
        EncodeError::TooManyStructFields(300)
    );
    assert!(buf.is_empty());
}

#[test]
fn too_large_headers_are_refused() {
    let mut buf = Vec::new();
    let big = u32::MAX as usize + 1;
    assert_eq!(
        encode::write_list_header(&mut buf, big).unwrap_err(),
        EncodeError::TooLarge {
            what: "list",
            len: big
        }
    );
    assert!(matches!(
        encode::write_map_header(&mut buf, big).unwrap_err(),
        EncodeError::TooLarge { what: "map", .. }
    ));
    assert!(buf.is_empty());
    encode::write_list_header(&mut buf, u32::MAX as usize).unwrap();
    assert_eq!(buf, [0xD6, 0xFF, 0xFF, 0xFF, 0xFF]);
}

#[test]
fn map_duplicate_keys_last_value_wins_first_position_kept() {
    // {a: 1, b: 2, a: 3}
    let bytes = unhex("A3 8161 01 8162 02 8161 03");
    let value = decode(Bytes::from(bytes)).unwrap();
    let map = value.as_map().unwrap();
    assert_eq!(map.len(), 2);
    let entries: Vec<_> = map.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    assert_eq!(
        entries,
        [("a", Value::Integer(3)), ("b", Value::Integer(2))]
    );
    // Same with many keys (the hash-indexed path).
    let mut buf = Vec::new();
    encode::write_map_header(&mut buf, 100).unwrap();
    for i in 0..100 {
        encode::write_str(&mut buf, &format!("k{}", i % 10)).unwrap();
        encode::write_int(&mut buf, i);
    }
    let value = decode(Bytes::from(buf)).unwrap();
    let map = value.as_map().unwrap();
    assert_eq!(map.len(), 10);
    for (i, (k, v)) in map.iter().enumerate() {
        assert_eq!(k.as_str(), format!("k{i}"));
        assert_eq!(v.as_int(), Some(90 + i as i64));
    }
}

#[test]
fn map_api() {
    let mut m = Map::new();
    assert!(m.insert("b", Value::from(1)).is_none());
    assert!(m.insert(String::from("a"), Value::from(2)).is_none());
    assert_eq!(m.insert("b", Value::from(3)), Some(Value::from(1)));
    assert_eq!(m.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["b", "a"]);
    assert_eq!(m.get("b"), Some(&Value::from(3)));
    assert!(m.contains_key("a"));
    assert_eq!(m.remove("b"), Some(Value::from(3)));
    assert!(!m.contains_key("b"));
    assert_eq!(m.values().count(), 1);
    // Equality ignores order.
    let x: Map = [("a", Value::from(1)), ("b", Value::from(2))]
        .into_iter()
        .collect();
    let y: Map = [("b", Value::from(2)), ("a", Value::from(1))]
        .into_iter()
        .collect();
    assert_eq!(x, y);
    let z: Map = [("b", Value::from(2)), ("a", Value::from(9))]
        .into_iter()
        .collect();
    assert_ne!(x, z);
}

#[test]
fn packstr_agrees_with_str() {
    use std::collections::{BTreeSet, HashSet};
    let s = PackStr::from("héllo");
    assert_eq!(s, "héllo");
    assert_eq!(s.len(), 6);
    assert_eq!(&*s, "héllo");
    assert_eq!(s.to_string(), "héllo");
    assert_eq!(format!("{s:?}"), "\"héllo\"");
    let set: HashSet<PackStr> = [s.clone()].into_iter().collect();
    assert!(set.contains("héllo"));
    let tree: BTreeSet<PackStr> = ["b", "a", "é", "z"]
        .into_iter()
        .map(PackStr::from)
        .collect();
    let order: Vec<&str> = tree.iter().map(|s| s.as_str()).collect();
    assert_eq!(order, ["a", "b", "z", "é"]);
    assert!(PackStr::from_utf8(Bytes::from_static(&[0xFF])).is_err());
    assert_eq!(
        PackStr::from_static("x").into_bytes(),
        Bytes::from_static(b"x")
    );
}

#[test]
fn nesting_limit() {
    fn nested_lists(depth: usize) -> Vec<u8> {
        let mut v = vec![0x91; depth];
        v.push(0x01);
        v
    }
    let max = DecodeLimits::DEFAULT_MAX_DEPTH;
    decode(Bytes::from(nested_lists(max))).unwrap();
    let err = decode_err(&nested_lists(max + 1));
    assert_eq!(
        err.kind,
        DecodeErrorKind::DepthLimitExceeded { max_depth: max }
    );
    assert_eq!(
        err.offset, max,
        "offset of the container that goes too deep"
    );
    let mut d = Decoder::new(Bytes::from(nested_lists(max + 1)));
    assert_eq!(d.skip_value().unwrap_err(), err);
    assert_eq!(d.position(), 0, "a failed call does not move");

    // Maps and structures count too.
    let limits = DecodeLimits { max_depth: 2 };
    let ok = unhex("A1 8161 B1 4E 01");
    decode_with_limits(Bytes::from(ok), limits).unwrap();
    let too_deep = unhex("A1 8161 B1 4E 90");
    assert!(matches!(
        decode_with_limits(Bytes::from(too_deep), limits)
            .unwrap_err()
            .kind,
        DecodeErrorKind::DepthLimitExceeded { max_depth: 2 }
    ));
    // Depth 0: only scalars.
    let zero = DecodeLimits { max_depth: 0 };
    decode_with_limits(Bytes::from_static(&[0x01]), zero).unwrap();
    decode_with_limits(Bytes::from_static(&[0x90]), zero).unwrap_err();

    // A very deep input fails cleanly instead of overflowing the stack.
    let err = decode_err(&nested_lists(1_000_000));
    assert!(matches!(
        err.kind,
        DecodeErrorKind::DepthLimitExceeded { .. }
    ));
}

fn sample() -> Value {
    let mut props = Map::new();
    props.insert("name", Value::from("Ada Lovelace"));
    props.insert("born", Value::from(1815));
    props.insert("ratio", Value::from(0.5));
    props.insert("blob", Value::Bytes(Bytes::from_static(&[1, 2, 3])));
    props.insert("none", Value::Null);
    props.insert("yes", Value::from(true));
    props.insert("big", Value::from(i64::MIN));
    Value::List(vec![
        Value::Structure(Structure::new(
            0x4E,
            vec![
                Value::from(7),
                Value::List(vec![Value::from("Person"), Value::from("Mathematician")]),
                Value::Map(props),
                Value::from("x".repeat(300)),
            ],
        )),
        Value::from(-129),
        Value::Map(Map::new()),
    ])
}

#[test]
fn every_truncation_is_an_error_never_a_panic() {
    let full = to_bytes(&sample()).unwrap();
    for cut in 0..full.len() {
        let prefix = full.slice(..cut);
        let err = decode(prefix.clone()).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::UnexpectedEnd, "cut at {cut}");
        assert!(err.offset <= cut);
        let mut d = Decoder::new(prefix.clone());
        assert_eq!(d.skip_value().unwrap_err(), err);
        // Pulling tokens until failure also never panics.
        let mut d = Decoder::new(prefix);
        while d.next_token().is_ok() {}
    }
    decode(full).unwrap();
}

#[test]
fn reserved_markers() {
    let reserved: Vec<u8> = (0xC4..=0xC7)
        .chain([0xCF, 0xD3, 0xD7])
        .chain(0xDB..=0xEF)
        .collect();
    assert_eq!(reserved.len(), 4 + 3 + 21);
    for &m in &reserved {
        let err = decode_err(&[m]);
        assert_eq!(err.kind, DecodeErrorKind::ReservedMarker(m));
        assert_eq!(err.offset, 0);
        // Inside a list, the offset points at the marker.
        let err = decode_err(&[0x92, 0x01, m]);
        assert_eq!(err.kind, DecodeErrorKind::ReservedMarker(m));
        assert_eq!(err.offset, 2);
        assert_eq!(
            err.to_string(),
            format!("reserved marker byte 0x{m:02X}: the data is not valid PackStream at byte 2")
        );
    }
    // No other marker byte is reserved.
    for m in 0u8..=255 {
        if reserved.contains(&m) {
            continue;
        }
        let mut input = vec![m];
        input.extend([0x80u8; 16]);
        if let Err(e) = decode(Bytes::from(input)) {
            assert!(
                !matches!(e.kind, DecodeErrorKind::ReservedMarker(_)),
                "marker {m:02X}: {e}"
            );
        }
    }
}

#[test]
fn invalid_utf8() {
    for bad in [
        &[0x81, 0xFF][..],
        &[0x82, 0xC3, 0x28],
        &[0xD0, 0x03, 0xE2, 0x82, 0x28],
        &[0x81, 0x80],
        // An overlong encoding and a surrogate.
        &[0x82, 0xC0, 0xAF],
        &[0x83, 0xED, 0xA0, 0x80],
        // Truncated multi-byte sequence.
        &[0x81, 0xC3],
    ] {
        let err = decode_err(bad);
        assert_eq!(err.kind, DecodeErrorKind::InvalidUtf8, "{bad:02X?}");
        assert_eq!(err.offset, 0);
    }
    // As a map key.
    let err = decode_err(&[0xA1, 0x81, 0xFF, 0x01]);
    assert_eq!((err.kind, err.offset), (DecodeErrorKind::InvalidUtf8, 1));
    // Byte arrays are not checked.
    decode(Bytes::from_static(&[0xCC, 0x01, 0xFF])).unwrap();
}

#[test]
fn map_keys_must_be_strings() {
    for key in [
        &[0x01][..],
        &[0xC0],
        &[0x90],
        &[0xCC, 0x00],
        &[0xC1, 0, 0, 0, 0, 0, 0, 0, 0],
    ] {
        let mut input = vec![0xA1];
        input.extend_from_slice(key);
        input.push(0x01);
        let err = decode_err(&input);
        assert_eq!(err.kind, DecodeErrorKind::MapKeyNotString);
        assert_eq!(err.offset, 1);
    }
}

#[test]
fn huge_size_claims_do_not_allocate() {
    // These headers claim up to 2^32-1 elements with no data behind them. If the decoder
    // reserved capacity for the claim, a list of 2^32 Values (16 bytes+ each) would abort.
    for header in [
        &[0xD6, 0xFF, 0xFF, 0xFF, 0xFF][..],
        &[0xDA, 0xFF, 0xFF, 0xFF, 0xFF],
        &[0xD2, 0xFF, 0xFF, 0xFF, 0xFF],
        &[0xCE, 0xFF, 0xFF, 0xFF, 0xFF],
        &[0xD5, 0xFF, 0xFF],
        &[0xD9, 0xFF, 0xFF],
    ] {
        let err = decode_err(header);
        assert_eq!(err.kind, DecodeErrorKind::UnexpectedEnd);
        let mut d = Decoder::new(Bytes::copy_from_slice(header));
        assert_eq!(d.skip_value().unwrap_err(), err);
    }
    // A list claiming 2^32-1 elements with a few real ones behind it.
    let mut input = vec![0xD6, 0xFF, 0xFF, 0xFF, 0xFF];
    input.extend([0x01; 1000]);
    assert_eq!(decode_err(&input).kind, DecodeErrorKind::UnexpectedEnd);
    // The pull API just reports the claim.
    let mut d = Decoder::new(Bytes::from(input));
    assert_eq!(
        d.next_token().unwrap(),
        Token::List {
            len: u32::MAX as usize
        }
    );
}

#[test]
fn trailing_bytes() {
    let err = decode_err(&[0x01, 0x02, 0x03]);
    assert_eq!(err.kind, DecodeErrorKind::TrailingBytes { count: 2 });
    assert_eq!(err.offset, 1);
    // A Decoder reads values one after another.
    let mut d = Decoder::new(Bytes::from_static(&[0x01, 0x02, 0x03]));
    for n in 1..=3 {
        assert_eq!(d.decode_value().unwrap(), Value::Integer(n));
    }
    assert!(d.is_empty());
    assert_eq!(
        d.peek_marker().unwrap_err().kind,
        DecodeErrorKind::UnexpectedEnd
    );
}

#[test]
fn pull_api_and_typed_reads() {
    let bytes = to_bytes(&sample()).unwrap();
    let mut d = Decoder::new(bytes.clone());
    assert_eq!(d.peek_marker().unwrap(), 0x93);
    assert_eq!(d.read_list_header().unwrap(), 3);
    assert_eq!(d.read_struct_header().unwrap(), (0x4E, 4));
    assert_eq!(d.read_int().unwrap(), 7);
    assert_eq!(d.next_token().unwrap(), Token::List { len: 2 });
    assert_eq!(d.next_token().unwrap(), Token::String("Person".into()));
    let s = d.read_str().unwrap();
    assert_eq!(s, "Mathematician");
    // Zero-copy: the string points into the input buffer.
    let base = bytes.as_ptr() as usize;
    let p = s.as_bytes().as_ptr() as usize;
    assert!(p >= base && p < base + bytes.len());
    // A wrong typed read reports the marker and does not move.
    let before = d.position();
    let err = d.read_str().unwrap_err();
    assert_eq!(
        err.kind,
        DecodeErrorKind::UnexpectedType {
            expected: "string",
            found_marker: 0xA7
        }
    );
    assert_eq!(err.offset, before);
    assert_eq!(d.position(), before);
    assert_eq!(d.read_map_header().unwrap(), 7);
    d.skip_value().unwrap(); // key "name"
    assert_eq!(d.read_str().unwrap(), "Ada Lovelace");
    d.read_str().unwrap();
    assert_eq!(d.read_int().unwrap(), 1815);
    d.read_str().unwrap();
    assert_eq!(d.read_float().unwrap(), 0.5);
    d.read_str().unwrap();
    assert_eq!(d.read_bytes().unwrap().as_ref(), &[1, 2, 3]);
    d.read_str().unwrap();
    assert_eq!(d.next_token().unwrap(), Token::Null);
    d.read_str().unwrap();
    assert!(d.read_bool().unwrap());
    d.read_str().unwrap();
    assert_eq!(d.read_int().unwrap(), i64::MIN);
    assert_eq!(d.read_str().unwrap().len(), 300);
    assert_eq!(d.read_int().unwrap(), -129);
    assert_eq!(d.next_token().unwrap(), Token::Map { len: 0 });
    assert!(d.is_empty());
    assert_eq!(d.remaining(), 0);
}

#[test]
fn value_accessors_and_conversions() {
    assert_eq!(Value::from(3i32).as_int(), Some(3));
    assert_eq!(Value::from(2.5).as_float(), Some(2.5));
    assert_eq!(Value::from(true).as_bool(), Some(true));
    assert_eq!(Value::from("s").as_str(), Some("s"));
    assert_eq!(Value::from(String::from("s")).as_str(), Some("s"));
    assert_eq!(Value::from(None::<i64>), Value::Null);
    assert!(Value::Null.is_null());
    assert_eq!(Value::from(1).as_str(), None);
    assert_eq!(
        Value::from(vec![Value::Null]).as_list().map(<[_]>::len),
        Some(1)
    );
    assert!(Value::from(Map::new()).as_map().is_some());
    assert_eq!(
        Value::from(Structure::new(1, vec![]))
            .as_structure()
            .map(|s| s.tag),
        Some(1)
    );
    assert_eq!(
        Value::from(Bytes::from_static(b"ab"))
            .as_bytes()
            .map(|b| b.len()),
        Some(2)
    );
    assert_eq!(Value::from(PackStr::from("p")).type_name(), "string");
}
