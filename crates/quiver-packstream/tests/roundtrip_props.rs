//! Property tests: encode/decode round trips and canonical re-encoding.

use bytes::Bytes;
use proptest::prelude::*;
use quiver_packstream::{Decoder, Map, Structure, Token, TokenRef, Value, decode, to_bytes};

/// Integers biased towards the marker boundaries.
fn integer() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -20i64..=130,
        (
            -3i64..=3,
            prop::sample::select(vec![
                -(1i64 << 31),
                -(1 << 15),
                -129,
                -128,
                -17,
                -16,
                127,
                128,
                1 << 15,
                1 << 31,
            ])
        )
            .prop_map(|(d, b)| b.wrapping_add(d)),
        Just(i64::MIN),
        Just(i64::MAX),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        integer().prop_map(Value::Integer),
        // Every bit pattern, including NaN payloads, infinities and -0.0.
        any::<u64>().prop_map(|b| Value::Float(f64::from_bits(b))),
        any::<f64>().prop_map(Value::Float),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| Value::Bytes(Bytes::from(b))),
        ".{0,40}".prop_map(Value::from),
        prop::collection::vec(prop::char::any(), 250..270)
            .prop_map(|c| Value::from(c.into_iter().collect::<String>())),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(6, 200, 20, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..20).prop_map(Value::List),
            prop::collection::vec((".{0,8}", inner.clone()), 0..20)
                .prop_map(|kv| Value::Map(kv.into_iter().collect::<Map>())),
            (any::<u8>(), prop::collection::vec(inner, 0..=15))
                .prop_map(|(tag, fields)| Value::Structure(Structure::new(tag, fields))),
        ]
    })
}

/// Counts the values in a tree by pulling tokens, checking the pull API agrees with the tree.
fn pull_count(d: &mut Decoder) -> usize {
    match d.next_token().unwrap() {
        Token::List { len } | Token::Structure { len, .. } => {
            1 + (0..len).map(|_| pull_count(d)).sum::<usize>()
        }
        Token::Map { len } => {
            1 + (0..len)
                .map(|_| {
                    assert!(matches!(d.next_token().unwrap(), Token::String(_)));
                    pull_count(d)
                })
                .sum::<usize>()
        }
        _ => 1,
    }
}

fn tree_count(v: &Value) -> usize {
    1 + match v {
        Value::List(l) => l.iter().map(tree_count).sum(),
        Value::Structure(s) => s.fields.iter().map(tree_count).sum(),
        Value::Map(m) => m.values().map(tree_count).sum(),
        _ => 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decode_encode_is_identity(v in value()) {
        let bytes = to_bytes(&v).unwrap();
        let back = decode(bytes.clone()).unwrap();
        prop_assert!(back.bit_eq(&v), "{:?} != {:?}", back, v);
        // Canonical bytes re-encode to exactly the same bytes.
        prop_assert_eq!(to_bytes(&back).unwrap(), bytes.clone());
        // skip_value and the pull API walk the same bytes.
        let mut d = Decoder::new(bytes.clone());
        d.skip_value().unwrap();
        prop_assert!(d.is_empty());
        let mut d = Decoder::new(bytes);
        prop_assert_eq!(pull_count(&mut d), tree_count(&v));
        prop_assert!(d.is_empty());
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_reencode_stably(input in prop::collection::vec(any::<u8>(), 0..64)) {
        let input = Bytes::from(input);
        let tree = decode(input.clone());
        let mut d = Decoder::new(input.clone());
        let skipped = d.skip_value().map(|()| d.is_empty());
        match tree {
            Ok(v) => {
                prop_assert_eq!(skipped, Ok(true));
                let canonical = to_bytes(&v).unwrap();
                let again = decode(canonical.clone()).unwrap();
                prop_assert!(again.bit_eq(&v));
                prop_assert_eq!(to_bytes(&again).unwrap(), canonical);
            }
            Err(e) => {
                prop_assert!(e.offset <= input.len());
                // skip_value agrees unless only trailing bytes were wrong.
                if let Err(s) = skipped {
                    prop_assert_eq!(s, e);
                }
            }
        }
        let mut d = Decoder::new(input);
        while d.next_token().is_ok() {}
    }

    /// The borrowing pull API yields the same tokens, errors and positions as the sharing one.
    #[test]
    fn next_token_ref_agrees_with_next_token(v in value(), cut in any::<prop::sample::Index>(), junk in any::<u8>()) {
        let valid = to_bytes(&v).unwrap();
        let mut corrupted = valid.to_vec();
        if !corrupted.is_empty() {
            let i = cut.index(corrupted.len());
            corrupted[i] = junk;
        }
        for input in [valid.clone(), Bytes::from(corrupted), valid.slice(..cut.index(valid.len() + 1))] {
            let (mut shared, mut borrowed) = (Decoder::new(input.clone()), Decoder::new(input));
            loop {
                let expected = shared.next_token();
                let actual = borrowed.next_token_ref().map(|token| match token {
                    TokenRef::Null => Token::Null,
                    TokenRef::Boolean(b) => Token::Boolean(b),
                    TokenRef::Integer(i) => Token::Integer(i),
                    TokenRef::Float(f) => Token::Float(f),
                    TokenRef::Bytes(b) => Token::Bytes(Bytes::copy_from_slice(b)),
                    TokenRef::String(s) => Token::String(s.into()),
                    TokenRef::List { len } => Token::List { len },
                    TokenRef::Map { len } => Token::Map { len },
                    TokenRef::Structure { tag, len } => Token::Structure { tag, len },
                });
                match (&expected, &actual) {
                    (Ok(Token::Float(a)), Ok(Token::Float(b))) => prop_assert_eq!(a.to_bits(), b.to_bits()),
                    _ => prop_assert_eq!(&expected, &actual),
                }
                prop_assert_eq!(shared.position(), borrowed.position());
                if expected.is_err() {
                    break;
                }
            }
        }
    }

    /// Inputs built from valid pieces reach deeper states than random bytes.
    #[test]
    fn spliced_valid_values_never_panic(v in value(), cut in any::<prop::sample::Index>(), junk in any::<u8>()) {
        let bytes = to_bytes(&v).unwrap();
        let mut corrupted = bytes.to_vec();
        let i = cut.index(corrupted.len());
        corrupted[i] = junk;
        let _ = decode(Bytes::from(corrupted));
        let _ = decode(bytes.slice(..i));
    }
}
