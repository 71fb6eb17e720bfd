//! `cargo xtask`: Quiver's project automation (std only, so it builds in seconds on a fresh clone).
//!
//! - `cargo xtask server start|stop|status|env <name>`: local Bolt servers for tests, benchmarks and the
//!   demo (`neo4j-5`, `neo4j-2026`, `neo4j-4.4`, `arcadedb`); see `tests/neo4j-server/README.md`.
//! - `cargo xtask test [--with <servers>|all|none] [-- <cargo test args>]`: starts Neo4j 5.26 and the
//!   other local servers (unless `NEO4J_URI` is set), runs every test step with the servers' addresses in
//!   the environment, and stops what it started.
//! - `cargo xtask faults [--long]`: the crash test against `neo4j-5-faults` (see `faults.rs`).
//! - `cargo xtask soak --minutes N`: the long mixed-workload run on every adapter (see `soak.rs`).
//! - `cargo xtask demo [--runtime <name>]`: starts Neo4j 5.26 (unless `NEO4J_URI` is set), runs the
//!   `concurrent_transactions` example (tokio by default), and stops what it started.
//! - `cargo xtask bench [--quick] …`: the cross-driver benchmark (`crates/quiver-bench`).

mod bench;
mod demo;
mod faults;
mod process;
mod servers;
mod soak;
mod test_run;
mod testkit;
mod testkit_rust_branches;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  server start  <name>     start a test server in the background (downloads it on first use)
  server stop   <name|all> stop a server started by `server start`
  server status [name]     show which servers run, their addresses and memory
  server env    <name>     print `export ...` lines pointing tests at a running server
  test [--with <servers>|all|none] [-- <args>]
                           start Neo4j 5.26 and the other servers (default all; none
                           when NEO4J_URI is set), run every test step, the tokio shared
                           suite and a smoke test per other server, stop what it started;
                           <args> go to `cargo test`
  testkit --testkit-dir DIR [--filter PATTERN] [--neo4j] [--debug] [--rust-error-names]
                           build the TestKit backend, run Neo4j's driver conformance suite
                           (stub tests; with --neo4j also against a real server), print
                           passed / failed / skipped per group
  demo [--runtime tokio|smol|async-std|blocking] [-- <tasks> <writes>]
                           start Neo4j 5.26 (unless NEO4J_URI is set), run the concurrent
                           transactions example (tokio by default), stop the server
  faults [--long] [--kills N] [--graceful N] [--cuts N] [--seed N]
                           the crash test: concurrent execute_write ledger + readers with
                           bookmarks while neo4j-5-faults (its own ports) is SIGKILLed and
                           restarted on its store, restarted with SIGTERM, and connections
                           are cut; checks nothing acknowledged is lost or stored twice
  soak [--minutes N] [--transactions N] [--workers N] [--out DIR]
                           the mixed workload on tokio, smol, async-std and blocking in
                           turn against neo4j-5-faults; throughput, RSS and connections
                           every 10 s into a CSV and an SVG chart (not in CI)
  server restart <name> [--kill|--graceful]
                           stop a server (SIGKILL or SIGTERM) and start it on the same data
  bench [--quick] [--rounds N] [--peers a,b,…] [--workloads a,b,…] [--out DIR]
                           the cross-driver benchmark: start Neo4j 5.26 (unless NEO4J_URI
                           is set), install and build every peer (Quiver on tokio, smol and
                           blocking; neo4rs, the neo4j crate, Python, Go, JavaScript, Java),
                           run every workload through each in its own process, write
                           results and charts to docs/bench/ (--quick: target/bench/quick)

servers: neo4j-5 (Bolt 7687, TLS 7688), neo4j-2026 (7697, TLS 7698), neo4j-4.4 (7707, TLS 7708),
         arcadedb (7717, HTTP 2481), neo4j-5-faults (7727, TLS 7728: killed by `faults`)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode, Error> {
    let Some((command, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(ExitCode::from(2));
    };
    match command.as_str() {
        "server" => servers::command(rest),
        "test" => test_run::command(rest),
        "testkit" => testkit::command(rest),
        "demo" => demo::command(rest),
        "faults" => faults::command(rest),
        "soak" => soak::command(rest),
        "bench" => bench::command(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(Error::Usage(format!("unknown command `{other}`"))),
    }
}

/// Everything that can stop an xtask command, worded so the user knows what to do next.
#[derive(Debug)]
pub(crate) enum Error {
    /// The command line was wrong.
    Usage(String),
    /// An I/O operation on a file or process failed.
    Io { what: String, source: io::Error },
    /// A step failed; the message says which and where to look.
    Failed(String),
}

impl Error {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message) => write!(f, "{message}\n\n{USAGE}"),
            Error::Io { what, source } => write!(f, "{what}: {source}"),
            Error::Failed(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

/// The repository root (xtask lives in `<root>/crates/xtask`).
pub(crate) fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| manifest.to_path_buf(), Path::to_path_buf)
}
