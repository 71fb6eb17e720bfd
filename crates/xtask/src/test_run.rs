//! `cargo xtask test`: every test step of the project against a real Neo4j 5.26.

use std::io::Write;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::servers::{self, Started};
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
    Named(&'static str),
}

/// The test steps, in order. Add a step by adding one line here.
const STEPS: &[Step] = &[
    Step {
        name: "cargo test",
        program: Program::Cargo,
        args: &["test", "--workspace", "--locked"],
        takes_user_args: true,
    },
    Step {
        name: "smoke test (official Python driver)",
        program: Program::Named("python3"),
        args: &["tests/smoke/smoke.py"],
        takes_user_args: false,
    },
];

/// `cargo xtask test [-- <cargo test args>]`.
pub(crate) fn command(args: &[String]) -> Result<ExitCode, Error> {
    let user_args: &[String] = match args.split_first() {
        Some((first, rest)) if first == "--" => rest,
        Some(_) => args,
        None => &[],
    };
    let server = servers::find("neo4j-5")?;
    let mut env: Vec<(String, String)> = Vec::new();
    let mut started_here = None;
    if std::env::var_os("NEO4J_URI").is_some() {
        println!("xtask: NEO4J_URI is set; testing against that server and starting none");
    } else {
        match server.start()? {
            Started::Now { pid, seconds } => {
                println!(
                    "xtask: {} started (pid {pid}) in {seconds:.1} s",
                    server.name
                );
                // If xtask dies (Ctrl-C, kill), the guard's stdin closes and it stops the server.
                started_here = Some(Guard::spawn(pid, &server.dir().to_string_lossy())?);
            }
            Started::Already { pid } => {
                println!(
                    "xtask: {} already running (pid {pid}); it stays running afterwards",
                    server.name
                );
            }
        }
        env.extend(server.env());
    }
    // Other servers started with `cargo xtask server start` are offered to tests that want them.
    for other in servers::SERVERS
        .iter()
        .filter(|other| other.name != server.name)
    {
        if other.running_pid().is_some() {
            env.extend(other.env());
        }
    }
    for (key, value) in &env {
        println!("xtask:   {key}={value}");
    }

    let mut results = Vec::new();
    for step in STEPS {
        let outcome = run_step(step, user_args, &env);
        results.push((step.name, outcome));
    }

    if let Some(guard) = started_here {
        guard.disarm();
        match server.stop() {
            Ok(_) => println!("xtask: {} stopped", server.name),
            Err(err) => eprintln!("xtask: stopping {}: {err}", server.name),
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
    command.current_dir(repo_root()).args(step.args);
    if step.takes_user_args {
        command.args(user_args);
    }
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

/// A `sh` process in its own process group that stops the server when its stdin (a pipe from xtask)
/// closes — which happens however xtask ends, including Ctrl-C and SIGKILL.
struct Guard {
    child: Child,
}

impl Guard {
    fn spawn(pid: u32, marker: &str) -> Result<Guard, Error> {
        use std::os::unix::process::CommandExt;
        let script = r#"cat >/dev/null
if grep -qF "$2" "/proc/$1/cmdline" 2>/dev/null; then
  kill -TERM "$1" 2>/dev/null
  sleep 60
  grep -qF "$2" "/proc/$1/cmdline" 2>/dev/null && kill -KILL "$1" 2>/dev/null
fi"#;
        let child = Command::new("sh")
            .args(["-c", script, "quiver-server-guard"])
            .arg(pid.to_string())
            .arg(marker)
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(Error::io("starting the server guard (sh)"))?;
        Ok(Guard { child })
    }

    /// Ends the guard without letting it act (xtask stops the server itself).
    fn disarm(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
    }
}
