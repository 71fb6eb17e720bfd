//! The cross-driver benchmark harness (`cargo xtask bench` builds and runs it; see the crate docs).
//!
//! `quiver-bench [--quick] [--rounds N] [--peers a,b,…] [--workloads a,b,…] [--out DIR]`
//!
//! Installs or builds every peer (a peer that cannot be installed is reported as missing, with the
//! reason), creates its `:QuiverBenchPerson` data, then runs rounds: in each round every workload
//! through every peer, each run its own process, the peers' order rotated from round to round.
//! A run's CPU time is the reaped process's rusage (`wait4`, user + system, µs) less what the peer
//! had used before its measured phase began; its peak memory is the peer's `VmHWM`. Per peer and
//! workload: medians with ranges over the rounds, and ratios to Quiver on tokio (multi-thread)
//! computed per round; the load average is recorded per round. Writes `results.json`,
//! `samples.csv`, `results.md` and, through `charts.py` (matplotlib), one SVG chart per workload.

mod install;
mod run;
mod stats;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::install::Prepared;
use crate::run::Sample;

/// The workloads, in the order they run in each round.
const WORKLOADS: &[Workload] = &[
    Workload {
        id: "return1",
        title: "W1: lock-step RETURN 1",
    },
    Workload {
        id: "stream",
        title: "W2: {rows}-row stream (int + string + map)",
    },
    Workload {
        id: "tx-read",
        title: "W3: {concurrency} concurrent read transaction functions",
    },
    Workload {
        id: "tx-write",
        title: "W3 (write): {concurrency} concurrent write transaction functions",
    },
    Workload {
        id: "connect",
        title: "W4: connect + first query",
    },
];

pub(crate) struct Workload {
    pub(crate) id: &'static str,
    /// With `{rows}` and `{concurrency}` for the counts of the run.
    title: &'static str,
}

impl Workload {
    pub(crate) fn title(&self, counts: &Counts) -> String {
        self.title
            .replace("{rows}", &thousands(counts.rows))
            .replace("{concurrency}", &counts.concurrency.to_string())
    }
}

/// 200000 -> "200,000".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Every peer: Quiver on each runtime and each driver a user could pick instead.
#[rustfmt::skip]
const PEERS: &[Peer] = &[
    Peer::new("quiver-tokio-mt", "Quiver, tokio multi-thread", "rust", Group::Quiver, &["tokio-mt"]),
    Peer::new("quiver-tokio-ct", "Quiver, tokio current-thread", "rust", Group::Quiver, &["tokio-ct"]),
    Peer::new("quiver-smol", "Quiver, smol", "rust", Group::Quiver, &["smol"]),
    Peer::new("quiver-blocking", "Quiver, blocking", "rust", Group::Quiver, &["blocking"]),
    Peer::new("neo4rs-mt", "neo4rs, tokio multi-thread", "rust", Group::RustPeers, &["neo4rs", "tokio-mt"]),
    Peer::new("neo4rs-ct", "neo4rs, tokio current-thread", "rust", Group::RustPeers, &["neo4rs", "tokio-ct"]),
    Peer::new("neo4j-crate", "neo4j crate (sync)", "rust", Group::RustPeers, &["neo4j"]),
    Peer::new("python-sync", "Python", "python", Group::PythonPure, &["sync"]),
    Peer::new("python-async", "Python asyncio", "python", Group::PythonPure, &["async"]),
    Peer::new("python-rust-ext-sync", "Python + rust-ext", "python", Group::PythonRustExt, &["sync"]),
    Peer::new("python-rust-ext-async", "Python + rust-ext, asyncio", "python", Group::PythonRustExt, &["async"]),
    Peer::new("go", "Go", "go", Group::Go, &[]),
    Peer::new("js", "JavaScript (Node)", "javascript", Group::Js, &[]),
    Peer::new("java", "Java", "java", Group::Java, &[]),
];

/// Ratios are to this peer, per round.
const REFERENCE: &str = "quiver-tokio-mt";

/// How a group of peers is installed or built (see `install.rs`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Group {
    Quiver,
    RustPeers,
    PythonPure,
    PythonRustExt,
    Go,
    Js,
    Java,
}

pub(crate) struct Peer {
    pub(crate) id: &'static str,
    pub(crate) label: &'static str,
    pub(crate) language: &'static str,
    pub(crate) group: Group,
    /// Arguments before the workload's (which runtime or API flavour).
    pub(crate) args: &'static [&'static str],
}

