//! Dechunk + decode + hydrate throughput of a 100,000-record PULL stream through the whole
//! `Connection` (input buffering, chunk reassembly, PackStream decoding, typed values, request
//! matching, events). Records have three small fields: an int, a short string and a two-element
//! list — `RECORD [i, "short string", [i, "a"]]`. The stream is fed in 64 KiB reads, as a socket
//! would deliver it, and every event is drained.
//!
//! The same with `raw_records` (validated on arrival, field 0 decoded by the reader): `_raw`.
//!
//! Run: `cargo bench -p quiver-bolt --bench records`. Criterion reports records/s (the
//! `records` group) and bytes/s (the `bytes` group) for the same work.

use std::hint::black_box;
use std::time::Instant;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quiver_bolt::chunk::write_chunked;
use quiver_bolt::value::Map;
use quiver_bolt::*;
use quiver_packstream::encode;

const RECORDS: usize = 100_000;
const READ_SIZE: usize = 64 * 1024;

/// The server's bytes: 100,000 RECORDs and the final SUCCESS, chunked.
fn stream() -> Vec<u8> {
    let mut out = BytesMut::new();
    let mut msg = BytesMut::new();
    for i in 0..RECORDS as i64 {
        msg.clear();
        encode::write_struct_header(&mut msg, 0x71, 1).unwrap();
        encode::write_list_header(&mut msg, 3).unwrap();
        encode::write_int(&mut msg, i);
        encode::write_str(&mut msg, "short string").unwrap();
        encode::write_list_header(&mut msg, 2).unwrap();
        encode::write_int(&mut msg, i);
        encode::write_str(&mut msg, "a").unwrap();
        write_chunked(&msg, &mut out);
    }
    write_chunked(b"\xb1\x70\xa1\x84type\x81r", &mut out);
    out.to_vec()
}

/// A Bolt 5.8 connection with RUN answered and PULL {n: -1} in flight; with `raw_records`, records
/// come validated but undecoded.
fn streaming(raw_records: bool) -> Connection {
    let now = Instant::now();
    let config = ConnectionConfig::default().with_raw_records(raw_records);
    let mut conn = Connection::new(config, now);
    let _ = conn.poll_transmit();
    conn.handle_input(&[0, 0, 8, 5], now).unwrap();
    conn.send(Request::Hello(Hello::new(AuthToken::none())))
        .unwrap();
    conn.handle_input(
        b"\x00\x03\xb1\x70\xa0\x00\x00\x00\x03\xb1\x70\xa0\x00\x00",
        now,
    )
    .unwrap();
    conn.send(Request::run(
        "UNWIND range(1, 100000) AS i RETURN i, 'short string', [i, 'a']",
        Map::new(),
    ))
    .unwrap();
    conn.send(Request::pull_all()).unwrap();
    let _ = conn.poll_transmit();
    conn.handle_input(
        b"\x00\x11\xb1\x70\xa1\x86fields\x93\x81a\x81b\x81c\x00\x00",
        now,
    )
    .unwrap();
    while conn.poll_event().is_some() {}
    conn
}

fn consume(template: &Connection, wire: &[u8]) -> usize {
    let now = Instant::now();
    let mut conn = template.clone();
    let mut records = 0;
    for read in wire.chunks(READ_SIZE) {
        conn.handle_input(read, now).unwrap();
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Record { fields, .. } => {
                    black_box(&fields);
                    records += 1;
                }
                Event::RawRecord { record, .. } => {
                    // What a typical reader does: one typed field.
                    black_box(record.field(0));
                    records += 1;
                }
                _ => {}
            }
        }
    }
    assert_eq!(conn.server_state(), ServerState::Ready);
    records
}

/// CPU time of this thread in nanoseconds (Linux `/proc/thread-self/schedstat`), if available.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// The same records decoded without the connection: messages already split, each decoded with
/// `value::decode_value` — the floor the connection's own work is compared against.
fn bare_decode(messages: &[bytes::Bytes]) -> usize {
    let ctx = value::ValueContext::for_version(5, 8, false);
    let mut n = 0;
    for m in messages {
        let mut dec = quiver_packstream::Decoder::new(m.clone());
        let _ = dec.read_struct_header().unwrap();
        black_box(value::decode_value(&mut dec, &ctx).unwrap());
        n += 1;
    }
    n
}

/// CPU seconds of `rounds` runs of `f`.
fn cpu_seconds(rounds: usize, mut f: impl FnMut() -> usize) -> Option<f64> {
    let start = thread_cpu_ns()?;
    for _ in 0..rounds {
        black_box(f());
    }
    Some((thread_cpu_ns()? - start) as f64 / 1e9)
}

/// Wall-clock numbers lie on a loaded machine; this prints throughput per second of CPU time
/// actually spent on this thread (on Linux), next to criterion's wall-clock figures, and the
/// connection's overhead over bare value decoding of the same records, measured in the same run.
fn cpu_time_figures(template: &Connection, raw_template: &Connection, wire: &[u8]) {
    let rounds = 20;
    let mut dechunker = chunk::Dechunker::new(usize::MAX);
    dechunker.extend(wire);
    let mut messages = Vec::new();
    while let Some(m) = dechunker.next_message().unwrap() {
        messages.push(m);
    }
    messages.pop(); // the final SUCCESS
    let wall = Instant::now();
    let Some(cpu_s) = cpu_seconds(rounds, || consume(template, wire)) else {
        return;
    };
    let Some(bare_s) = cpu_seconds(rounds, || bare_decode(&messages)) else {
        return;
    };
    let Some(raw_s) = cpu_seconds(rounds, || consume(raw_template, wire)) else {
        return;
    };
    let records = (rounds * RECORDS) as f64;
    let bytes = (rounds * wire.len()) as f64;
    println!(
        "cpu-time: {:.2} M records/s, {:.1} MB/s ({} records of {} bytes on the wire, {:.3} s CPU, {:.3} s wall)",
        records / cpu_s / 1e6,
        bytes / cpu_s / 1e6,
        RECORDS,
        wire.len() / RECORDS,
        cpu_s,
        wall.elapsed().as_secs_f64()
    );
    println!(
        "cpu-time: bare value decoding of the same records: {:.2} M records/s; the connection adds {:.0}%",
        records / bare_s / 1e6,
        (cpu_s / bare_s - 1.0) * 100.0
    );
    println!(
        "cpu-time: raw records (validated, field 0 decoded): {:.2} M records/s, {:.2}x the decoded ones",
        records / raw_s / 1e6,
        cpu_s / raw_s
    );
}

fn bench(c: &mut Criterion) {
    let wire = stream();
    let template = streaming(false);
    let raw_template = streaming(true);
    assert_eq!(consume(&template, &wire), RECORDS);
    assert_eq!(consume(&raw_template, &wire), RECORDS);
    cpu_time_figures(&template, &raw_template, &wire);
    for (group, throughput) in [
        ("records", Throughput::Elements(RECORDS as u64)),
        ("bytes", Throughput::Bytes(wire.len() as u64)),
    ] {
        let mut g = c.benchmark_group(group);
        g.sample_size(20);
        g.throughput(throughput);
        g.bench_function("pull_100k_int_str_list", |b| {
            b.iter(|| consume(&template, &wire))
        });
        g.bench_function("pull_100k_int_str_list_raw", |b| {
            b.iter(|| consume(&raw_template, &wire))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
