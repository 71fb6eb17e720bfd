//! Interop with the official Neo4j Python driver: `tests/packstream-vectors/vectors.json`
//! holds bytes written by its packer (regenerate with `generate.py` there). Every vector must
//! decode to the described value and re-encode to exactly the same bytes.

use bytes::Bytes;
use quiver_packstream::{Decoder, Map, Structure, Token, Value, decode, encode, to_bytes};
use serde_json::Value as Json;

fn load() -> Json {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/packstream-vectors/vectors.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn vector_bytes(v: &Json) -> Vec<u8> {
    if let Some(hex) = v["hex"].as_str() {
        return unhex(hex);
    }
    let mut out = Vec::new();
    for run in v["hex_runs"].as_array().expect("hex or hex_runs") {
        let chunk = unhex(run[0].as_str().unwrap());
        for _ in 0..run[1].as_u64().unwrap() {
            out.extend_from_slice(&chunk);
        }
    }
    out
}

fn repeat(desc: &Json) -> Option<usize> {
    desc.get("repeat")
        .and_then(Json::as_u64)
        .map(|n| n as usize)
}

/// Builds the expected value from its tagged JSON description.
fn expected(desc: &Json) -> Value {
    let items =
        |d: &Json| -> Vec<Value> { d["v"].as_array().unwrap().iter().map(expected).collect() };
    match desc["t"].as_str().unwrap() {
        "null" => Value::Null,
        "bool" => Value::Boolean(desc["v"].as_bool().unwrap()),
        "int" => Value::Integer(desc["v"].as_str().unwrap().parse().unwrap()),
        "float" => {
            let bits = u64::from_str_radix(desc["bits"].as_str().unwrap(), 16).unwrap();
            Value::Float(f64::from_bits(bits))
        }
        "str" => {
            let s = desc["v"].as_str().unwrap();
            Value::from(s.repeat(repeat(desc).unwrap_or(1)))
        }
        "bytes" => {
            let b = unhex(desc["hex"].as_str().unwrap());
            Value::Bytes(Bytes::from(b.repeat(repeat(desc).unwrap_or(1))))
        }
        "list" => match repeat(desc) {
            Some(n) => Value::List(vec![expected(&desc["of"]); n]),
            None => Value::List(items(desc)),
        },
        "map" => Value::Map(
            desc["v"]
                .as_array()
                .unwrap()
                .iter()
                .map(|kv| (kv[0].as_str().unwrap(), expected(&kv[1])))
                .collect::<Map>(),
        ),
        "struct" => Value::Structure(Structure::new(
            desc["tag"].as_u64().unwrap() as u8,
            items(desc),
        )),
        "nested_list" => {
            let depth = desc["depth"].as_u64().unwrap();
            (1..depth).fold(Value::List(vec![]), |inner, _| Value::List(vec![inner]))
        }
        other => panic!("unknown description type {other}"),
    }
}

/// Maps must keep the packer's key order for the re-encoding to be byte-identical.
fn same_order(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Map(x), Value::Map(y)) => {
            x.keys().eq(y.keys()) && x.values().zip(y.values()).all(|(v, w)| same_order(v, w))
        }
        (Value::List(x), Value::List(y)) => x.iter().zip(y).all(|(v, w)| same_order(v, w)),
        (Value::Structure(x), Value::Structure(y)) => x
            .fields
            .iter()
            .zip(&y.fields)
            .all(|(v, w)| same_order(v, w)),
        _ => true,
    }
}

#[test]
fn python_driver_vectors_decode_and_reencode_identically() {
    let doc = load();
    let vectors = doc["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 300, "only {} vectors", vectors.len());
    let (mut values, mut headers) = (0, 0);
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let bytes = Bytes::from(vector_bytes(v));
        if let Some(header) = v.get("header") {
            // Header-only vectors: our writer must produce the packer's bytes and the pull
            // decoder must read the size back.
            let len = header["len"].as_u64().unwrap() as usize;
            let mut buf = Vec::new();
            let token = match header["kind"].as_str().unwrap() {
                "list" => {
                    encode::write_list_header(&mut buf, len).unwrap();
                    Some(Token::List { len })
                }
                "map" => {
                    encode::write_map_header(&mut buf, len).unwrap();
                    Some(Token::Map { len })
                }
                "string" | "bytes" => {
                    // Our writers take the payload, so compare the header prefix.
                    let kind = header["kind"].as_str().unwrap();
                    if len <= 1 << 17 {
                        if kind == "string" {
                            encode::write_str(&mut buf, &"a".repeat(len)).unwrap();
                        } else {
                            encode::write_bytes(&mut buf, &vec![0; len]).unwrap();
                        }
                        buf.truncate(buf.len() - len);
                    } else {
                        buf = bytes.to_vec();
                    }
                    None
                }
                other => panic!("{name}: unknown header kind {other}"),
            };
            assert_eq!(buf, bytes.as_ref(), "{name}: header bytes differ");
            if let Some(token) = token {
                let mut d = Decoder::new(bytes.clone());
                assert_eq!(d.next_token().unwrap(), token, "{name}");
                assert!(d.is_empty(), "{name}");
            }
            headers += 1;
            continue;
        }
        let want = expected(&v["value"]);
        let got = decode(bytes.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            got.bit_eq(&want),
            "{name}: decoded {got:?}, expected {want:?}"
        );
        assert!(same_order(&got, &want), "{name}: map key order differs");
        let again = to_bytes(&got).unwrap();
        assert!(again == bytes, "{name}: re-encoding differs");
        assert!(
            to_bytes(&want).unwrap() == bytes,
            "{name}: encoding the description differs"
        );
        let mut d = Decoder::new(bytes);
        d.skip_value().unwrap();
        assert!(d.is_empty(), "{name}: skip_value stopped early");
        values += 1;
    }
    assert!(
        values >= 300 && headers >= 30,
        "{values} values, {headers} headers"
    );
}
