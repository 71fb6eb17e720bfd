//! `cargo xtask faults`: the crash test. Runs `quiver-load crash` (concurrent `execute_write`
//! transaction functions appending unique ids to a ledger, readers with bookmarks) against the
//! dedicated server `neo4j-5-faults` while this command SIGKILLs and restarts it on the same store,
//! restarts it gracefully (SIGTERM), and has the workload's proxy cut every connection, at random
//! moments. The workload then compares the ledger with what the clients saw and reports.

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::servers::{self, Started, Stop, StopGuard};
use crate::{Error, repo_root};

const USAGE: &str = "usage: cargo xtask faults [--long] [--kills N] [--graceful N] [--cuts N] \
                     [--writers N] [--readers N] [--seed N] [--release]";

/// The server this command kills: never one other tests use.
const SERVER: &str = "neo4j-5-faults";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// SIGKILL the server, start it again on the same store (crash recovery).
    Kill,
    /// SIGTERM the server, start it again on the same store.
    Graceful,
    /// The workload's proxy closes every open connection (the server stays up).
    Cut,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Kill => "kill",
            Fault::Graceful => "graceful",
            Fault::Cut => "cut",
        }
    }
}

struct Plan {
    kills: usize,
    graceful: usize,
    cuts: usize,
    writers: usize,
    readers: usize,
    /// Pause before each fault, drawn from this range (seconds).
    gap: (u64, u64),
    warm_up: Duration,
    tail: Duration,
    seed: u64,
    release: bool,
}

fn parse(args: &[String]) -> Result<Plan, Error> {
    let long = args.iter().any(|arg| arg == "--long");
    let mut plan = if long {
        Plan {
            kills: 10,
            graceful: 3,
            cuts: 10,
            writers: 16,
            readers: 4,
            gap: (5, 30),
            warm_up: Duration::from_secs(10),
            tail: Duration::from_secs(10),
            seed: 0,
            release: true,
        }
    } else {
        Plan {
            kills: 2,
            graceful: 1,
            cuts: 2,
            writers: 8,
            readers: 2,
            gap: (3, 8),
            warm_up: Duration::from_secs(5),
            tail: Duration::from_secs(5),
            seed: 0,
            release: false,
        }
    };
    plan.seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |since| since.as_nanos() as u64);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut number = |name: &str| -> Result<u64, Error> {
            rest.next()
                .and_then(|value| value.parse().ok())
                .ok_or_else(|| Error::Usage(format!("{name} needs a number\n{USAGE}")))
        };
        match arg.as_str() {
            "--long" => {}
            "--release" => plan.release = true,
            "--kills" => plan.kills = number(arg)? as usize,
            "--graceful" => plan.graceful = number(arg)? as usize,
            "--cuts" => plan.cuts = number(arg)? as usize,
            "--writers" => plan.writers = number(arg)? as usize,
            "--readers" => plan.readers = number(arg)? as usize,
            "--seed" => plan.seed = number(arg)?,
            other => return Err(Error::Usage(format!("unknown option `{other}`\n{USAGE}"))),
        }
    }
    Ok(plan)
}

/// xorshift64*: the schedule only needs to be spread out and reproducible from its seed.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

fn unix_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis())
}

