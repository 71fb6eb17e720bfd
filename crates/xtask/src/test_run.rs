//! `cargo xtask test`: every test step of the project against a real Neo4j 5.26, plus the driver's
//! shared integration suite (on tokio) against every other local server: Neo4j 2026.x (Bolt 6.0),
//! Neo4j 4.4 and ArcadeDB. `--with none` (or a list) narrows the other servers; a user-set `NEO4J_URI`
//! means "test against my server" and starts nothing unless `--with` asks for more.

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use crate::servers::{self, Kind, SERVERS, Server, Started, StopGuard};
use crate::{Error, repo_root};

/// One test step: a program run from the repository root with the servers' environment.
struct Step {
    name: &'static str,
    program: Program,
    args: &'static [&'static str],
    /// Whether the user's `-- <args>` are appended (only `cargo test` takes them).
    takes_user_args: bool,
}

enum Program {
    /// The `cargo` that runs xtask (from `$CARGO`).
    Cargo,
    /// Any other program on PATH (e.g. `python3`).
    Named(&'static str),
}

/// The test steps, in order. Add a step by adding one line here. (After these, the Python-driver smoke
/// test and, for each server besides Neo4j 5.26, the tokio shared suite run; see [`smoke_args`] and
/// [`OTHER_SERVER_SUITE`].)
const STEPS: &[Step] = &[
    Step {
        name: "cargo test",
        program: Program::Cargo,
        // `--all-features`: optional conversions (quiver-bolt's `chrono`) are tested too.
        args: &["test", "--workspace", "--locked", "--all-features"],
        takes_user_args: true,
    },
    Step {
        // Builds the wheel (maturin) into a venv beside the official driver, then runs the
        // differential tests against the driver's pure-Python codec and the end-to-end ones.
        name: "quiver-python (Quiver's codec in the official Python driver)",
        program: Program::Named("python3"),
        args: &["crates/quiver-python/tests/run.py"],
        takes_user_args: false,
    },
];

const USAGE: &str =
    "usage: cargo xtask test [--with <server>[,<server>…]|all|none] [-- <cargo test args>]";

/// The suite run against each server besides the main one: the driver's shared integration tests on
/// the tokio adapter (the other adapters run it against Neo4j 5.26 in the `cargo test` step).
const OTHER_SERVER_SUITE: &[&str] = &[
    "test",
    "--locked",
    "-p",
    "quiver-tokio",
    "--test",
    "shared_suite",
];

/// A server this run uses, and the guard that stops it if we started it.
struct InUse {
    server: &'static Server,
    guard: Option<StopGuard>,
}

/// `cargo xtask test [--with <servers>] [-- <cargo test args>]`.
pub(crate) fn command(args: &[String]) -> Result<ExitCode, Error> {
    let (extra_servers, user_args) = parse(args)?;
    // Without `--with`, the whole suite: every local server, unless the user points at their own.
    let extra_servers = extra_servers.unwrap_or_else(|| {
        if std::env::var_os("NEO4J_URI").is_some() {
            Vec::new()
        } else {
            SERVERS
                .iter()
                .filter(|server| server.name != "neo4j-5" && server.in_test_suite)
                .collect()
        }
    });
    let main = servers::find("neo4j-5")?;
    let mut in_use: Vec<InUse> = Vec::new();
    let mut env: Vec<(String, String)> = Vec::new();
    let mut smoke: Vec<(String, Vec<String>)> = Vec::new();

    let started = (|| -> Result<(), Error> {
        if std::env::var_os("NEO4J_URI").is_some() {
            println!(
                "xtask: NEO4J_URI is set; testing against that server and not starting neo4j-5"
            );
            // The user's server: the smoke test reads the NEO4J_* variables the user set.
            smoke.push((
                "smoke test (official Python driver), NEO4J_URI".into(),
                Vec::new(),
            ));
        } else {
            in_use.push(use_server(main)?);
        }
        for server in extra_servers {
            in_use.push(use_server(server)?);
        }
        Ok(())
    })();

    // Servers already running (`cargo xtask server start`) are offered to the tests as well.
    for server in SERVERS {
        let used = in_use.iter().any(|used| std::ptr::eq(used.server, server));
        if used || server.running_pid().is_some() {
            env.extend(server.env());
        }
        if used {
            smoke.push((
                format!("smoke test (official Python driver), {}", server.name),
                smoke_args(server),
            ));
        }
    }

    let mut results: Vec<(String, Result<Duration, Error>)> = Vec::new();
    match started {
        Ok(()) => {
            for (key, value) in &env {
                println!("xtask:   {key}={value}");
            }
            for step in STEPS {
                results.push((step.name.to_owned(), run_step(step, user_args, &env)));
            }
            for used in &in_use {
                if std::ptr::eq(used.server, main) {
                    continue;
                }
                let name = format!("tokio shared suite, {}", used.server.name);
                results.push((name.clone(), run_suite_on(&name, used.server, &env)));
            }
            for (name, args) in &smoke {
                results.push((name.clone(), run_smoke(name, args, &env)));
            }
        }
        Err(err) => results.push(("start the servers".into(), Err(err))),
    }

    for used in in_use.into_iter().rev() {
        if let Some(guard) = used.guard {
            guard.disarm();
            match used.server.stop() {
                Ok(_) => println!("xtask: {} stopped", used.server.name),
                Err(err) => eprintln!("xtask: stopping {}: {err}", used.server.name),
            }
        }
    }

    println!("\nxtask test summary:");
    let mut failed = 0;
    for (name, outcome) in &results {
        match outcome {
            Ok(elapsed) => println!("  ok      {name} ({:.1} s)", elapsed.as_secs_f64()),
            Err(err) => {
                failed += 1;
                println!("  FAILED  {name}: {err}");
            }
        }
    }
    if failed == 0 {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Error::Failed(format!("{failed} test step(s) failed")))
    }
}

