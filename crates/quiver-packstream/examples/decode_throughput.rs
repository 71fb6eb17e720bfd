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
//! "Values" counts every PackStream value: each scalar, each container, each map key and each
//! structure field, which is also what `python_compare.py` counts on the Python side.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use quiver_packstream::{Decoder, Token};

#[path = "../benches/support/workloads.rs"]
#[allow(dead_code, unreachable_pub)]
mod workloads;

/// Runs `f` repeatedly for about `budget` in rounds, returning the best seconds per call.
fn best_time(budget: Duration, mut f: impl FnMut()) -> f64 {
    f(); // warm up
    let mut best = f64::INFINITY;
    let start = Instant::now();
    while start.elapsed() < budget {
        let round = Instant::now();
        let mut calls = 0u32;
        while round.elapsed() < budget / 10 || calls == 0 {
            f();
            calls += 1;
        }
        best = best.min(round.elapsed().as_secs_f64() / f64::from(calls));
    }
    best
}

fn count_tokens(input: &Bytes) -> Result<usize, quiver_packstream::DecodeError> {
    let mut d = Decoder::new(input.clone());
    let mut n = 0;
    while !d.is_empty() {
        match d.next_token()? {
            Token::String(s) => {
                black_box(s.len());
            }
            Token::Bytes(b) => {
                black_box(b.len());
            }
            other => {
                black_box(other);
            }
        }
        n += 1;
    }
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
            let budget = Duration::from_secs(2);
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
