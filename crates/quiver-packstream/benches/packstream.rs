//! Criterion benchmarks: encode, tree decode, pull decode and skip for three workloads
//! (small records, large strings/bytes, deeply nested maps). Run with
//! `cargo bench -p quiver-packstream`.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quiver_packstream::{Decoder, Token, encode_value};

#[path = "support/workloads.rs"]
#[allow(dead_code, unreachable_pub)]
mod workloads;

/// Pulls every token, touching strings and bytes, and returns how many there were.
fn pull_all(input: &Bytes) -> usize {
    let mut d = Decoder::new(input.clone());
    let mut tokens = 0;
    let mut checksum = 0u64;
    while !d.is_empty() {
        // Fold every token into a checksum so nothing is optimised away (cheaper and more
        // realistic than black-boxing each token through memory).
        checksum = checksum.wrapping_add(match d.next_token().expect("valid input") {
            Token::Null => 1,
            Token::Boolean(b) => u64::from(b),
            Token::Integer(i) => i as u64,
            Token::Float(f) => f.to_bits(),
            Token::String(s) => s.len() as u64,
            Token::Bytes(b) => b.len() as u64,
            Token::List { len } | Token::Map { len } => len as u64,
            Token::Structure { tag, len } => u64::from(tag) + len as u64,
        });
        tokens += 1;
    }
    black_box(checksum);
    tokens
}

fn benches(c: &mut Criterion) {
    for w in workloads::all() {
        let input = Bytes::from(w.bytes.clone());
        let mut group = c.benchmark_group(w.name);
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function("encode", |b| {
            let mut buf = Vec::with_capacity(input.len());
            b.iter(|| {
                buf.clear();
                for v in &w.values {
                    encode_value(&mut buf, v).unwrap();
                }
                black_box(buf.len())
            })
        });
        group.bench_function("decode_tree", |b| {
            b.iter(|| {
                let mut d = Decoder::new(input.clone());
                while !d.is_empty() {
                    black_box(d.decode_value().unwrap());
                }
            })
        });
        group.bench_function("decode_pull", |b| b.iter(|| pull_all(&input)));
        group.bench_function("skip", |b| {
            b.iter(|| {
                let mut d = Decoder::new(input.clone());
                while !d.is_empty() {
                    d.skip_value().unwrap();
                }
            })
        });
        group.finish();
    }
}

criterion_group!(packstream, benches);
criterion_main!(packstream);
