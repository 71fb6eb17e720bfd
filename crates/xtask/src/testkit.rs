//! `cargo xtask testkit`: Neo4j's driver conformance suite (TestKit) against Quiver's backend.
//!
//! TestKit lives outside this repository (github `neo4j-drivers/testkit`, not vendored). This
//! command builds `quiver-testkit-backend`, starts it on a free port, runs the suite's stub tests
//! (and with `--neo4j` the tests against a real server) module by module with `python -m
//! unittest`-style loading, prints passed / failed / skipped per test group with a one-line cause
//! for every failure, and stops the backend. Full tracebacks go to `target/testkit/`.

use std::fmt::Write as _;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::{Error, repo_root, testkit_rust_branches};

const USAGE: &str = "\
usage: cargo xtask testkit --testkit-dir DIR [--filter PATTERN] [--neo4j] [--debug] [--port N]
                           [--rust-error-names]

  --testkit-dir DIR  a checkout of github.com/neo4j-drivers/testkit (with `python3 -m venv .venv`
                     and `.venv/bin/pip install -r requirements.txt` done; else python3 is used)
  --filter PATTERN   only test modules whose dotted name contains PATTERN
                     (e.g. `iteration`, `stub.tx_run`, `test_summary`)
  --neo4j            also run tests/neo4j against the server in TEST_NEO4J_HOST/PORT/USER/PASS
                     (or NEO4J_URI/NEO4J_USER/NEO4J_PASSWORD, e.g. from `cargo xtask server env`)
  --debug            build and run the backend in the dev profile (faster to build)
  --port N           backend port (default: a free one)
  --rust-error-names run a copy of the suite (target/testkit/suite-rust) in which the ~26 helpers
                     that check error type names per official driver also know Quiver's (they
                     fail for any driver they do not know); DIR itself is not changed";

