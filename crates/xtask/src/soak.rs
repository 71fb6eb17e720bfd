//! `cargo xtask soak --minutes N`: the mixed workload (`quiver-load soak`) on each adapter in turn
//! against the dedicated server `neo4j-5-faults`, sampled every 10 s into
//! `target/soak/soak.csv` and `target/soak/soak.svg` (`--out DIR` to put them elsewhere, e.g.
//! `docs/soak` to record a run). Not part of CI: it is meant to run for a long time.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use crate::faults::build_workload;
use crate::servers::{self, Started, StopGuard};
use crate::{Error, repo_root};

const USAGE: &str =
    "usage: cargo xtask soak [--minutes N] [--transactions N] [--workers N] [--out DIR]";

/// `cargo xtask soak …`.
pub(crate) fn command(args: &[String]) -> Result<ExitCode, Error> {
    let mut minutes = "20".to_owned();
    let mut transactions = "1000000".to_owned();
    let mut workers = "8".to_owned();
    let mut out = repo_root().join("target").join("soak");
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = || {
            rest.next()
                .cloned()
                .ok_or_else(|| Error::Usage(format!("{arg} needs a value\n{USAGE}")))
        };
        match arg.as_str() {
            "--minutes" => minutes = value()?,
            "--transactions" => transactions = value()?,
            "--workers" => workers = value()?,
            "--out" => out = PathBuf::from(value()?),
            other => return Err(Error::Usage(format!("unknown option `{other}`\n{USAGE}"))),
        }
    }
    let binary = build_workload(true)?;
    let server = servers::find("neo4j-5-faults")?;
    server.stop()?;
    let guard = match server.start()? {
        Started::Now { pid, seconds } => {
            println!("neo4j-5-faults started (pid {pid}) in {seconds:.1} s");
            Some(StopGuard::arm(server, pid)?)
        }
        Started::Already { .. } => None,
    };
    let mut command = Command::new(&binary);
    command
        .arg("soak")
        .args([
            "--minutes",
            &minutes,
            "--transactions",
            &transactions,
            "--workers",
            &workers,
        ])
        .arg("--csv")
        .arg(out.join("soak.csv"))
        .arg("--svg")
        .arg(out.join("soak.svg"));
    for (key, value) in server.env() {
        if let Some(suffix) = key.strip_prefix(server.env_prefix) {
            command.env(format!("NEO4J{suffix}"), value);
        }
    }
    let status = command
        .status()
        .map_err(Error::io(format!("running {}", binary.display())));
    if let Some(guard) = guard {
        guard.disarm();
        server.stop()?;
    }
    if status?.success() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Error::Failed("the soak failed (see above)".into()))
    }
}
