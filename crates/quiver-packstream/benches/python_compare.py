#!/usr/bin/env python3
"""Decode the benchmark workloads with the official Neo4j Python driver and compare with Quiver.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install neo4j neo4j-rust-ext
    /tmp/venv/bin/python crates/quiver-packstream/benches/python_compare.py [DIR]

Steps:
1. `cargo run --release --example decode_throughput -p quiver-packstream -- --write DIR` writes
   the workloads (records.bin, large.bin, nested.bin: back-to-back PackStream values).
2. Each file is decoded with the driver's pure-Python unpacker and with the neo4j-rust-ext
   unpacker (the driver's default when installed), best of several rounds.
3. `cargo run --release --example decode_throughput -p quiver-packstream -- FILE` decodes the
   same file with Quiver's tree API and pull API.
4. Prints values/s and MB/s for each, and Quiver's speed-up over each Python decoder.

"Values" counts every PackStream value (scalars, containers, map keys, structure fields) on
both sides. Times are thread CPU time, best of several rounds. The Python figures include building Python objects, which is what the driver does;
Quiver's tree figure includes building `Value` trees, its pull figure builds nothing.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from neo4j._codec.packstream import Structure
from neo4j._codec.packstream._common import UnpackableBuffer
from neo4j._codec.packstream.v1 import Unpacker

try:
    from neo4j._rust.codec.packstream.v1 import unpack as rust_unpack
except ImportError:
    rust_unpack = None

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = ["cargo", "run", "--quiet", "--release", "--example", "decode_throughput",
           "-p", "quiver-packstream", "--"]
BUDGET_S = 3.0


def count_values(value):
    if isinstance(value, list):
        return 1 + sum(count_values(v) for v in value)
    if isinstance(value, dict):
        return 1 + sum(1 + count_values(v) for v in value.values())
    if isinstance(value, Structure):
        return 1 + sum(count_values(v) for v in value.fields)
    return 1


def decode_all_python(data):
    buf = UnpackableBuffer(data)
    unpacker = Unpacker(buf)
    out = []
    while buf.p < buf.used:
        out.append(unpacker._unpack())  # the pure-Python implementation
    return out


def decode_all_rust(data):
    out = []
    p = 0
    data = bytearray(data)
    while p < len(data):
        value, p = rust_unpack(data, p, None)
        out.append(value)
    return out


def best_time(fn, data):
    """Best seconds per call, in thread CPU time (like the Rust side), so a loaded machine
    does not distort the comparison."""
    fn(data)  # warm up
    best = float("inf")
    start = time.thread_time()
    while time.thread_time() - start < BUDGET_S:
        t = time.thread_time()
        fn(data)
        best = min(best, time.thread_time() - t)
    return best


def quiver(path):
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", str(REPO / "target"))
    out = subprocess.run(EXAMPLE + [str(path)], cwd=REPO, env=env, check=True,
                         capture_output=True, text=True).stdout
    results = {}
    for m in re.finditer(r"RESULT mode=(\w+) seconds=([\d.]+)", out):
        results[m.group(1)] = float(m.group(2))
    values = int(re.search(r"values=(\d+)", out).group(1))
    return values, results


def main():
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="packstream-bench-"))
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", str(REPO / "target"))
    subprocess.run(EXAMPLE + ["--write", str(out_dir)], cwd=REPO, env=env, check=True)
    if rust_unpack is None:
        print("neo4j-rust-ext is not installed: only the pure-Python decoder is measured")

    rows = []
    for name in ("records", "large", "nested"):
        path = out_dir / f"{name}.bin"
        data = path.read_bytes()
        decoded = decode_all_python(data)
        values = sum(count_values(v) for v in decoded)
        if rust_unpack is not None:
            assert decode_all_rust(data) == decoded, "the two Python decoders disagree"
        q_values, q = quiver(path)
        assert q_values == values, f"{name}: Quiver counts {q_values} values, Python {values}"
        timings = {"python (pure)": best_time(decode_all_python, data)}
        if rust_unpack is not None:
            timings["python (neo4j-rust-ext)"] = best_time(decode_all_rust, data)
        timings["quiver tree"] = q["tree"]
        timings["quiver pull"] = q["pull"]
        mb = len(data) / 1e6
        print(f"\n{name}: {len(data):,} bytes, {values:,} values")
        print(f"  {'decoder':<26}{'values/s':>14}{'MB/s':>10}")
        for label, secs in timings.items():
            print(f"  {label:<26}{values / secs:>14,.0f}{mb / secs:>10.1f}")
        for ours in ("quiver tree", "quiver pull"):
            for theirs in ("python (pure)", "python (neo4j-rust-ext)"):
                if theirs in timings:
                    ratio = timings[theirs] / timings[ours]
                    print(f"  {ours} vs {theirs}: {ratio:.1f}x faster")
                    rows.append((name, ours, theirs, ratio))
    ext = [r for r in rows if r[2] == "python (neo4j-rust-ext)"]
    if ext:
        worst = min(ext, key=lambda r: r[3])
        print(f"\nslowest ratio against neo4j-rust-ext: {worst[3]:.1f}x ({worst[0]}, {worst[1]}); target is 5x")


if __name__ == "__main__":
    main()
