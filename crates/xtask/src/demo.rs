//! `cargo xtask demo`: the README's first command. Starts Neo4j 5.26 (unless `NEO4J_URI` is set),
//! runs the `concurrent_transactions` example — N writers and N readers handing each other
//! bookmarks, printing transactions per second — and stops the server if it started it.

use std::process::{Command, ExitCode};

use crate::servers::{self, Started};
use crate::{Error, repo_root};

const RUNTIMES: &[&str] = &["tokio", "smol", "async-std", "blocking"];

/// `cargo xtask demo [--runtime tokio|smol|async-std|blocking] [-- <tasks> <writes per task>]`.
pub(crate) fn command(args: &[String]) -> Result<ExitCode, Error> {
    let mut parts = args.splitn(2, |a| a == "--");
    let ours = parts.next().unwrap_or_default();
    let example_args = parts.next().unwrap_or_default();
    let runtime = match ours {
        [] => "tokio",
        [flag, runtime] if flag == "--runtime" && RUNTIMES.contains(&runtime.as_str()) => runtime,
        _ => {
            return Err(Error::Usage(format!(
                "demo takes `--runtime <{}>` and, after `--`, the example's arguments",
                RUNTIMES.join("|")
            )));
        }
    };
    let package = format!("quiver-{runtime}");
    let example = repo_root().join(format!(
        "crates/{package}/examples/concurrent_transactions.rs"
    ));
    if !example.is_file() {
        return Err(Error::Failed(format!(
            "{} does not exist yet",
            example.display()
        )));
    }

    let server = servers::find("neo4j-5")?;
    let mut env = Vec::new();
    let mut started_here = false;
    if std::env::var_os("NEO4J_URI").is_some() {
        println!("xtask: NEO4J_URI is set; running the demo against that server");
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

    println!("xtask: cargo run --release -p {package} --example concurrent_transactions");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo)
        .current_dir(repo_root())
        .args([
            "run",
            "--release",
            "-p",
            &package,
            "--example",
            "concurrent_transactions",
            "--",
        ])
        .args(example_args)
        .envs(env)
        .status()
        .map_err(Error::io(format!("running {cargo}")));

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
        status => Err(Error::Failed(format!("the demo exited with {status}"))),
    }
}
