//! `cargo xtask bench [--quick] [harness options]`: the cross-driver benchmark. Starts Neo4j 5.26
//! (unless `NEO4J_URI` is set), builds the `quiver-bench` harness and Quiver's peer (release mode;
//! debug for `--quick`, which only checks that the harness works),
//! runs the harness (which installs and builds the other drivers' peers itself, runs every
//! workload through every peer and writes results and charts), and stops the server if it
//! started it. See `crates/quiver-bench`.

use std::process::{Command, ExitCode};

use crate::servers::{self, Started};
use crate::{Error, repo_root};

/// `cargo xtask bench [args]`; the args go to the harness (`--quick`, `--rounds N`, `--peers …`).
pub(crate) fn command(args: &[String]) -> Result<ExitCode, Error> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // A quick run (CI) only checks that the harness works: a debug build is enough, and quicker.
    let quick = args.iter().any(|a| a == "--quick");
    let profile = if quick { "debug" } else { "release" };
    let mut build = Command::new(&cargo);
    build
        .current_dir(repo_root())
        .args(["build", "--locked", "-p", "quiver-bench", "--bins"]);
    if !quick {
        build.arg("--release");
    }
    println!("xtask: cargo build -p quiver-bench --bins ({profile})");
    let built = build
        .status()
        .map_err(Error::io(format!("running {cargo}")))?;
    if !built.success() {
        return Err(Error::Failed(format!(
            "building quiver-bench failed ({built})"
        )));
    }

    let server = servers::find("neo4j-5")?;
    let mut env = Vec::new();
    let mut started_here = false;
    if std::env::var_os("NEO4J_URI").is_some() {
        println!("xtask: NEO4J_URI is set; benchmarking against that server");
    } else {
        match server.start()? {
            Started::Now { pid, seconds } => {
                println!(
                    "xtask: {} started (pid {pid}) in {seconds:.1} s",
                    server.name
                );
                started_here = true;
            }
            Started::Already { pid } => {
                println!(
                    "xtask: {} already running (pid {pid}); it stays running",
                    server.name
                );
            }
        }
        env.extend(server.env());
    }

    let command_line = std::iter::once("cargo xtask bench".to_owned())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let harness = repo_root()
        .join("target")
        .join(profile)
        .join("quiver-bench");
    let status = Command::new(&harness)
        .current_dir(repo_root())
        .args(args)
        .envs(env)
        .env("QUIVER_BENCH_COMMAND", command_line)
        .status()
        .map_err(Error::io(format!("running {}", harness.display())));

    if started_here {
        match server.stop() {
            Ok(_) => println!("xtask: {} stopped", server.name),
            Err(err) => eprintln!(
                "xtask: stopping {}: {err} (stop it with `cargo xtask server stop {}`)",
                server.name, server.name
            ),
        }
    }
    match status? {
        status if status.success() => Ok(ExitCode::SUCCESS),
        status => Err(Error::Failed(format!(
            "the benchmark exited with {status} (a peer missing or a run failed: see above)"
        ))),
    }
}