/// How long one test module may run before it is stopped.
const MODULE_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// Runs the given test modules and writes one line per test: `verdict<TAB>test id<TAB>detail`.
/// Subtests count towards their test: it fails if any subtest fails, passes if at least one
/// passed and none failed, and is skipped if all were skipped; skipped subtests are also
/// counted on their own. Only tests defined in the module itself run (modules import each
/// other's test classes).
const RUNNER: &str = r#"
import re, sys, unittest
out = open(sys.argv[1], "w")
log = open(sys.argv[2], "w")
RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
class Result(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.verdicts = {}
        self.subskips = {}
        self.subpasses = {}
    def _set(self, test, verdict, detail=""):
        test = getattr(test, "test_case", test)
        tid = test.id()
        old = self.verdicts.get(tid)
        if old is None or RANK[verdict] > RANK[old[0]]:
            self.verdicts[tid] = (verdict, detail)
    def _err(self, test, err):
        text = self._exc_info_to_string(err, test)
        log.write("=" * 70 + "\n" + test.id() + "\n" + text + "\n")
        lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
        # The exception line, not the tail of an assertion diff.
        for line in reversed(lines):
            if re.match(r"^[\w.]+(Error|Exception|Exit)\b", line):
                return line
        return lines[-1] if lines else ""
    def addSuccess(self, test):
        self._set(test, "passed")
    def addFailure(self, test, err):
        self._set(test, "failed", self._err(test, err))
    def addError(self, test, err):
        self._set(test, "error", self._err(test, err))
    def addSkip(self, test, reason):
        if hasattr(test, "test_case"):
            tid = test.test_case.id()
            self.subskips[tid] = self.subskips.get(tid, 0) + 1
        else:
            self._set(test, "skipped", reason)
    def addExpectedFailure(self, test, err):
        self._set(test, "passed")
    def addUnexpectedSuccess(self, test):
        self._set(test, "failed", "unexpected success")
    def addSubTest(self, test, subtest, err):
        if err is None:
            self.subpasses[test.id()] = self.subpasses.get(test.id(), 0) + 1
            return
        verdict = "failed" if issubclass(err[0], test.failureException) else "error"
        self._set(subtest, verdict, self._err(subtest, err))
def flatten(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from flatten(item)
        else:
            yield item
# A module also holds the test classes it imports from another module: run only its own
# (import failures come as tests of the `unittest.loader` module and are kept).
names = sys.argv[3:]
tests = [t for t in flatten(unittest.defaultTestLoader.loadTestsFromNames(names))
         if any(t.id().startswith(n + ".") for n in names) or "loader" in t.id()]
result = Result()
unittest.TestSuite(tests).run(result)
# A skipped subtest makes unittest withhold the test's own success: decide from its subtests.
for tid in set(result.subskips) | set(result.subpasses):
    if tid not in result.verdicts:
        if result.subpasses.get(tid, 0) > 0:
            result.verdicts[tid] = ("passed", "")
        else:
            result.verdicts[tid] = ("skipped", "all subtests skipped")
for tid, (verdict, detail) in result.verdicts.items():
    detail = " ".join(str(detail).split())[:300]
    out.write("%s\t%s\t%s\t%d\n" % (verdict, tid, detail, result.subskips.get(tid, 0)))
"#;

struct Options {
    testkit_dir: PathBuf,
    /// Where the tests run from: `testkit_dir`, or the copy with rust branches.
    suite_dir: PathBuf,
    rust_error_names: bool,
    filter: Option<String>,
    neo4j: bool,
    debug: bool,
    port: Option<u16>,
}

fn parse(args: &[String]) -> Result<Options, Error> {
    let usage = |message: String| Error::Usage(format!("{message}\n\n{USAGE}"));
    let mut options = Options {
        testkit_dir: PathBuf::new(),
        suite_dir: PathBuf::new(),
        rust_error_names: false,
        filter: None,
        neo4j: false,
        debug: false,
        port: None,
    };
    let mut dir = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| usage(format!("{name} needs a value")))
        };
        match arg.as_str() {
            "--testkit-dir" => dir = Some(PathBuf::from(value("--testkit-dir")?)),
            "--filter" => options.filter = Some(value("--filter")?),
            "--neo4j" => options.neo4j = true,
            "--debug" => options.debug = true,
            "--rust-error-names" => options.rust_error_names = true,
            "--port" => {
                let text = value("--port")?;
                options.port = Some(
                    text.parse()
                        .map_err(|_| usage(format!("--port {text}: not a port number")))?,
                );
            }
            "-h" | "--help" => return Err(Error::Usage(USAGE.to_owned())),
            other => return Err(usage(format!("unknown argument `{other}`"))),
        }
    }
    let dir = dir.ok_or_else(|| usage("--testkit-dir is required".to_owned()))?;
    if !dir.join("nutkit").is_dir() || !dir.join("tests").join("stub").is_dir() {
        return Err(Error::Failed(format!(
            "{} is not a TestKit checkout (no nutkit/ and tests/stub/); get it from \
             github.com/neo4j-drivers/testkit",
            dir.display()
        )));
    }
    options.suite_dir = dir.clone();
    options.testkit_dir = dir;
    Ok(options)
}