/// `cargo xtask faults …`.
pub(crate) fn command(args: &[String]) -> Result<ExitCode, Error> {
    let plan = parse(args)?;
    let mut random = Random(plan.seed | 1);
    let mut faults: Vec<Fault> = [
        (Fault::Kill, plan.kills),
        (Fault::Graceful, plan.graceful),
        (Fault::Cut, plan.cuts),
    ]
    .iter()
    .flat_map(|(fault, count)| std::iter::repeat_n(*fault, *count))
    .collect();
    for i in (1..faults.len()).rev() {
        faults.swap(i, random.below(i as u64 + 1) as usize);
    }
    println!(
        "xtask faults: seed {} ({} kills, {} graceful restarts, {} connection cuts; {} writers, {} readers)",
        plan.seed, plan.kills, plan.graceful, plan.cuts, plan.writers, plan.readers
    );

    let binary = build_workload(plan.release)?;
    let server = servers::find(SERVER)?;
    // A fresh, empty store (the ledger of an earlier run must not count).
    server.stop()?;
    let mut guard = match server.start()? {
        Started::Now { pid, seconds } => {
            println!("{SERVER} started (pid {pid}) in {seconds:.1} s");
            Some(StopGuard::arm(server, pid)?)
        }
        Started::Already { .. } => None,
    };

    let dir = repo_root().join("target").join("faults");
    fs::create_dir_all(&dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    let run = format!("run-{}", unix_millis());
    let events_path = dir.join(format!("{run}.events"));
    fs::write(&events_path, b"").map_err(Error::io("creating the events file"))?;

    let (mut workload, mut stdin, ready) =
        spawn_workload(&binary, server, &plan, &events_path, &run, &dir)?;
    let outcome = (|| -> Result<(), Error> {
        ready
            .recv_timeout(Duration::from_secs(120))
            .map_err(|_| Error::Failed("the workload did not start within 120 s".into()))?;
        thread::sleep(plan.warm_up);
        for fault in &faults {
            let (low, high) = plan.gap;
            thread::sleep(Duration::from_secs(low + random.below(high - low + 1)));
            let event = |phase: &str| record(&events_path, fault.name(), phase);
            match fault {
                Fault::Cut => {
                    event("up")?;
                    writeln!(stdin, "cut").map_err(Error::io("telling the workload to cut"))?;
                    println!("xtask faults: cut every connection");
                }
                Fault::Kill | Fault::Graceful => {
                    let how = if *fault == Fault::Kill {
                        Stop::Kill
                    } else {
                        Stop::Graceful
                    };
                    event("down")?;
                    let restarted = server.restart(how)?;
                    event("up")?;
                    println!(
                        "xtask faults: {} — stopped in {:.1} s, back (same store) in {:.1} s",
                        fault.name(),
                        restarted.stop_seconds,
                        restarted.start_seconds
                    );
                    if let Some(old) = guard.take() {
                        old.disarm();
                    }
                    guard = Some(StopGuard::arm(server, restarted.pid)?);
                }
            }
        }
        thread::sleep(plan.tail);
        Ok(())
    })();
    let _ = writeln!(stdin, "stop");
    drop(stdin);
    let status = wait(&mut workload, Duration::from_secs(300));
    if let Some(guard) = guard {
        guard.disarm();
        server.stop()?;
    }
    outcome?;
    match status? {
        true => Ok(ExitCode::SUCCESS),
        false => Err(Error::Failed(format!(
            "the crash test failed (see above; workload output in {})",
            dir.join(format!("{run}.log")).display()
        ))),
    }
}

pub(crate) fn build_workload(release: bool) -> Result<PathBuf, Error> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(&cargo);
    build
        .current_dir(repo_root())
        .args(["build", "--locked", "-p", "quiver-load"]);
    if release {
        build.arg("--release");
    }
    let status = build.status().map_err(Error::io("running cargo build"))?;
    if !status.success() {
        return Err(Error::Failed("building quiver-load failed".into()));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo_root().join("target"), PathBuf::from);
    Ok(target
        .join(if release { "release" } else { "debug" })
        .join("quiver-load"))
}

fn spawn_workload(
    binary: &Path,
    server: &servers::Server,
    plan: &Plan,
    events: &Path,
    run: &str,
    dir: &Path,
) -> Result<(Child, ChildStdin, mpsc::Receiver<()>), Error> {
    let mut command = Command::new(binary);
    command
        .arg("crash")
        .arg("--events")
        .arg(events)
        .args(["--writers", &plan.writers.to_string()])
        .args(["--readers", &plan.readers.to_string()])
        .args(["--run", run])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    for (key, value) in server.env() {
        if let Some(suffix) = key.strip_prefix(server.env_prefix) {
            command.env(format!("NEO4J{suffix}"), value);
        }
    }
    let mut child = command
        .spawn()
        .map_err(Error::io(format!("starting {}", binary.display())))?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| Error::Failed("no stdin".into()))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::Failed("no stdout".into()))?;
    let log_path = dir.join(format!("{run}.log"));
    let mut log = fs::File::create(&log_path).map_err(Error::io("creating the workload log"))?;
    let (ready_tx, ready) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("READY ") {
                let _ = ready_tx.send(());
            }
            println!("{line}");
            let _ = writeln!(log, "{line}");
        }
    });
    Ok((child, stdin, ready))
}

/// Appends `<unix ms> <fault> <phase>` to the events file the workload reads at the end.
fn record(path: &Path, fault: &str, phase: &str) -> Result<(), Error> {
    let mut file = OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(Error::io("opening the events file"))?;
    writeln!(file, "{} {fault} {phase}", unix_millis()).map_err(Error::io("writing an event"))
}

/// Waits for the workload; true if it passed. Kills it after `timeout`.
fn wait(child: &mut Child, timeout: Duration) -> Result<bool, Error> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(Error::io("waiting for the workload"))?
        {
            return Ok(status.success());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Failed(format!(
                "the workload did not finish within {} s of `stop`",
                timeout.as_secs()
            )));
        }
        thread::sleep(Duration::from_millis(200));
    }
}