impl Peer {
    const fn new(
        id: &'static str,
        label: &'static str,
        language: &'static str,
        group: Group,
        args: &'static [&'static str],
    ) -> Peer {
        Peer {
            id,
            label,
            language,
            group,
            args,
        }
    }

    /// Runtimes with a just-in-time compiler get a longer warm-up, so that what is measured is
    /// their steady state (see [`Counts::warmup`]).
    pub(crate) fn jit(&self) -> bool {
        matches!(self.group, Group::Java | Group::Js)
    }
}

/// How much each workload does.
#[derive(Clone, Copy, serde::Serialize)]
pub(crate) struct Counts {
    pub(crate) queries: u64,
    pub(crate) queries_warmup: u64,
    pub(crate) rows: u64,
    pub(crate) streams_warmup: u64,
    pub(crate) tx_millis: u64,
    pub(crate) tx_warmup_millis: u64,
    pub(crate) concurrency: u64,
    pub(crate) persons: u64,
    /// Warm-up multiplier for JIT runtimes (Java, Node).
    pub(crate) jit_warmup_factor: u64,
}

impl Counts {
    const FULL: Counts = Counts {
        queries: 5_000,
        queries_warmup: 1_000,
        rows: 200_000,
        streams_warmup: 1,
        tx_millis: 5_000,
        tx_warmup_millis: 1_000,
        concurrency: 16,
        persons: 10_000,
        jit_warmup_factor: 5,
    };
    const QUICK: Counts = Counts {
        queries: 200,
        queries_warmup: 50,
        rows: 5_000,
        streams_warmup: 1,
        tx_millis: 500,
        tx_warmup_millis: 200,
        concurrency: 16,
        persons: 1_000,
        jit_warmup_factor: 2,
    };

    /// `count` and `warmup` for `workload` through `peer`.
    pub(crate) fn of(&self, workload: &str, peer: &Peer) -> (u64, u64) {
        let factor = if peer.jit() {
            self.jit_warmup_factor
        } else {
            1
        };
        match workload {
            "return1" => (self.queries, self.queries_warmup * factor),
            "stream" => (self.rows, self.streams_warmup * factor),
            "tx-read" | "tx-write" => (self.tx_millis, self.tx_warmup_millis * factor),
            _ => (1, 0),
        }
    }
}

struct Options {
    quick: bool,
    rounds: u32,
    peers: Vec<&'static Peer>,
    workloads: Vec<&'static Workload>,
    out: PathBuf,
    command: String,
}

const USAGE: &str = "usage: quiver-bench [--quick] [--rounds N] [--peers a,b,…] [--workloads a,b,…] [--out DIR]
  (normally run as `cargo xtask bench …`, which builds it and starts Neo4j 5.26 unless NEO4J_URI is set)";