/// `cargo xtask testkit …`.
pub(crate) fn command(args: &[String]) -> Result<ExitCode, Error> {
    let mut options = parse(args)?;
    if options.rust_error_names {
        let copy = target_dir().join("testkit").join("suite-rust");
        let patched = testkit_rust_branches::prepare(&options.testkit_dir, &copy)?;
        println!(
            "xtask: --rust-error-names: running a copy of the suite in {} with a rust branch in \
             {patched} error-name helpers (the unmodified suite in {} is the reference)",
            copy.display(),
            options.testkit_dir.display()
        );
        options.suite_dir = copy;
    }
    let neo4j_env = if options.neo4j {
        neo4j_env()?
    } else {
        Vec::new()
    };
    let python = python(&options.testkit_dir);
    let mut modules = test_modules(&options.testkit_dir, "stub")?;
    if options.neo4j {
        modules.extend(test_modules(&options.testkit_dir, "neo4j")?);
    }
    if let Some(filter) = &options.filter {
        modules.retain(|module| module.contains(filter.as_str()));
    }
    if modules.is_empty() {
        return Err(Error::Failed(
            "no test module matches the filter".to_owned(),
        ));
    }

    let binary = build_backend(options.debug)?;
    let port = match options.port {
        Some(port) => port,
        None => free_port()?,
    };
    let out_dir = target_dir().join("testkit");
    fs::create_dir_all(&out_dir).map_err(Error::io(format!("creating {}", out_dir.display())))?;
    let mut backend = Backend::start(&binary, port, &out_dir.join("backend.log"))?;

    println!(
        "xtask: running {} test module(s) from {} with {}",
        modules.len(),
        options.suite_dir.display(),
        python
    );
    let mut outcomes = Vec::new();
    for module in &modules {
        let started = Instant::now();
        let result = run_module(&options, &python, port, module, &out_dir, &neo4j_env);
        let outcome = match result {
            Ok(tests) => tests,
            Err(err) => vec![TestOutcome {
                verdict: Verdict::Error,
                id: module.clone(),
                detail: err.to_string(),
                skipped_subtests: 0,
            }],
        };
        let (passed, failed, skipped) = count(&outcome);
        println!(
            "  {module}: {passed} passed, {failed} failed, {skipped} skipped ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        outcomes.push((module.clone(), outcome));
        if !backend.alive() {
            eprintln!(
                "xtask: the backend died; see {}; restarting it",
                out_dir.join("backend.log").display()
            );
            backend = Backend::start(&binary, port, &out_dir.join("backend.log"))?;
        }
    }
    backend.stop();

    let report = report(&outcomes);
    print!("{report}");
    let report_file = out_dir.join("report.txt");
    fs::write(&report_file, &report)
        .map_err(Error::io(format!("writing {}", report_file.display())))?;
    println!(
        "xtask: report in {}, tracebacks in {}/*.failures.log, backend log in {}",
        report_file.display(),
        out_dir.display(),
        out_dir.join("backend.log").display()
    );
    let failed: usize = outcomes.iter().map(|(_, tests)| count(tests).1).sum();
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                repo_root().join(dir)
            }
        })
        .unwrap_or_else(|| repo_root().join("target"))
}

fn python(testkit_dir: &Path) -> String {
    let venv = testkit_dir.join(".venv").join("bin").join("python");
    if venv.is_file() {
        venv.to_string_lossy().into_owned()
    } else {
        "python3".to_owned()
    }
}

/// `tests.<kind>.…` module names of every `test_*.py` under `tests/<kind>`, sorted.
fn test_modules(testkit_dir: &Path, kind: &str) -> Result<Vec<String>, Error> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), Error> {
        let entries = fs::read_dir(dir).map_err(Error::io(format!("listing {}", dir.display())))?;
        for entry in entries {
            let entry = entry.map_err(Error::io(format!("listing {}", dir.display())))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() && path.join("__init__.py").is_file() {
                walk(&path, &format!("{prefix}.{name}"), out)?;
            } else if let Some(stem) = name.strip_suffix(".py") {
                if stem.starts_with("test_") {
                    out.push(format!("{prefix}.{stem}"));
                }
            }
        }
        Ok(())
    }
    let mut modules = Vec::new();
    walk(
        &testkit_dir.join("tests").join(kind),
        &format!("tests.{kind}"),
        &mut modules,
    )?;
    modules.sort();
    Ok(modules)
}

