//! Running one peer process and measuring it; the benchmark's data in the server.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::resource::{UsageWho, getrusage};

use crate::install::Prepared;
use crate::{Counts, Peer, Workload};

/// The server every peer talks to (`NEO4J_URI`, `NEO4J_USER`, `NEO4J_PASSWORD`).
pub(crate) struct Server {
    pub(crate) uri: String,
    pub(crate) user: String,
    pub(crate) password: String,
}

impl Server {
    pub(crate) fn from_env() -> Server {
        let env =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
        Server {
            uri: env("NEO4J_URI", "bolt://127.0.0.1:7687"),
            user: env("NEO4J_USER", "neo4j"),
            password: env("NEO4J_PASSWORD", "quiver-test-password"),
        }
    }

    fn driver(&self) -> Result<quiver_blocking::Driver, String> {
        let driver = quiver_blocking::Driver::new(
            &self.uri,
            quiver_blocking::AuthToken::basic(&self.user, &self.password),
        )
        .map_err(|e| format!("driver for {}: {e}", self.uri))?;
        driver.verify_connectivity().map_err(|e| {
            format!(
                "cannot reach Neo4j at {} ({e}); `cargo xtask bench` starts one unless NEO4J_URI is set",
                self.uri
            )
        })?;
        Ok(driver)
    }

    /// The server's name and version (`dbms.components()`).
    pub(crate) fn version(&self) -> String {
        let Ok(driver) = self.driver() else {
            return "?".into();
        };
        driver
            .execute_query(
                "CALL dbms.components() YIELD name, versions, edition \
                 RETURN name + ' ' + versions[0] + ' ' + edition AS v",
            )
            .run()
            .ok()
            .and_then(|r| r.records.first().and_then(|r| r.get::<String>("v").ok()))
            .unwrap_or_else(|| "?".into())
    }
}

/// Makes sure `:QuiverBenchPerson {id}` nodes exist for ids `0..persons`, indexed by `id`, for W3.
/// The label is the benchmark's own, so nothing else in a shared server is touched.
pub(crate) fn ensure_persons(server: &Server, persons: u64) -> Result<(), String> {
    let driver = server.driver()?;
    let query = |cypher: &str| {
        driver
            .execute_query(cypher)
            .param("n", persons as i64)
            .run()
            .map_err(|e| format!("preparing the W3 data ({cypher}): {e}"))
    };
    query("CREATE INDEX quiver_bench_person_id IF NOT EXISTS FOR (p:QuiverBenchPerson) ON (p.id)")?;
    query("CALL db.awaitIndexes(300)")?;
    query(
        "UNWIND range(0, $n - 1) AS id \
         MERGE (p:QuiverBenchPerson {id: id}) \
         ON CREATE SET p.name = 'person-' + toString(id), p.age = 20 + id % 60, p.score = 0",
    )?;
    Ok(())
}

/// The 1, 5 and 15 minute load averages (/proc/loadavg).
pub(crate) fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut fields = text
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(f64::NAN));
    [(); 3].map(|()| fields.next().unwrap_or(f64::NAN))
}

/// One run of one workload through one peer.
#[derive(serde::Serialize, Clone)]
pub(crate) struct Sample {
    pub(crate) round: u32,
    pub(crate) workload: &'static str,
    pub(crate) peer: &'static str,
    /// Queries, rows or transactions in the measured phase (1 for `connect`).
    pub(crate) units: u64,
    /// Wall time of the measured phase, as the peer timed it.
    pub(crate) wall_s: f64,
    /// CPU time (user + system) of the measured phase: the process's total from `wait4`
    /// less its own count at the start of the phase.
    pub(crate) cpu_us: f64,
    /// The same phase as the peer counted it (its own rusage at the end less at the start): a
    /// cross-check; the difference is what exiting cost.
    pub(crate) cpu_self_us: f64,
    /// The whole process: startup, connect, warm-up, phase and exit (from `wait4`).
    pub(crate) process_cpu_us: f64,
    /// Peak resident memory of the process (`VmHWM`), KiB.
    pub(crate) peak_rss_kib: u64,
    /// 1-minute load average when the run started.
    pub(crate) load1: f64,
    pub(crate) error: Option<String>,
}

impl Sample {
    /// Throughput: units per second (for `connect`: milliseconds of wall time).
    pub(crate) fn throughput(&self) -> f64 {
        if self.workload == "connect" {
            self.wall_s * 1e3
        } else {
            self.units as f64 / self.wall_s
        }
    }

    /// CPU per unit in µs (for `connect`: milliseconds).
    pub(crate) fn cpu_per_unit(&self) -> f64 {
        if self.workload == "connect" {
            self.cpu_us / 1e3
        } else {
            self.cpu_us / self.units as f64
        }
    }