fn parse(args: &[String]) -> Result<Options, String> {
    let root = repo_root();
    let mut quick = false;
    let mut rounds = None;
    let mut peers: Vec<&'static Peer> = PEERS.iter().collect();
    let mut workloads: Vec<&'static Workload> = WORKLOADS.iter().collect();
    let mut out = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--quick" => quick = true,
            "--rounds" => {
                rounds = Some(
                    value("--rounds")?
                        .parse()
                        .map_err(|_| "--rounds takes a number".to_owned())?,
                )
            }
            "--peers" => {
                let list = value("--peers")?;
                peers = list
                    .split(',')
                    .map(|id| {
                        PEERS
                            .iter()
                            .find(|p| p.id == id.trim())
                            .ok_or_else(|| format!("unknown peer {id:?}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--workloads" => {
                let list = value("--workloads")?;
                workloads = list
                    .split(',')
                    .map(|id| {
                        WORKLOADS
                            .iter()
                            .find(|w| w.id == id.trim())
                            .ok_or_else(|| format!("unknown workload {id:?}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    // A quick run checks the harness; its numbers go nowhere near the published ones.
    let out = out.unwrap_or_else(|| {
        if quick {
            root.join("target/bench/quick")
        } else {
            root.join("docs/bench")
        }
    });
    let command = std::env::var("QUIVER_BENCH_COMMAND").unwrap_or_else(|_| {
        std::iter::once("quiver-bench".to_owned())
            .chain(args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    });
    Ok(Options {
        quick,
        rounds: rounds.unwrap_or(if quick { 1 } else { 5 }),
        peers,
        workloads,
        out,
        command,
    })
}

/// The repository root (this crate lives in `<root>/crates/quiver-bench`).
pub(crate) fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| manifest.to_path_buf(), Path::to_path_buf)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("quiver-bench: {problem}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match bench(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(problem) => {
            eprintln!("quiver-bench: {problem}");
            ExitCode::FAILURE
        }
    }
}

/// The whole run; `Ok(false)` if a peer is missing or a run failed (everything is still written).
fn bench(options: &Options) -> Result<bool, String> {
    let counts = if options.quick {
        Counts::QUICK
    } else {
        Counts::FULL
    };
    let server = run::Server::from_env();
    println!("quiver-bench: server {}", server.uri);

    // Install or build every peer; a group that fails leaves its peers missing.
    let mut prepared: Vec<(&Peer, Prepared)> = Vec::new();
    let mut missing: Vec<(&Peer, String)> = Vec::new();
    let mut groups: Vec<Group> = options.peers.iter().map(|p| p.group).collect();
    groups.dedup();
    let mut installed = Vec::new();
    for group in groups {
        let started = std::time::Instant::now();
        let outcome = install::prepare(group, options.quick);
        match &outcome {
            Ok(_) => println!(
                "quiver-bench: {group:?} ready ({:.1} s)",
                started.elapsed().as_secs_f64()
            ),
            Err(reason) => println!("quiver-bench: {group:?} MISSING: {reason}"),
        }
        installed.push((group, outcome));
    }
    for peer in &options.peers {
        match installed.iter().find(|(g, _)| *g == peer.group) {
            Some((_, Ok(group))) => prepared.push((peer, group.for_peer(peer))),
            Some((_, Err(reason))) => missing.push((peer, reason.clone())),
            None => missing.push((peer, "not installed".into())),
        }
    }

    run::ensure_persons(&server, counts.persons)?;

    let timeout = if options.quick {
        Duration::from_secs(180)
    } else {
        Duration::from_secs(900)
    };
    let mut samples: Vec<Sample> = Vec::new();
    let mut rounds = Vec::new();
    for round in 0..options.rounds {
        let load_start = run::load_average();
        let n = prepared.len().max(1);
        let order: Vec<usize> = (0..prepared.len())
            .map(|i| (i + round as usize) % n)
            .collect();
        println!(
            "quiver-bench: round {}/{} (load {:.2} {:.2} {:.2})",
            round + 1,
            options.rounds,
            load_start[0],
            load_start[1],
            load_start[2]
        );
        for workload in &options.workloads {
            for &i in &order {
                let (peer, program) = &prepared[i];
                let (count, warmup) = counts.of(workload.id, peer);
                let sample = run::once(
                    &server, peer, program, workload, round, count, warmup, &counts, timeout,
                );
                println!("  {}", sample.describe());
                samples.push(sample);
            }
        }
        let load_end = run::load_average();
        rounds.push(stats::Round {
            round: round + 1,
            order: order.iter().map(|&i| prepared[i].0.id).collect(),
            load_start,
            load_end,
        });
    }

    let summary = stats::summarize(&samples, &options.peers, &options.workloads, REFERENCE);
    let meta = stats::Meta::collect(
        options.quick,
        &options.command,
        &counts,
        &server,
        &prepared,
        &missing,
    );
    std::fs::create_dir_all(&options.out)
        .map_err(|e| format!("cannot create {}: {e}", options.out.display()))?;
    stats::write(&options.out, &meta, &rounds, &samples, &summary)?;
    let charts = install::draw_charts(&options.out);
    match &charts {
        Ok(files) => println!("quiver-bench: charts {}", files.join(", ")),
        Err(reason) => println!("quiver-bench: charts NOT drawn: {reason}"),
    }
    print!(
        "{}",
        stats::markdown(&meta, &rounds, &summary, &options.workloads)
    );
    println!("quiver-bench: results in {}", options.out.display());

    let failed: Vec<&Sample> = samples.iter().filter(|s| s.error.is_some()).collect();
    for (peer, reason) in &missing {
        println!("quiver-bench: MISSING peer {}: {reason}", peer.id);
    }
    for sample in &failed {
        println!(
            "quiver-bench: FAILED {} {} round {}: {}",
            sample.peer,
            sample.workload,
            sample.round,
            sample.error.as_deref().unwrap_or_default()
        );
    }
    Ok(missing.is_empty() && failed.is_empty() && charts.is_ok())
}
