//! Decoding throughput on a file of back-to-back PackStream values, for comparison with the
//! official Python driver (`benches/python_compare.py`).
//!
//! ```sh
//! # write the benchmark workloads (records.bin, large.bin, nested.bin) into DIR
//! cargo run --release --example decode_throughput -p quiver-packstream -- --write DIR
//! # decode FILE with the tree and the pull API and print values/s and MB/s
//! cargo run --release --example decode_throughput -p quiver-packstream -- FILE
//! ```
//!
//! Times are thread CPU time on Linux (best round), so a busy machine does not distort them.
//! "Values" counts every PackStream value: each scalar, each container, each map key and each
//! structure field, which is also what `python_compare.py` counts on the Python side.

use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use quiver_packstream::{Decoder, Token};

#[path = "../benches/support/workloads.rs"]
#[allow(dead_code, unreachable_pub)]
mod workloads;

/// Seconds this thread has spent on a CPU (Linux `/proc/thread-self/schedstat`, nanosecond
/// resolution), so figures hold on a shared, loaded machine; `None` elsewhere.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// A clock: thread CPU time where available, else wall-clock time.
fn clock(origin: Instant) -> f64 {
    thread_cpu_seconds().unwrap_or_else(|| origin.elapsed().as_secs_f64())
}

/// Runs `f` in rounds for about `budget` seconds of CPU time, returning the best seconds per
/// call.
fn best_time(budget: f64, mut f: impl FnMut()) -> f64 {
    let origin = Instant::now();
    f(); // warm up
    let mut best = f64::INFINITY;
    let start = clock(origin);
    while clock(origin) - start < budget {
        let round = clock(origin);
        let mut calls = 0u32;
        while clock(origin) - round < budget / 10.0 || calls == 0 {
            f();
            calls += 1;
        }
        best = best.min((clock(origin) - round) / f64::from(calls));
    }
    best
}

fn count_tokens(input: &Bytes) -> Result<usize, quiver_packstream::DecodeError> {
    let mut d = Decoder::new(input.clone());
    let mut n = 0;
    let mut checksum = 0u64;
    while !d.is_empty() {
        // Fold every token into a checksum so nothing is optimised away (cheaper and more
        // realistic than black-boxing each token through memory).
        checksum = checksum.wrapping_add(match d.next_token()? {
            Token::Null => 1,
            Token::Boolean(b) => u64::from(b),
            Token::Integer(i) => i as u64,
            Token::Float(f) => f.to_bits(),
            Token::String(s) => s.len() as u64,
            Token::Bytes(b) => b.len() as u64,
            Token::List { len } | Token::Map { len } => len as u64,
            Token::Structure { tag, len } => u64::from(tag) + len as u64,
        });
        n += 1;
    }
    black_box(checksum);
    Ok(n)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, dir] if flag == "--write" => {
            std::fs::create_dir_all(dir)?;
            for w in workloads::all() {
                let path = std::path::Path::new(dir).join(format!("{}.bin", w.name));
                std::fs::write(&path, &w.bytes)?;
                println!(
                    "wrote {} ({} bytes, {} top-level values)",
                    path.display(),
                    w.bytes.len(),
                    w.values.len()
                );
            }
            Ok(())
        }
        [file] => {
            let input = Bytes::from(std::fs::read(file)?);
            let values = count_tokens(&input)?;
            let mut top_level = 0;
            let mut d = Decoder::new(input.clone());
            while !d.is_empty() {
                d.skip_value()?;
                top_level += 1;
            }
            let mb = input.len() as f64 / 1e6;
            println!(
                "file={file} bytes={} values={values} top_level={top_level}",
                input.len()
            );
            let budget = 2.0;
            let tree = best_time(budget, || {
                let mut d = Decoder::new(input.clone());
                while !d.is_empty() {
                    black_box(d.decode_value().expect("valid input"));
                }
            });
            let pull = best_time(budget, || {
                black_box(count_tokens(&input).expect("valid input"));
            });
            for (mode, secs) in [("tree", tree), ("pull", pull)] {
                println!(
                    "RESULT mode={mode} seconds={secs:.6} values_per_s={:.0} mb_per_s={:.1}",
                    values as f64 / secs,
                    mb / secs
                );
            }
            Ok(())
        }
        _ => Err("usage: decode_throughput FILE | decode_throughput --write DIR".into()),
    }
}
