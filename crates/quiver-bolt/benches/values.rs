//! Throughput of value decoding/encoding on the hot path: RECORD field lists.
//!
//! `cargo bench -p quiver-bolt --bench values` (plain timing loop, no harness dependency). Prints
//! records/s and MB/s for each workload, next to quiver-packstream's own tree decoder on the same
//! bytes as a reference; the core's target is ≥ 3 M records/s of three small fields on one core.
//! Each timed run is short (1000 records) and the best run counts, so that a busy machine
//! preempting us mid-run distorts the figures less. Without `--bench` (as under `cargo test
//! --all-targets`) it only checks that the workloads decode.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use quiver_bolt::value::{DateTime, Map, Value, ValueContext, decode_value, encode_value};
use quiver_packstream::Decoder;

const RECORDS: usize = 1_000;

fn small_record(i: usize) -> Value {
    Value::List(vec![
        Value::Integer(i as i64),
        Value::from(format!("name-{}", i % 1000)),
        Value::Float(i as f64 * 0.5),
    ])
}

/// Ten mixed fields, including a map, a date-time and a small list.
fn wide_record(i: usize) -> Value {
    let mut props = Map::new();
    props.insert("id", i as i64);
    props.insert("active", i % 2 == 0);
    Value::List(vec![
        Value::Integer(i as i64),
        Value::from("some longer string value that is not tiny"),
        Value::Float(1.25),
        Value::Boolean(true),
        Value::Null,
        Value::Map(props),
        Value::DateTime(DateTime {
            seconds: 1_700_000_000 + i as i64,
            nanoseconds: 0,
            tz_offset_seconds: 3600,
        }),
        Value::from(vec![1, 2, 3]),
        Value::Integer(-1_000_000),
        Value::from("x"),
    ])
}

/// The wire form of a node-returning query: decoding only (nodes cannot be encoded as
/// parameters), so the bytes are written by hand.
fn node_record_bytes(i: usize) -> Vec<u8> {
    let mut out = vec![0x91, 0xB4, 0x4E];
    out.extend_from_slice(&[0xCA]);
    out.extend_from_slice(&(i as i32).to_be_bytes());
    out.extend_from_slice(&[0x91, 0x86]);
    out.extend_from_slice(b"Person");
    out.extend_from_slice(&[0xA2, 0x84]);
    out.extend_from_slice(b"name");
    out.extend_from_slice(&[0x83]);
    out.extend_from_slice(b"Ann");
    out.extend_from_slice(&[0x83]);
    out.extend_from_slice(b"age");
    out.push(0x2A);
    let element_id = format!("4:abc:{i}");
    out.push(0x80 | element_id.len() as u8);
    out.extend_from_slice(element_id.as_bytes());
    out
}

fn encode_all(records: &[Value], ctx: &ValueContext) -> Bytes {
    let mut buf = BytesMut::new();
    for record in records {
        encode_value(&mut buf, record, ctx).expect("bench values encode");
    }
    buf.freeze()
}

/// Runs `f` repeatedly for about `budget`, returns the best time of one run.
fn best_of(budget: Duration, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    let mut best = Duration::MAX;
    while start.elapsed() < budget {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
    }
    best
}

fn report(name: &str, records: usize, bytes: usize, time: Duration) {
    let secs = time.as_secs_f64();
    println!(
        "{name:<44} {:>7.2} M records/s {:>8.1} MB/s  ({records} records, {bytes} bytes, {:.3} ms)",
        records as f64 / secs / 1e6,
        bytes as f64 / secs / 1e6,
        secs * 1e3
    );
}

fn bench_decode(name: &str, wire: &Bytes, records: usize, ctx: &ValueContext) {
    let time = best_of(Duration::from_secs(2), || {
        let mut dec = Decoder::new(wire.clone());
        for _ in 0..records {
            black_box(decode_value(&mut dec, ctx).expect("bench bytes decode"));
        }
    });
    report(name, records, wire.len(), time);
}

fn bench_encode(name: &str, values: &[Value], ctx: &ValueContext) {
    let size = encode_all(values, ctx).len();
    let mut buf = BytesMut::with_capacity(size);
    let time = best_of(Duration::from_secs(2), || {
        buf.clear();
        for value in values {
            encode_value(&mut buf, value, ctx).expect("bench values encode");
        }
        black_box(&buf);
    });
    report(name, values.len(), size, time);
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test --all-targets`) is a quick
    // smoke run.
    let quick = !std::env::args().any(|a| a == "--bench");
    let records = if quick { 10 } else { RECORDS };
    let ctx = ValueContext::for_version(5, 8, false);

    let small: Vec<Value> = (0..records).map(small_record).collect();
    let wide: Vec<Value> = (0..records).map(wide_record).collect();
    let small_wire = encode_all(&small, &ctx);
    let wide_wire = encode_all(&wide, &ctx);
    let node_wire = Bytes::from(
        (0..records)
            .flat_map(node_record_bytes)
            .collect::<Vec<u8>>(),
    );
    if quick {
        let mut dec = Decoder::new(node_wire);
        for _ in 0..records {
            let record = decode_value(&mut dec, &ctx).expect("node record decodes");
            assert!(matches!(record.as_list(), Some([Value::Node(_)])));
        }
        return;
    }

    for (name, wire) in [
        ("[int, str, float]", &small_wire),
        ("10 mixed fields", &wide_wire),
        ("[node]", &node_wire),
    ] {
        let time = best_of(Duration::from_secs(1), || {
            let mut dec = Decoder::new(wire.clone());
            for _ in 0..records {
                black_box(dec.decode_value().expect("bench bytes decode"));
            }
        });
        report(
            &format!("(reference) packstream tree {name}"),
            records,
            wire.len(),
            time,
        );
    }

    bench_decode("decode [int, str, float]", &small_wire, records, &ctx);
    bench_decode("decode 10 mixed fields", &wide_wire, records, &ctx);
    bench_decode("decode [node]", &node_wire, records, &ctx);
    bench_encode("encode [int, str, float]", &small, &ctx);
    bench_encode("encode 10 mixed fields", &wide, &ctx);
}
