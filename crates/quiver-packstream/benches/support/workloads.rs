//! The benchmark workloads, shared by the criterion bench and the `decode_throughput` example
//! (which writes them to files for `python_compare.py`). Each workload is a sequence of
//! top-level PackStream values, like the messages of a Bolt stream.

use quiver_packstream::{Map, Structure, Value, encode_value};

/// A named workload: the values and their encoding.
pub struct Workload {
    /// Short name, also the file stem.
    pub name: &'static str,
    /// The top-level values.
    pub values: Vec<Value>,
    /// All values encoded back to back.
    pub bytes: Vec<u8>,
}

fn workload(name: &'static str, values: Vec<Value>) -> Workload {
    let mut bytes = Vec::new();
    for v in &values {
        encode_value(&mut bytes, v).expect("workload values are encodable");
    }
    Workload {
        name,
        values,
        bytes,
    }
}

/// (a) 10,000 Bolt RECORD messages, each a list of 8 mixed scalars.
pub fn records() -> Workload {
    let values = (0..10_000i64)
        .map(|i| {
            Value::Structure(Structure::new(
                0x71,
                vec![Value::List(vec![
                    Value::Integer(i),
                    Value::Integer(i.wrapping_mul(1_000_003)),
                    Value::Float(i as f64 * 0.25),
                    Value::from(format!("user-{i}")),
                    Value::from("Person"),
                    Value::Boolean(i % 2 == 0),
                    Value::Null,
                    Value::Integer(-(i % 200)),
                ])],
            ))
        })
        .collect();
    workload("records", values)
}

/// (b) 32 strings and 32 byte arrays of 64 KiB each.
pub fn large() -> Workload {
    let text: String = "The quick brown fox jumps over the lazy dog. "
        .chars()
        .cycle()
        .take(64 * 1024)
        .collect();
    let blob: Vec<u8> = (0..64 * 1024).map(|i: u32| (i * 7 % 251) as u8).collect();
    let values = (0..32)
        .flat_map(|_| {
            [
                Value::from(text.as_str()),
                Value::Bytes(bytes::Bytes::from(blob.clone())),
            ]
        })
        .collect();
    workload("large", values)
}

/// (c) 200 maps nested 48 levels deep, each level with three scalar entries and the child.
pub fn nested() -> Workload {
    let values = (0..200i64)
        .map(|i| {
            let mut inner = Value::Map(Map::new());
            for level in 0..48i64 {
                let mut m = Map::with_capacity(4);
                m.insert("level", Value::Integer(level));
                m.insert("name", Value::from("node"));
                m.insert("weight", Value::Float((i + level) as f64));
                m.insert("child", inner);
                inner = Value::Map(m);
            }
            inner
        })
        .collect();
    workload("nested", values)
}

/// All workloads.
pub fn all() -> Vec<Workload> {
    vec![records(), large(), nested()]
}
