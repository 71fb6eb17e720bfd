#!/usr/bin/env python3
"""Quiver's codec vs neo4j-rust-ext vs the pure-Python codec, inside the official driver.

    python3 crates/quiver-python/bench/bench.py [--rounds 7] [--scale 0.2] [--codec-only]

The workloads of Neo4j's own rust-ext benchmark (github neo4j-drivers/neo4j-python-driver-rust-ext-bench,
work.py): deserialization `WxL_de` — L records, each one list of W 53-character strings, from
`UNWIND range(1, L) … RETURN [_ IN range(1, W) | '<53 chars>']`; serialization `WxL_se` — `RETURN 1`
with a parameter of L lists of W such strings; sizes 1×1 … 100,000×1 and 1×10 … 1×10,000, each timed
as the total of its repetitions (de 100, se 1,000 there; times `--scale` here, but at least 500 for
workloads of at most 100 strings and 100 for those of at most 1000, which would otherwise take a few
milliseconds) through
`driver.execute_query(..., database_="neo4j")` against the local Neo4j (NEO4J_URI, NEO4J_USER,
NEO4J_PASSWORD). Then the same workloads codec-only, without a server, through the driver's own
Unpacker/Packer as its Inbox/Outbox use them (the RECORD messages' fields with the driver's hydration
hooks; the RUN message with its dehydration hooks), plus one of distinct strings.

One worker process per codec (three venvs with neo4j==6.4.1: alone, + neo4j-rust-ext==6.4.1.0, +
this crate's wheel), driven in interleaved rounds: every round runs every workload on every codec
(codec order rotating), so load on a shared machine falls on all three alike. Reported: the median
over rounds of each total; each ratio is taken within a round (the three codecs measured back to
back) and reported as the median over rounds with its range; the load average at each round's start.
Writes results.csv, results.md and results.png beside this script.
"""

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CRATE = HERE.parent
REPO = CRATE.parent.parent
WORK = REPO / "target" / "quiver-python" / "bench"
STRING = "qwertyuiopasdfghjklzxcvbnmQWERTYUIOPASDFGHJKLZXCVBNMM"
QUERY_DESERIALIZE = f"UNWIND range(1, $length) AS _ RETURN [_ IN range(1, $width) | '{STRING}'] AS x"
QUERY_SERIALIZE = "RETURN 1"

# (name, kind, width, length, repetitions in the original benchmark)
WORKLOADS = [
    *((f"{w}x1_de", "de", w, 1, 100) for w in (1, 10, 100, 1000, 10000, 100000)),
    *((f"1x{l}_de", "de", 1, l, 100) for l in (10, 100, 1000, 10000)),
    *((f"{w}x1_se", "se", w, 1, 1000) for w in (1, 10, 100, 1000, 10000)),
    *((f"1x{l}_se", "se", 1, l, 1000) for l in (10, 100, 1000, 10000)),
]
CODEC_ONLY_EXTRA = [("100000x1_de_distinct", "de_distinct", 100000, 1, 100)]
CODECS = ["pure", "rust-ext", "quiver"]
# Server workloads of at most 100 strings: at least this many queries per measurement (at 0.2 × the
# original's 100 repetitions they would be a few milliseconds of noise); of at most 1000: at least 100.
MIN_SERVER_REPS = 500


# ------------------------------------------------------------------------------------------------
# Worker: runs inside one codec's venv, one JSON command per line on stdin.


def worker():
    import neo4j
    from neo4j._codec.hydration.bolt.v2 import HydrationHandler
    from neo4j._codec.packstream import v1

    driver = None
    scope = HydrationHandler().new_hydration_scope()

    def server_run(kind, width, length, reps):
        nonlocal driver
        if driver is None:
            driver = neo4j.GraphDatabase.driver(
                os.environ["NEO4J_URI"],
                auth=(os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"]),
            )
            driver.verify_connectivity()
        if kind == "de":
            for _ in range(reps):
                driver.execute_query(QUERY_DESERIALIZE, database_="neo4j", width=width, length=length)
        else:
            data = [[STRING] * width] * length
            for _ in range(reps):
                driver.execute_query(QUERY_SERIALIZE, database_="neo4j", data=data)

    def codec_run(kind, width, length, reps):
        if kind.startswith("de"):
            if kind == "de_distinct":
                row = [STRING[:45] + f"{i:08d}" for i in range(width)]
            else:
                row = [STRING] * width
            packed = v1.Packer.new_packable_buffer()
            v1.Packer(packed).pack_struct(b"\x71", [row])  # RECORD [row]
            message = bytes(packed.data)
            buffer = v1.Unpacker.new_unpackable_buffer()
            buffer.data[: len(message)] = message  # as the Inbox receives it
            unpacker = v1.Unpacker(buffer)
            hooks = scope.hydration_hooks
            for _ in range(reps):
                for _ in range(length):
                    buffer.used = len(message)  # the message "arrives" again (same bytes)
                    size, _tag = unpacker.unpack_structure_header()
                    fields = [unpacker.unpack(hooks) for _ in range(size)]
                    unpacker.reset()
            assert fields == [row]
        else:
            data = [[STRING] * width] * length
            buffer = v1.Packer.new_packable_buffer()
            packer = v1.Packer(buffer)
            hooks = scope.dehydration_hooks
            for _ in range(reps):
                # RUN: query, parameters, extra — as the Outbox packs it.
                packer.pack_struct(b"\x10", ("RETURN 1", {"data": data}, {"db": "neo4j"}), hooks)
                buffer.clear()

    print(json.dumps({"agent": neo4j.get_user_agent()}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        run = server_run if command["where"] == "server" else codec_run
        args = command["kind"], command["width"], command["length"]
        run(*args, command["warmup"])
        wall, cpu = time.perf_counter(), time.process_time()
        run(*args, command["reps"])
        print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}), flush=True)
    if driver is not None:
        driver.close()