/// The environment for tests/neo4j: TEST_NEO4J_* as given, or derived from NEO4J_URI & co.
fn neo4j_env() -> Result<Vec<(String, String)>, Error> {
    if std::env::var_os("TEST_NEO4J_HOST").is_some() {
        return Ok(Vec::new());
    }
    let Ok(uri) = std::env::var("NEO4J_URI") else {
        return Err(Error::Failed(
            "--neo4j needs a server: set TEST_NEO4J_HOST (and TEST_NEO4J_PORT/USER/PASS/VERSION/\
             EDITION), or NEO4J_URI/NEO4J_USER/NEO4J_PASSWORD (`cargo xtask server start neo4j-5` \
             then `eval $(cargo xtask server env neo4j-5)`)"
                .to_owned(),
        ));
    };
    let authority = uri.split_once("://").map_or(uri.as_str(), |(_, rest)| rest);
    let authority = authority.trim_end_matches('/');
    let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "7687"));
    let mut env = vec![
        ("TEST_NEO4J_HOST".to_owned(), host.to_owned()),
        ("TEST_NEO4J_PORT".to_owned(), port.to_owned()),
        ("TEST_NEO4J_SCHEME".to_owned(), "bolt".to_owned()),
    ];
    if let Ok(user) = std::env::var("NEO4J_USER") {
        env.push(("TEST_NEO4J_USER".to_owned(), user));
    }
    if let Ok(password) = std::env::var("NEO4J_PASSWORD") {
        env.push(("TEST_NEO4J_PASS".to_owned(), password));
    }
    // The suite's tests compare server agent and Bolt version with TEST_NEO4J_VERSION and skip
    // Enterprise-only tests by TEST_NEO4J_EDITION (defaults "4.4"/"enterprise"): fill them in for
    // the servers xtask runs, unless given.
    if let Some((version, edition)) = known_server(host, port) {
        for (name, value) in [
            ("TEST_NEO4J_VERSION", version),
            ("TEST_NEO4J_EDITION", edition),
        ] {
            if std::env::var_os(name).is_none() {
                env.push((name.to_owned(), value.to_owned()));
            }
        }
    }
    Ok(env)
}

/// Version and edition of the local servers `cargo xtask server` starts, by address.
fn known_server(host: &str, port: &str) -> Option<(&'static str, &'static str)> {
    if !matches!(host, "127.0.0.1" | "localhost") {
        return None;
    }
    match port {
        "7687" | "7688" => Some(("5.26", "community")),
        "7697" | "7698" => Some(("2026.08", "community")),
        "7707" | "7708" => Some(("4.4", "community")),
        _ => None,
    }
}

fn build_backend(debug: bool) -> Result<PathBuf, Error> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(&cargo);
    command
        .current_dir(repo_root())
        .args(["build", "-p", "quiver-testkit-backend"]);
    if !debug {
        command.arg("--release");
    }
    println!(
        "xtask: building quiver-testkit-backend ({})",
        if debug { "dev" } else { "release" }
    );
    let status = command
        .status()
        .map_err(Error::io(format!("running {cargo} build")))?;
    if !status.success() {
        return Err(Error::Failed(format!(
            "building quiver-testkit-backend failed ({status})"
        )));
    }
    let binary = target_dir()
        .join(if debug { "debug" } else { "release" })
        .join("quiver-testkit-backend");
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(Error::Failed(format!(
            "the build succeeded but {} is missing",
            binary.display()
        )))
    }
}

fn free_port() -> Result<u16, Error> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(Error::io("finding a free port"))?;
    let port = listener
        .local_addr()
        .map_err(Error::io("finding a free port"))?
        .port();
    Ok(port)
}

/// The backend process (started and stopped by us, by its own handle).
struct Backend {
    child: Child,
}