/// Splits `[--with a,b|all] [--] args…` into the extra servers and the args for `cargo test`.
fn parse(args: &[String]) -> Result<(Option<Vec<&'static Server>>, &[String]), Error> {
    let mut extra = Vec::new();
    let mut with_given = false;
    let mut rest = args;
    while let Some((first, tail)) = rest.split_first() {
        match first.as_str() {
            "--with" => {
                let Some((names, tail)) = tail.split_first() else {
                    return Err(Error::Usage(format!("--with needs server names\n{USAGE}")));
                };
                with_given = true;
                for name in names
                    .split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                {
                    if name == "none" {
                        continue;
                    } else if name == "all" {
                        extra.extend(
                            SERVERS
                                .iter()
                                .filter(|server| server.name != "neo4j-5" && server.in_test_suite),
                        );
                    } else if name != "neo4j-5" {
                        extra.push(servers::find(name)?);
                    }
                }
                rest = tail;
            }
            "--" => return Ok((with_given.then(|| dedup(extra)), tail)),
            _ => return Ok((with_given.then(|| dedup(extra)), rest)),
        }
    }
    Ok((with_given.then(|| dedup(extra)), rest))
}

fn dedup(mut servers: Vec<&'static Server>) -> Vec<&'static Server> {
    let mut seen: Vec<&'static Server> = Vec::new();
    servers.retain(|server| {
        let new = !seen.iter().any(|other| std::ptr::eq(*other, *server));
        seen.push(server);
        new
    });
    servers
}

/// Starts `server` unless it already runs; only a server started here gets a guard (and is stopped).
fn use_server(server: &'static Server) -> Result<InUse, Error> {
    match server.start()? {
        Started::Now { pid, seconds } => {
            println!(
                "xtask: {} started (pid {pid}) in {seconds:.1} s",
                server.name
            );
            // If xtask dies (Ctrl-C, kill), the guard's stdin closes and it stops the server.
            let guard = StopGuard::arm(server, pid)?;
            Ok(InUse {
                server,
                guard: Some(guard),
            })
        }
        Started::Already { pid } => {
            println!(
                "xtask: {} already running (pid {pid}); it stays running afterwards",
                server.name
            );
            Ok(InUse {
                server,
                guard: None,
            })
        }
    }
}

/// Arguments of `tests/smoke/smoke.py` for one of our servers.
fn smoke_args(server: &Server) -> Vec<String> {
    let mut args = vec![
        "--uri".to_owned(),
        format!("bolt://127.0.0.1:{}", server.bolt_port),
        "--user".to_owned(),
        server.user.to_owned(),
        "--password".to_owned(),
        servers::PASSWORD.to_owned(),
        "--bolt-versions".to_owned(),
        server.bolt_versions.to_owned(),
    ];
    if let Some(tls_port) = server.tls_port {
        args.push("--tls-uri".to_owned());
        args.push(format!("bolt+s://127.0.0.1:{tls_port}"));
        args.push("--ca".to_owned());
        args.push(server.ca_file().to_string_lossy().into_owned());
    } else {
        // Not the TLS listener of neo4j-5 from the environment.
        args.push("--no-tls".to_owned());
    }
    if let Kind::ArcadeDb { .. } = server.kind {
        // ArcadeDB needs a database that exists; `neo4j` is created at start.
        args.push("--database".to_owned());
        args.push("neo4j".to_owned());
    }
    args
}

fn run_step(
    step: &Step,
    user_args: &[String],
    env: &[(String, String)],
) -> Result<Duration, Error> {
    println!("\n=== xtask test: {}", step.name);
    let program = match step.program {
        Program::Cargo => std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()),
        Program::Named(name) => name.to_owned(),
    };
    let mut command = Command::new(&program);
    command.args(step.args);
    if step.takes_user_args {
        command.args(user_args);
    }
    run(command, &program, env)
}