    pub(crate) fn describe(&self) -> String {
        match &self.error {
            Some(error) => format!("{:<8} {:<22} FAILED: {error}", self.workload, self.peer),
            None if self.workload == "connect" => format!(
                "{:<8} {:<22} {:9.1} ms wall, {:8.2} ms CPU",
                self.workload,
                self.peer,
                self.throughput(),
                self.cpu_per_unit()
            ),
            None => format!(
                "{:<8} {:<22} {:9.0}/s, {:8.2} µs CPU each ({} in {:.2} s; peak RSS {} MiB)",
                self.workload,
                self.peer,
                self.throughput(),
                self.cpu_per_unit(),
                self.units,
                self.wall_s,
                self.peak_rss_kib / 1024
            ),
        }
    }
}

/// User + system time of the reaped children so far, µs.
fn children_cpu_us() -> f64 {
    getrusage(UsageWho::RUSAGE_CHILDREN)
        .map(|u| {
            let us = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 * 1e6 + t.tv_usec() as f64;
            us(u.user_time()) + us(u.system_time())
        })
        .unwrap_or(f64::NAN)
}

/// Runs `workload` once through `peer` in its own process and measures it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn once(
    server: &Server,
    peer: &Peer,
    program: &Prepared,
    workload: &Workload,
    round: u32,
    count: u64,
    warmup: u64,
    counts: &Counts,
    timeout: Duration,
) -> Sample {
    let mut sample = Sample {
        round: round + 1,
        workload: workload.id,
        peer: peer.id,
        units: 0,
        wall_s: f64::NAN,
        cpu_us: f64::NAN,
        cpu_self_us: f64::NAN,
        process_cpu_us: f64::NAN,
        peak_rss_kib: 0,
        load1: load_average()[0],
        error: None,
    };
    match measure(server, program, workload, count, warmup, counts, timeout) {
        Ok(m) => {
            sample.units = m.units;
            sample.wall_s = m.wall_s;
            sample.cpu_us = m.process_cpu_us - m.cpu_start_us;
            sample.cpu_self_us = m.cpu_end_us - m.cpu_start_us;
            sample.process_cpu_us = m.process_cpu_us;
            sample.peak_rss_kib = m.hwm_kb;
            if m.units == 0 {
                sample.error = Some("the peer did no work".into());
            }
        }
        Err(error) => sample.error = Some(error),
    }
    sample
}

struct Measured {
    units: u64,
    wall_s: f64,
    cpu_start_us: f64,
    cpu_end_us: f64,
    process_cpu_us: f64,
    hwm_kb: u64,
}

fn measure(
    server: &Server,
    program: &Prepared,
    workload: &Workload,
    count: u64,
    warmup: u64,
    counts: &Counts,
    timeout: Duration,
) -> Result<Measured, String> {
    let mut command = Command::new(&program.program);
    command
        .args(&program.args)
        .args([
            workload.id.to_owned(),
            count.to_string(),
            warmup.to_string(),
            counts.concurrency.to_string(),
            counts.persons.to_string(),
        ])
        .env("NEO4J_URI", &server.uri)
        .env("NEO4J_USER", &server.user)
        .env("NEO4J_PASSWORD", &server.password)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Only one child at a time: the children's rusage grows by exactly this one's when it is
    // reaped (what wait4 reports for it).
    let before = children_cpu_us();
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.program.display()))?;
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let (done, watchdog) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = watchdog.recv_timeout(timeout) {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            true
        } else {
            false
        }
    });
    let mut stderr = child.stderr.take();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    });
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    let status = child.wait().map_err(|e| format!("wait: {e}"));
    let process_cpu_us = children_cpu_us() - before;
    drop(done);
    let killed = watchdog.join().unwrap_or(false);
    let stderr = errors.join().unwrap_or_default();
    let status = status?;
    let tail = |text: &str| {
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(6)..].join(" | ")
    };
    if killed {
        return Err(format!("killed after {} s", timeout.as_secs()));
    }
    let Some(line) = stdout.lines().find(|l| l.starts_with("QUIVER-BENCH ")) else {
        return Err(format!(
            "exited with {status} without a report: {}",
            tail(&format!("{stdout}\n{stderr}"))
        ));
    };
    if !status.success() {
        return Err(format!("exited with {status}: {}", tail(&stderr)));
    }
    let field = |name: &str| -> Result<f64, String> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("report without {name}: {line}"))
    };
    Ok(Measured {
        units: field("units")? as u64,
        wall_s: field("wall_ns")? / 1e9,
        cpu_start_us: field("cpu_start_us")?,
        cpu_end_us: field("cpu_end_us")?,
        process_cpu_us,
        hwm_kb: field("hwm_kb")? as u64,
    })
}
