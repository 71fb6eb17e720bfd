//! The peer side of the harness protocol, shared by every Rust peer (Quiver's, and — included by
//! path — the third-party drivers' in `peers/`, a separate Cargo workspace).
//!
//! A peer is a program that runs one workload once and exits:
//! `<peer> <workload> <count> <warmup> <concurrency> <persons>` with `NEO4J_URI`, `NEO4J_USER` and
//! `NEO4J_PASSWORD` in the environment. Workloads (the same Cypher in every language, see
//! [`Cypher`]):
//!
//! - `return1`: `count` lock-step `RETURN 1` auto-commit queries on one session, after `warmup` more;
//! - `stream`: one auto-commit query streaming `count` rows of int + string + map, every field
//!   read, after `warmup` such streams;
//! - `tx-read` / `tx-write`: `concurrency` concurrent transaction functions (`execute_read` /
//!   `execute_write`), each reading (or updating) one random `:QuiverBenchPerson` by its indexed
//!   `id` in `0..persons`, for `count` milliseconds after `warmup` milliseconds;
//! - `connect`: a new driver, connect, the first `RETURN 1` (count and warmup unused).
//!
//! Right after the measured phase the peer prints one line, [`Report::print_and_exit`], and exits at once,
//! without tearing anything down: the harness takes the process's whole CPU time from `wait4`
//! (the kernel's rusage of the reaped child, µs resolution) and subtracts what the peer had used
//! before the phase began (`cpu_start_us`, its own rusage at that moment, the same counters).

use std::time::Duration;

/// The workloads' Cypher, byte for byte the same in every peer.
pub struct Cypher;

impl Cypher {
    /// `return1` and `connect`.
    pub const RETURN_1: &'static str = "RETURN 1";
    /// `stream`, with `$rows`.
    pub const STREAM: &'static str = "UNWIND range(1, $rows) AS i RETURN i, 'name-' + toString(i) AS s, {id: i, tag: 'row'} AS m";
    /// `tx-read`, with `$id`.
    pub const READ_PERSON: &'static str =
        "MATCH (p:QuiverBenchPerson {id: $id}) RETURN p.name AS name, p.age AS age";
    /// `tx-write`, with `$id`.
    pub const WRITE_PERSON: &'static str =
        "MATCH (p:QuiverBenchPerson {id: $id}) SET p.score = p.score + 1 RETURN p.score AS score";
}

/// One workload run, parsed from the command line.
pub struct Args {
    /// `return1`, `stream`, `tx-read`, `tx-write` or `connect`.
    pub workload: String,
    /// Queries, rows or milliseconds (see the module docs).
    pub count: u64,
    /// Queries, streams or milliseconds of warm-up.
    pub warmup: u64,
    /// Concurrent transaction functions (`tx-*`).
    pub concurrency: u64,
    /// `:QuiverBenchPerson` ids are `0..persons`.
    pub persons: u64,
    pub uri: String,
    pub user: String,
    pub password: String,
}

impl Args {
    /// Parses `<workload> <count> <warmup> <concurrency> <persons>` from `args` (after any
    /// peer-specific leading arguments) and the server from the environment.
    pub fn parse(mut args: impl Iterator<Item = String>) -> Args {
        let workload = args.next().unwrap_or_else(|| usage("no workload"));
        let mut number = |what: &str| -> u64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage(&format!("missing or invalid {what}")))
        };
        let (count, warmup, concurrency, persons) = (
            number("count"),
            number("warmup"),
            number("concurrency"),
            number("persons"),
        );
        let env =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
        Args {
            workload,
            count,
            warmup,
            concurrency,
            persons,
            uri: env("NEO4J_URI", "bolt://127.0.0.1:7687"),
            user: env("NEO4J_USER", "neo4j"),
            password: env("NEO4J_PASSWORD", "quiver-test-password"),
        }
    }
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "{problem}\nusage: <peer> <return1|stream|tx-read|tx-write|connect> <count> <warmup> <concurrency> <persons>"
    );
    std::process::exit(2)
}

/// User + system CPU time this process has used so far, all threads (getrusage, µs resolution).
pub fn cpu_now() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(usage) => {
            let (user, system) = (usage.user_time(), usage.system_time());
            let us = |t: nix::sys::time::TimeVal| {
                Duration::from_micros((t.tv_sec() as u64) * 1_000_000 + t.tv_usec() as u64)
            };
            us(user) + us(system)
        }
        Err(_) => Duration::ZERO,
    }
}

/// Peak resident memory of this process in KiB (`VmHWM`), 0 where /proc has none.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// What a peer tells the harness about its measured phase.
pub struct Report {
    /// Queries, rows or transactions done in the phase (1 for `connect`).
    pub units: u64,
    /// Wall time of the phase.
    pub wall: Duration,
    /// This process's CPU time when the phase began.
    pub cpu_start: Duration,
}

impl Report {
    /// Prints the report line and exits at once (no teardown: whatever follows the phase would
    /// be counted in the process's CPU time).
    pub fn print_and_exit(self) -> ! {
        let cpu_end = cpu_now();
        println!(
            "QUIVER-BENCH units={} wall_ns={} cpu_start_us={} cpu_end_us={} hwm_kb={}",
            self.units,
            self.wall.as_nanos(),
            self.cpu_start.as_micros(),
            cpu_end.as_micros(),
            peak_rss_kib()
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        std::process::exit(0)
    }
}

/// A small, fast pseudo-random sequence (SplitMix64) for the random person ids; one per worker.
pub struct Ids {
    state: u64,
    persons: u64,
}

impl Ids {
    /// A sequence seeded with `seed` over `0..persons`.
    pub fn new(seed: u64, persons: u64) -> Ids {
        Ids {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(std::process::id()),
            persons: persons.max(1),
        }
    }

    /// The next id.
    pub fn next_id(&mut self) -> i64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z % self.persons) as i64
    }
}