# ------------------------------------------------------------------------------------------------
# Coordinator.


def sh(*command, **kwargs):
    print("+", " ".join(map(str, command)), flush=True)
    subprocess.run([str(c) for c in command], check=True, **kwargs)


def setup():
    """Three venvs with neo4j==6.4.1: pure, + neo4j-rust-ext==6.4.1.0, + this crate's wheel."""
    wheels = WORK / "wheels"
    for old in wheels.glob("*.whl"):
        old.unlink()
    sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", CRATE, "-w", wheels)
    (wheel,) = wheels.glob("quiver_neo4j_codec-*.whl")
    extra = {"pure": [], "rust-ext": ["neo4j-rust-ext==6.4.1.0"], "quiver": [wheel]}
    pythons = {}
    for codec in CODECS:
        venv = WORK / f"venv-{codec}"
        python = venv / "bin" / "python"
        if not python.exists():
            sh(sys.executable, "-m", "venv", venv)
            sh(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "neo4j==6.4.1", *extra[codec])
        pythons[codec] = python
    sh(pythons["quiver"], "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
       "--force-reinstall", "--no-deps", wheel)
    return pythons


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--scale", type=float, default=0.2,
                        help="repetitions relative to the original benchmark's (default 0.2)")
    parser.add_argument("--codec-only", action="store_true", help="skip the server workloads")
    args = parser.parse_args()
    missing = [v for v in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD") if v not in os.environ]
    if missing and not args.codec_only:
        sys.exit(f"{', '.join(missing)} not set (`cargo xtask server start neo4j-5`, then "
                 "`cargo xtask server env neo4j-5`), or use --codec-only")

    pythons = setup()
    workers = {
        codec: subprocess.Popen([python, __file__, "--worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        for codec, python in pythons.items()
    }
    for codec, process in workers.items():
        agent = json.loads(process.stdout.readline())["agent"]
        print(f"{codec}: {agent}", flush=True)
        expected = "Python-Rust/" if codec != "pure" else "Python/"
        assert expected in agent, (codec, agent)

    plan = []
    if not args.codec_only:
        plan += [("server", *w) for w in WORKLOADS]
    plan += [("codec", *w) for w in WORKLOADS + CODEC_ONLY_EXTRA]
    results = {}  # (where, name, codec) -> [(wall, cpu)], one per round
    loads = []  # 1-minute load average at the start of each round
    started = time.monotonic()
    for round_ in range(args.rounds):
        loads.append(os.getloadavg()[0])
        for where, name, kind, width, length, reps in plan:
            if where == "codec":
                # Codec-only: about 1,000,000 strings per measurement (at most 100,000 messages).
                reps = max(1, min(100_000 // length, 1_000_000 // (width * length)))
            else:
                reps = round(reps * args.scale)
                if width * length <= 100:
                    reps = max(reps, MIN_SERVER_REPS)
                elif width * length <= 1000:
                    reps = max(reps, 100)
            command = {"where": where, "kind": kind, "width": width, "length": length,
                       "reps": reps, "warmup": max(1, reps // 5)}
            order = CODECS[round_ % 3:] + CODECS[: round_ % 3]
            for codec in order:
                workers[codec].stdin.write(json.dumps(command) + "\n")
                workers[codec].stdin.flush()
                outcome = json.loads(workers[codec].stdout.readline())
                results.setdefault((where, name, codec), []).append((outcome["wall"], outcome["cpu"]))
            print(f"round {round_ + 1}/{args.rounds} {where:6} {name:22}"
                  + "".join(f" {c} {results[(where, name, c)][-1][0]:8.3f}s" for c in CODECS),
                  flush=True)
    for process in workers.values():
        process.stdin.close()
        process.wait()
    report(plan, results, loads, args, time.monotonic() - started)


def report(plan, results, loads, args, elapsed):
    """Server workloads are compared by wall time (what a user waits for, server time included),
    codec-only ones by the worker's CPU time (the same work, less disturbed by other load). A ratio
    is computed per round, from the three codecs' back-to-back measurements, then its median taken."""
    rows = []
    for where, name, *_ in plan:
        rounds = {c: results[(where, name, c)] for c in CODECS}
        main_i, other_i = (0, 1) if where == "server" else (1, 0)

        def ratios(slow, fast, i):
            return [s[i] / f[i] for s, f in zip(rounds[slow], rounds[fast])]

        versus = ratios("rust-ext", "quiver", main_i)
        rows.append({
            "where": where, "workload": name,
            **{f"{c} s": f"{statistics.median(m[main_i] for m in rounds[c]):.4f}" for c in CODECS},
            "quiver vs rust-ext": f"{statistics.median(versus):.2f}",
            "quiver vs rust-ext min": f"{min(versus):.2f}",
            "quiver vs rust-ext max": f"{max(versus):.2f}",
            "quiver vs pure": f"{statistics.median(ratios('pure', 'quiver', main_i)):.2f}",
            "rust-ext vs pure": f"{statistics.median(ratios('pure', 'rust-ext', main_i)):.2f}",
            "other metric: quiver vs rust-ext":
                f"{statistics.median(ratios('rust-ext', 'quiver', other_i)):.2f}",
            "other metric: quiver vs pure": f"{statistics.median(ratios('pure', 'quiver', other_i)):.2f}",
            "other metric: rust-ext vs pure":
                f"{statistics.median(ratios('pure', 'rust-ext', other_i)):.2f}",
        })
    with open(HERE / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with open(HERE / "results.md", "w") as f:
        f.write(f"{args.rounds} interleaved rounds ({elapsed / 60:.0f} min) on {os.cpu_count()} CPUs; "
                "1-minute load average at the start of each round: "
                + ", ".join(f"{load:.1f}" for load in loads)
                + f". Server workloads: wall time of {args.scale} × the original benchmark's "
                f"repetitions, at least {MIN_SERVER_REPS} queries for workloads of at most 100 strings and 100 for those of at most 1000 (last column: the client's CPU time); "
                "codec-only: the worker's CPU time for about 1,000,000 strings (at most 100,000 "
                "messages) (last column: wall time). Times: medians over rounds. Ratios (> 1: the "
                "first is faster): computed within each round, median over rounds; for Quiver vs "
                "neo4j-rust-ext also the lowest and highest round.\n\n")
        f.write("| where | workload | pure s | rust-ext s | quiver s | quiver vs rust-ext | "
                "(rounds: min–max) | quiver vs pure | rust-ext vs pure | "
                "other metric: quiver vs rust-ext |\n")
        f.write("|---|---|---|---|---|---|---|---|---|---|\n")
        for r in rows:
            f.write(f"| {r['where']} | {r['workload']} | {r['pure s']} | {r['rust-ext s']} | "
                    f"{r['quiver s']} | **{r['quiver vs rust-ext']}** | "
                    f"{r['quiver vs rust-ext min']}–{r['quiver vs rust-ext max']} | "
                    f"{r['quiver vs pure']} | {r['rust-ext vs pure']} | "
                    f"{r['other metric: quiver vs rust-ext']} |\n")
    print((HERE / "results.md").read_text())
    chart(rows)


def chart(rows):
    try:
        import matplotlib
    except ImportError:
        print("matplotlib not installed: no chart (pip install matplotlib)")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    if any(r["where"] == "server" for r in rows):
        panels += [
            ("server", "", "end to end, execute_query against Neo4j 5.26: wall time"),
            ("server", "other metric: ", "end to end, execute_query against Neo4j 5.26: client CPU time"),
        ]
    panels.append(("codec", "", "codec only: the driver's Unpacker/Packer, no server: CPU time"))
    fig, axes = plt.subplots(len(panels), 1, figsize=(13, 4.3 * len(panels)), squeeze=False)
    for ax, (where, metric, title) in zip(axes[:, 0], panels):
        part = [r for r in rows if r["where"] == where]
        x = range(len(part))
        ax.bar([i - 0.2 for i in x], [float(r[f"{metric}rust-ext vs pure"]) for r in part], 0.4,
               label="neo4j-rust-ext 6.4.1.0", color="#8da0cb")
        ax.bar([i + 0.2 for i in x], [float(r[f"{metric}quiver vs pure"]) for r in part], 0.4,
               label="Quiver (quiver-python)", color="#fc8d62")
        ax.axhline(1, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xticks(list(x))
        ax.set_xticklabels([r["workload"] for r in part], rotation=45, ha="right")
        ax.set_ylabel("speed-up over pure Python (×, log)")
        ax.set_title(f"neo4j 6.4.1 Python driver, {title}")
        ax.legend()
        ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(HERE / "results.png", dpi=100)
    print(f"chart: {HERE / 'results.png'}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        worker()
    else:
        main()