impl Backend {
    fn start(binary: &Path, port: u16, log: &Path) -> Result<Backend, Error> {
        let log_file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(Error::io(format!("opening {}", log.display())))?;
        let log_err = log_file
            .try_clone()
            .map_err(Error::io(format!("opening {}", log.display())))?;
        let child = Command::new(binary)
            .env("TESTKIT_BACKEND_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(Error::io(format!("starting {}", binary.display())))?;
        let mut backend = Backend { child };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if !backend.alive() || Instant::now() > deadline {
                backend.stop();
                return Err(Error::Failed(format!(
                    "the backend did not start listening on port {port}; see {}",
                    log.display()
                )));
            }
            thread::sleep(Duration::from_millis(50));
        }
        println!(
            "xtask: backend (pid {}) listening on 127.0.0.1:{port}",
            backend.child.id()
        );
        Ok(backend)
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Passed,
    Failed,
    Error,
    Skipped,
}

struct TestOutcome {
    verdict: Verdict,
    id: String,
    detail: String,
    skipped_subtests: u32,
}

fn run_module(
    options: &Options,
    python: &str,
    port: u16,
    module: &str,
    out_dir: &Path,
    neo4j_env: &[(String, String)],
) -> Result<Vec<TestOutcome>, Error> {
    let results = out_dir.join(format!("{module}.results.tsv"));
    let failures = out_dir.join(format!("{module}.failures.log"));
    let output = out_dir.join(format!("{module}.output.log"));
    let output_file =
        fs::File::create(&output).map_err(Error::io(format!("creating {}", output.display())))?;
    let output_err = output_file
        .try_clone()
        .map_err(Error::io(format!("creating {}", output.display())))?;
    let mut child = Command::new(python)
        .current_dir(&options.suite_dir)
        .arg("-c")
        .arg(RUNNER)
        .arg(&results)
        .arg(&failures)
        .arg(module)
        .env("TEST_BACKEND_HOST", "127.0.0.1")
        .env("TEST_BACKEND_PORT", port.to_string())
        .env("TEST_DRIVER_NAME", "rust")
        .envs(neo4j_env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(output_file)
        .stderr(output_err)
        .spawn()
        .map_err(Error::io(format!("running {python}")))?;
    let deadline = Instant::now() + MODULE_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Failed(format!(
                    "{module} ran longer than {} minutes and was stopped",
                    MODULE_TIMEOUT.as_secs() / 60
                )));
            }
            Ok(None) => thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(Error::io(format!("waiting for {python}"))(e)),
        }
    };
    let text = fs::read_to_string(&results).map_err(|_| {
        Error::Failed(format!(
            "{module}: the runner exited with {status} without results; see {}",
            output.display()
        ))
    })?;
    Ok(text.lines().filter_map(parse_outcome).collect())
}

fn parse_outcome(line: &str) -> Option<TestOutcome> {
    let mut fields = line.splitn(4, '\t');
    let verdict = match fields.next()? {
        "passed" => Verdict::Passed,
        "failed" => Verdict::Failed,
        "error" => Verdict::Error,
        "skipped" => Verdict::Skipped,
        _ => return None,
    };
    let id = fields.next()?.to_owned();
    let detail = fields.next().unwrap_or_default().to_owned();
    let skipped_subtests = fields
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    Some(TestOutcome {
        verdict,
        id,
        detail,
        skipped_subtests,
    })
}

/// (passed, failed including errors, skipped).
fn count(tests: &[TestOutcome]) -> (usize, usize, usize) {
    let of = |wanted: &[Verdict]| tests.iter().filter(|t| wanted.contains(&t.verdict)).count();
    (
        of(&[Verdict::Passed]),
        of(&[Verdict::Failed, Verdict::Error]),
        of(&[Verdict::Skipped]),
    )
}

/// `tests.stub.iteration.test_result_list` → `stub/iteration`; `tests.neo4j.test_tx_run` →
/// `neo4j/test_tx_run`.
fn group_of(module: &str) -> String {
    let parts: Vec<&str> = module.split('.').collect();
    match parts.as_slice() {
        ["tests", kind, group, _, ..] => format!("{kind}/{group}"),
        ["tests", kind, module] => format!("{kind}/{module}"),
        _ => module.to_owned(),
    }
}