/// Runs [`OTHER_SERVER_SUITE`] with the `NEO4J_*` variables pointing at `server`.
fn run_suite_on(name: &str, server: &Server, env: &[(String, String)]) -> Result<Duration, Error> {
    println!("\n=== xtask test: {name}");
    let program = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(&program);
    command.args(OTHER_SERVER_SUITE);
    let mut env = env.to_vec();
    // `NEO4J_2026_URI` → `NEO4J_URI`, etc.: later entries win in `Command::envs`.
    for (key, value) in server.env() {
        if let Some(suffix) = key.strip_prefix(server.env_prefix) {
            env.push((format!("NEO4J{suffix}"), value));
        }
    }
    if server.tls_port.is_none() {
        // No TLS listener: the suite skips its TLS test rather than reuse another server's.
        env.retain(|(key, _)| key != "NEO4J_TLS_URI" && key != "NEO4J_TLS_CA");
    }
    run(command, &program, &env)
}

fn run_smoke(name: &str, args: &[String], env: &[(String, String)]) -> Result<Duration, Error> {
    println!("\n=== xtask test: {name}");
    let mut command = Command::new("python3");
    command.arg("tests/smoke/smoke.py").args(args);
    run(command, "python3", env)
}

fn run(mut command: Command, program: &str, env: &[(String, String)]) -> Result<Duration, Error> {
    command.current_dir(repo_root());
    command.envs(env.iter().map(|(key, value)| (key, value)));
    let started = Instant::now();
    let status = command
        .status()
        .map_err(Error::io(format!("running {program}")))?;
    if status.success() {
        Ok(started.elapsed())
    } else {
        Err(Error::Failed(format!("exited with {status}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn with_takes_names_and_all_and_leaves_the_rest_to_cargo() {
        let args = strings(&[
            "--with",
            "arcadedb,neo4j-2026,arcadedb",
            "--",
            "-p",
            "quiver-bolt",
        ]);
        let (extra, rest) = parse(&args).expect("parse");
        let names: Vec<&str> = extra
            .expect("--with given")
            .iter()
            .map(|server| server.name)
            .collect();
        assert_eq!(names, ["arcadedb", "neo4j-2026"]);
        assert_eq!(rest, strings(&["-p", "quiver-bolt"]));

        let args = strings(&["--with", "all"]);
        let (extra, rest) = parse(&args).expect("parse");
        assert_eq!(
            extra.expect("--with given").len(),
            SERVERS.iter().filter(|server| server.in_test_suite).count() - 1,
            "all but neo4j-5, which always runs, and the fault tests' server"
        );
        assert!(rest.is_empty());

        let args = strings(&["--with", "none"]);
        let (extra, _) = parse(&args).expect("parse");
        assert!(
            extra.expect("--with given").is_empty(),
            "none: only neo4j-5"
        );

        let args = strings(&["--", "--nocapture"]);
        let (extra, rest) = parse(&args).expect("parse");
        assert!(extra.is_none(), "no --with: the caller picks the default");
        assert_eq!(rest, strings(&["--nocapture"]));

        assert!(parse(&strings(&["--with"])).is_err());
        assert!(parse(&strings(&["--with", "mysql"])).is_err());
    }

    #[test]
    fn smoke_args_cover_tls_and_arcadedb_database() {
        let neo4j = smoke_args(servers::find("neo4j-2026").expect("server"));
        assert!(
            neo4j
                .windows(2)
                .any(|pair| pair == ["--bolt-versions", "6.0,5.8,4.4"])
        );
        assert!(
            neo4j
                .windows(2)
                .any(|pair| pair == ["--tls-uri", "bolt+s://127.0.0.1:7698"])
        );
        let arcadedb = smoke_args(servers::find("arcadedb").expect("server"));
        assert!(arcadedb.windows(2).any(|pair| pair == ["--user", "root"]));
        assert!(
            arcadedb
                .windows(2)
                .any(|pair| pair == ["--database", "neo4j"])
        );
        assert!(!arcadedb.iter().any(|arg| arg == "--tls-uri"));
        assert!(arcadedb.iter().any(|arg| arg == "--no-tls"));
    }
}