fn report(outcomes: &[(String, Vec<TestOutcome>)]) -> String {
    let mut groups: Vec<(String, (usize, usize, usize, u32))> = Vec::new();
    for (module, tests) in outcomes {
        let group = group_of(module);
        let (passed, failed, skipped) = count(tests);
        let subskips: u32 = tests.iter().map(|t| t.skipped_subtests).sum();
        match groups.iter_mut().find(|(name, _)| *name == group) {
            Some((_, totals)) => {
                totals.0 += passed;
                totals.1 += failed;
                totals.2 += skipped;
                totals.3 += subskips;
            }
            None => groups.push((group, (passed, failed, skipped, subskips))),
        }
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "\n{:<40} {:>7} {:>7} {:>8} {:>17}",
        "group", "passed", "failed", "skipped", "skipped subtests"
    );
    let mut totals = (0, 0, 0, 0);
    for (group, (passed, failed, skipped, subskips)) in &groups {
        let _ = writeln!(
            text,
            "{group:<40} {passed:>7} {failed:>7} {skipped:>8} {subskips:>17}"
        );
        totals.0 += passed;
        totals.1 += failed;
        totals.2 += skipped;
        totals.3 += subskips;
    }
    let _ = writeln!(
        text,
        "{:<40} {:>7} {:>7} {:>8} {:>17}",
        "total", totals.0, totals.1, totals.2, totals.3
    );
    let failures: Vec<&TestOutcome> = outcomes
        .iter()
        .flat_map(|(_, tests)| tests)
        .filter(|t| matches!(t.verdict, Verdict::Failed | Verdict::Error))
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(text, "\nfailures ({}):", failures.len());
        for test in failures {
            let id = test.id.strip_prefix("tests.").unwrap_or(&test.id);
            let _ = writeln!(text, "  {id}\n      {}", test.detail);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_servers_get_their_version_and_edition() {
        assert_eq!(
            known_server("127.0.0.1", "7687"),
            Some(("5.26", "community"))
        );
        assert_eq!(
            known_server("localhost", "7707"),
            Some(("4.4", "community"))
        );
        assert_eq!(known_server("db.example.com", "7687"), None);
        assert_eq!(known_server("127.0.0.1", "9999"), None);
    }

    #[test]
    fn groups_are_the_folder_under_stub_or_the_neo4j_module() {
        assert_eq!(
            group_of("tests.stub.iteration.test_result_list"),
            "stub/iteration"
        );
        assert_eq!(
            group_of("tests.stub.authorization.verify_authentication.test_verify_authentication"),
            "stub/authorization"
        );
        assert_eq!(group_of("tests.neo4j.test_tx_run"), "neo4j/test_tx_run");
    }

    #[test]
    fn runner_lines_parse_and_count() {
        let lines = "passed\ttests.stub.a.test_x.T.test_1\t\t2\n\
                     failed\ttests.stub.a.test_x.T.test_2\tAssertionError: 1 != 2\t0\n\
                     error\ttests.stub.a.test_x.T.test_3\tBackendError\t0\n\
                     skipped\ttests.stub.a.test_x.T.test_4\trouting\t0\n\
                     garbage line";
        let tests: Vec<TestOutcome> = lines.lines().filter_map(parse_outcome).collect();
        assert_eq!(tests.len(), 4);
        assert_eq!(count(&tests), (1, 2, 1));
        assert_eq!(tests[0].skipped_subtests, 2);
        let report = report(&[("tests.stub.a.test_x".to_owned(), tests)]);
        assert!(report.contains("stub/a"));
        assert!(report.contains("AssertionError: 1 != 2"));
        assert!(report.contains("failures (2)"));
    }

    #[test]
    fn options_need_a_testkit_checkout() {
        let args = vec!["--filter".to_owned(), "x".to_owned()];
        assert!(matches!(parse(&args), Err(Error::Usage(_))));
        let args = vec!["--testkit-dir".to_owned(), "/nonexistent".to_owned()];
        assert!(matches!(parse(&args), Err(Error::Failed(_))));
        let args = vec!["--bogus".to_owned()];
        assert!(matches!(parse(&args), Err(Error::Usage(_))));
    }
}
