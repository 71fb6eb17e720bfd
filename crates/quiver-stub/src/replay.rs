//! A client that replays a script's `C:` lines, and the TestKit compatibility measurement built
//! on it (`quiver-stub compat TESTKIT_DIR`).
//!
//! The replaying client takes one path through the script — each optional or repeated block
//! once, the first of each set of alternatives — and sends the requests on that path, each
//! field a value its `C:` line accepts (wildcards become the simplest value of their kind),
//! encoded as PackStream structures and chunked by the Bolt core. It reads whatever comes back
//! and closes its side; the stub running the script then says whether it completed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::BytesMut;
use quiver_bolt::chunk::Dechunker;
use quiver_packstream::{Decoder, Structure, Value as P};

use crate::script::{Instr, Script, ServerAction};
use crate::server::{StubError, StubServer};
use crate::value::Flavor;

/// Why a replay could not be done (the stub's verdict is separate: [`StubServer::finish`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// Connecting, writing or the handshake failed.
    #[error("replaying to {address} failed: {reason}")]
    Io {
        /// The stub's address.
        address: SocketAddr,
        /// What happened.
        reason: String,
    },
    /// A `C:` line's request could not be written (a value PackStream cannot carry).
    #[error("line {line}: the request cannot be encoded: {reason}")]
    Encode {
        /// The script line.
        line: usize,
        /// What the encoder said.
        reason: String,
    },
}

/// The requests on one path through the script, as (line, tag, fields).
fn client_path(script: &Script) -> Vec<Sent> {
    let program = &script.program;
    let flavor = Flavor {
        element_ids: program.version.major >= 5,
        utc: program.version.major >= 5,
    };
    let mut visits = vec![0u32; program.instrs.len()];
    let mut path = Vec::new();
    let mut pc = 0;
    // Every split is taken once each way at most, so the walk ends; the bound is a safeguard.
    for _ in 0..program.instrs.len() * 4 + 16 {
        match &program.instrs[pc] {
            Instr::Client(line) => {
                if let Some(tag) = quiver_bolt::server::request_tag(&line.name) {
                    let fields = line.fields.iter().map(|p| p.example(flavor)).collect();
                    let answers = usize::from(line.auto && line.name != "GOODBYE");
                    path.push(Sent {
                        line: line.line,
                        tag,
                        fields,
                        answers,
                    });
                }
                pc += 1;
            }
            Instr::Server(line) => {
                let summary = matches!(
                    line.action,
                    ServerAction::Success(_) | ServerAction::Failure(_) | ServerAction::Ignored
                );
                if let (true, Some(last)) = (summary, path.last_mut()) {
                    last.answers += 1;
                }
                pc += 1;
            }
            Instr::Jump(to) => pc = *to,
            Instr::Split(first, second) => {
                visits[pc] += 1;
                pc = if visits[pc] == 1 { *first } else { *second };
            }
            Instr::End => break,
        }
    }
    path
}

/// Connects to `address`, negotiates the script's version, sends the `C:` lines of one path
/// through the script, closes its side and reads until the server closes (at most `timeout`
/// per read).
///
/// The requests are pipelined (written at once), except for scripts with an `<ASSERT ORDER>`:
/// there the client waits for the answers the script gives each request before the next.
pub fn replay(script: &Script, address: SocketAddr, timeout: Duration) -> Result<(), ReplayError> {
    send_path(script, &client_path(script), address, timeout)
}

/// Whether the script demands that the client wait for answers (`<ASSERT ORDER>`).
fn lockstep(script: &Script) -> bool {
    script.program.instrs.iter().any(|i| {
        matches!(i, Instr::Server(line) if matches!(line.action, ServerAction::AssertSilence(..)))
    })
}

/// Reads until `count` summaries (SUCCESS, FAILURE, IGNORED) arrived; false if the server
/// closed or sent something that is not Bolt messages first.
fn await_summaries(stream: &mut TcpStream, input: &mut Dechunker, count: usize) -> bool {
    let summaries: Vec<u8> = ["SUCCESS", "IGNORED", "FAILURE"]
        .into_iter()
        .filter_map(quiver_bolt::server::response_tag)
        .collect();
    let mut seen = 0;
    let mut buf = [0u8; 16 * 1024];
    while seen < count {
        match input.next_message() {
            Ok(Some(message)) => {
                let tag = Decoder::new(message)
                    .read_struct_header()
                    .map(|(tag, _)| tag);
                if tag.is_ok_and(|tag| summaries.contains(&tag)) {
                    seen += 1;
                }
            }
            Ok(None) => match stream.read(&mut buf) {
                Ok(0) | Err(_) => return false,
                Ok(n) => input.extend(&buf[..n]),
            },
            Err(_) => return false,
        }
    }
    true
}

/// One request of a replay.
#[derive(Debug, Clone)]
struct Sent {
    /// The script line it comes from (0: made up by a mutation).
    line: usize,
    tag: u8,
    fields: Vec<P>,
    /// How many summaries (SUCCESS, FAILURE, IGNORED) the script answers it with.
    answers: usize,
}

fn send_path(
    script: &Script,
    path: &[Sent],
    address: SocketAddr,
    timeout: Duration,
) -> Result<(), ReplayError> {
    let io = |e: std::io::Error| ReplayError::Io {
        address,
        reason: e.to_string(),
    };
    // A server that is still starting (TestKit's, in the cross-check) refuses for a moment.
    let deadline = std::time::Instant::now() + timeout;
    let mut stream = loop {
        match TcpStream::connect_timeout(&address, timeout) {
            Ok(stream) => break stream,
            Err(e)
                if e.kind() == std::io::ErrorKind::ConnectionRefused
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(io(e)),
        }
    };
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    let version = script.version();
    let mut handshake = quiver_bolt::MAGIC.to_vec();
    // One proposal, the script's version, then three empty ones.
    handshake.extend_from_slice(&[0, 0, version.minor, version.major]);
    handshake.extend_from_slice(&[0; 12]);
    stream.write_all(&handshake).map_err(io)?;
    let mut agreed = [0u8; 4];
    stream.read_exact(&mut agreed).map_err(io)?;
    if agreed != [0, 0, version.minor, version.major] {
        return Err(ReplayError::Io {
            address,
            reason: format!("the server chose {agreed:02X?}, not Bolt {version}"),
        });
    }
    let mut out = BytesMut::new();
    let mut body = BytesMut::new();
    let mut input = Dechunker::new(64 * 1024 * 1024);
    let mut waiting = lockstep(script);
    for sent in path {
        body.clear();
        let message = P::Structure(Structure::new(sent.tag, sent.fields.clone()));
        quiver_packstream::encode_value(&mut body, &message).map_err(|e| ReplayError::Encode {
            line: sent.line,
            reason: e.to_string(),
        })?;
        quiver_bolt::chunk::write_chunked(&body, &mut out);
        if waiting {
            // The server may close early (`<EXIT>`, a mismatch): then the rest goes at once.
            let _ = stream.write_all(&out.split());
            waiting = await_summaries(&mut stream, &mut input, sent.answers);
        }
    }
    // The server may close early (`<EXIT>`): what it did not read is its business.
    let _ = stream.write_all(&out);
    let _ = stream.shutdown(Shutdown::Write);
    let mut sink = [0u8; 16 * 1024];
    while let Ok(n) = stream.read(&mut sink) {
        if n == 0 {
            break;
        }
    }
    Ok(())
}

/// What happened to one TestKit script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompatResult {
    /// For a Bolt version out of scope (3, 4.1–4.3).
    OutOfScope(String),
    /// A template placeholder the measurement does not substitute remains (`#ERROR#` …).
    Placeholder(String),
    /// The script does not parse.
    ParseError(String),
    /// Parsed, replayed, and the stub reported completion.
    Completed,
    /// Parsed but the replay did not complete.
    Failed(String),
    /// Completed here, but the same replay did not complete on TestKit's own stub server (only
    /// with a [`Reference`]).
    ReferenceDisagrees(String),
}

/// The placeholders substituted before parsing, as TestKit's tests do for a run of the
/// script's directory version (`vNxM`; 5.4 elsewhere), with the values its routing tests use.
pub fn substitutions(path: &Path) -> Vec<(&'static str, String)> {
    // `v4x4`, `v5x0`, `v3_no_routing` …: the version the directory's scripts run as.
    let version = path
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .find_map(|c| {
            let rest = c.strip_prefix('v')?;
            let digits: String = rest
                .chars()
                .take_while(|ch| ch.is_ascii_digit() || *ch == 'x')
                .collect();
            let (major, minor) = digits.split_once('x').unwrap_or((&digits, "0"));
            (major.parse::<u8>().is_ok() && minor.parse::<u8>().is_ok())
                .then(|| format!("{major}.{minor}"))
        })
        .unwrap_or_else(|| "5.4".to_owned());
    let routing_ctx =
        r#"{"address": "127.0.0.1:9000", "region": "china", "policy": "my_policy"}"#.to_owned();
    let error = "Neo.TransientError.General.DatabaseUnavailable";
    let failure = format!(r#"{{"code": "{error}", "message": "stub"}}"#);
    let auth = r#""principal": "neo4j", "credentials": "pass""#.to_owned();
    // Quoted forms first: `"#ERROR#"` is a code, a bare `#ERROR#` a whole FAILURE map.
    vec![
        ("#VERSION#", version.clone()),
        ("#BOLT_VERSION#", version.clone()),
        ("#BOLT_PROTOCOL#", version),
        ("#HOST#", "127.0.0.1".to_owned()),
        ("#SERVER_AGENT#", "Neo4j/5.26.0".to_owned()),
        ("#ROUTINGCTX#", routing_ctx.clone()),
        (
            "#EXTR_HELLO_ROUTING_PROPS#",
            format!(r#", "routing": {routing_ctx}"#),
        ),
        (
            "#EXTR_HELLO_ROUTING_PROPS_EMPTY_CTX#",
            r#", "routing": {"address": "127.0.0.1:9000"}"#.to_owned(),
        ),
        ("#HELLO_ROUTINGCTX#", routing_ctx),
        ("#USER_AGENT#", "007".to_owned()),
        ("#ROUTING#", String::new()),
        ("#TYPE#", "r".to_owned()),
        ("\"#MODE#\"", "\"r\"".to_owned()),
        ("\"#DB#\"", "\"neo4j\"".to_owned()),
        ("\"#ERROR#\"", format!("\"{error}\"")),
        ("#ERROR#", failure.clone()),
        ("#FAILURE#", failure),
        ("#DRIVER_AUTH#", auth.clone()),
        ("#VERIFY_AUTH#", auth),
        ("#NOTIFICATIONS#", "[]".to_owned()),
        ("#STATUSES#", "[]".to_owned()),
        ("#EMIT#", "[]".to_owned()),
        ("#PLAN#", "{}".to_owned()),
        ("#PROFILE#", "{}".to_owned()),
        ("#EXTRA_HELLO_PARAMS#", String::new()),
        ("#NOTIS#", String::new()),
        ("#BM_IN#", r#""[bookmarks]": "*""#.to_owned()),
        ("#DELAY#", "0.1".to_owned()),
        ("#RESULT#", "1".to_owned()),
    ]
}

/// Runs one TestKit script file: substitute, check the version, parse, replay.
pub fn run_testkit_script(path: &Path) -> CompatResult {
    run_testkit_script_with(path, None)
}

/// TestKit's own stub server, to replay the same paths against (a cross-check of the replays).
#[derive(Debug, Clone)]
pub struct Reference {
    /// A Python with TestKit's requirements (TestKit's `.venv/bin/python`).
    pub python: PathBuf,
    /// The TestKit checkout (its `boltstub` package is run from there).
    pub testkit_dir: PathBuf,
}

/// Replays `script` (its substituted `text`) against TestKit's stub server; `Ok` if that stub
/// exits with status 0 (the script completed there too).
fn run_on_reference(
    reference: &Reference,
    text: &str,
    script: &Script,
    path: &[Sent],
) -> Result<(), String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let file = std::env::temp_dir().join(format!(
        "quiver-stub-reference-{}-{}.script",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let child = std::process::Command::new(&reference.python)
        .args([
            "-m",
            "boltstub",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-t",
            "60",
        ])
        .arg(&file)
        .current_dir(&reference.testkit_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", reference.python.display()))?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let replayed = send_path(script, path, address, Duration::from_secs(20));
    if script.allows_restart() || script.allows_concurrent() {
        // TestKit ends such a stub with SIGINT: it then checks that every script may end.
        let _ = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
    }
    let output = child.wait_with_output().map_err(|e| e.to_string());
    let _ = std::fs::remove_file(&file);
    let output = output?;
    replayed.map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        let said = String::from_utf8_lossy(&output.stdout).replace('\n', " ");
        Err(format!(
            "TestKit's stub exited with {}: {}",
            output.status,
            said.trim()
        ))
    }
}

/// The substituted text and the parsed script of an in-scope TestKit script that parses.
fn load_testkit_script(path: &Path) -> Option<(String, Script)> {
    let mut text = std::fs::read_to_string(path).ok()?;
    for (from, to) in substitutions(path) {
        text = text.replace(from, &to);
    }
    if find_placeholder(&text).is_some() {
        return None;
    }
    let script = Script::parse(&text).ok()?;
    let v = script.version();
    (v.major >= 5 || (v.major, v.minor) == (4, 4)).then_some((text, script))
}

fn run_testkit_script_with(path: &Path, reference: Option<&Reference>) -> CompatResult {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return CompatResult::ParseError(format!("unreadable: {e}")),
    };
    let mut text = text;
    for (from, to) in substitutions(path) {
        text = text.replace(from, &to);
    }
    let bolt = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("!:")
                .map(str::trim)
                .and_then(|l| l.strip_prefix("BOLT"))
        })
        .map(|v| v.trim().to_owned())
        .unwrap_or_default();
    let in_scope = bolt == "4.4" || bolt.starts_with("5.") || bolt.starts_with("6.");
    if !in_scope {
        return CompatResult::OutOfScope(format!("Bolt {bolt}"));
    }
    if let Some(name) = find_placeholder(&text) {
        return CompatResult::Placeholder(name);
    }
    let script = match Script::parse(&text) {
        Ok(script) => script,
        Err(e) => return CompatResult::ParseError(e.message),
    };
    let stub = match StubServer::serve(script.clone(), "127.0.0.1:0") {
        Ok(stub) => stub.with_finish_timeout(Duration::from_secs(5)),
        Err(e) => return CompatResult::Failed(e.to_string()),
    };
    if let Err(e) = replay(&script, stub.address(), Duration::from_secs(10)) {
        return CompatResult::Failed(e.to_string());
    }
    let ours = match stub.finish() {
        Ok(_) => CompatResult::Completed,
        Err(StubError::Failed { failures, .. }) => CompatResult::Failed(failures.join("; ")),
        Err(e) => CompatResult::Failed(e.to_string()),
    };
    match (ours, reference) {
        (CompatResult::Completed, Some(reference)) => {
            match run_on_reference(reference, &text, &script, &client_path(&script)) {
                Ok(()) => CompatResult::Completed,
                Err(why) => CompatResult::ReferenceDisagrees(why),
            }
        }
        (ours, _) => ours,
    }
}

/// A `#NAME#` placeholder left in a script's lines (not in comments).
fn find_placeholder(text: &str) -> Option<String> {
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find('#') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('#') else { break };
            let name = &after[..end];
            if !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
            {
                return Some(format!("#{name}#"));
            }
            rest = &after[end..];
        }
    }
    None
}

/// Every `tests/stub/**/scripts/**/*.script` of a TestKit checkout, sorted.
pub fn testkit_scripts(testkit_dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, in_scripts: bool, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                let scripts = in_scripts || path.file_name().is_some_and(|n| n == "scripts");
                walk(&path, scripts, out);
            } else if in_scripts && path.extension().is_some_and(|e| e == "script") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&testkit_dir.join("tests").join("stub"), false, &mut out);
    out.sort();
    out
}

/// Runs every TestKit stub script and returns the report (Markdown). With a [`Reference`],
/// each replay that completes here is also replayed against TestKit's own stub server.
pub fn compat_report(testkit_dir: &Path) -> String {
    compat_report_with(testkit_dir, None)
}

/// [`compat_report`], optionally cross-checked against TestKit's stub server.
pub fn compat_report_with(testkit_dir: &Path, reference: Option<&Reference>) -> String {
    let scripts = testkit_scripts(testkit_dir);
    let mut results = Vec::new();
    let mut slowest = Vec::new();
    for path in &scripts {
        let started = std::time::Instant::now();
        let result = run_testkit_script_with(path, reference);
        let shown = path
            .strip_prefix(testkit_dir)
            .unwrap_or(path)
            .display()
            .to_string();
        slowest.push((started.elapsed(), shown.clone()));
        results.push((shown, result));
    }
    slowest.sort();
    slowest.reverse();
    let count = |f: &dyn Fn(&CompatResult) -> bool| results.iter().filter(|(_, r)| f(r)).count();
    let total = results.len();
    let out_of_scope = count(&|r| matches!(r, CompatResult::OutOfScope(_)));
    let placeholder = count(&|r| matches!(r, CompatResult::Placeholder(_)));
    let parse_errors = count(&|r| matches!(r, CompatResult::ParseError(_)));
    let completed = count(&|r| matches!(r, CompatResult::Completed));
    let disagreements = count(&|r| matches!(r, CompatResult::ReferenceDisagrees(_)));
    let failed = count(&|r| matches!(r, CompatResult::Failed(_)));
    let in_scope = total - out_of_scope - placeholder;
    let parsed = completed + failed + disagreements;
    let completed_here = completed + disagreements;
    let pct = |n: usize| {
        if in_scope == 0 {
            0.0
        } else {
            100.0 * n as f64 / in_scope as f64
        }
    };
    let mut report = String::new();
    let _ = writeln!(report, "| scripts | count |\n|---|---|");
    let _ = writeln!(
        report,
        "| found (`tests/stub/**/scripts/*.script`) | {total} |"
    );
    let _ = writeln!(
        report,
        "| out of scope (Bolt 3, 4.1–4.3) | {out_of_scope} |"
    );
    let _ = writeln!(report, "| placeholder not substituted | {placeholder} |");
    let _ = writeln!(
        report,
        "| **in scope (Bolt 4.4, 5.x, 6.0)** | **{in_scope}** |"
    );
    let _ = writeln!(report, "| parsed | {parsed} ({:.1}%) |", pct(parsed));
    let _ = writeln!(
        report,
        "| replayed to completion | {completed_here} ({:.1}%) |",
        pct(completed_here)
    );
    if reference.is_some() {
        let _ = writeln!(
            report,
            "| … and the same replay completed on TestKit's own stub | {completed} ({:.1}%) |",
            pct(completed)
        );
    }
    let _ = writeln!(report, "| parse errors | {parse_errors} |");
    let _ = writeln!(report, "| replay did not complete | {failed} |");
    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for (_, result) in &results {
        if let CompatResult::Placeholder(name) = result {
            *groups.entry(format!("placeholder {name}")).or_default() += 1;
        }
    }
    let _ = writeln!(report, "\nPlaceholders left:");
    for (what, n) in &groups {
        let _ = writeln!(report, "- {what}: {n}");
    }
    let _ = writeln!(report, "\nParse errors (unsupported constructs):");
    for (path, result) in &results {
        if let CompatResult::ParseError(message) = result {
            let _ = writeln!(report, "- `{path}`: {message}");
        }
    }
    let _ = writeln!(report, "\nSlowest scripts (`<SLEEP>`s and timeouts):");
    for (elapsed, path) in slowest.iter().take(5) {
        let _ = writeln!(report, "- `{path}`: {:.1} s", elapsed.as_secs_f64());
    }
    if reference.is_some() {
        let _ = writeln!(report, "\nCompleted here, not on TestKit's stub:");
        for (path, result) in &results {
            if let CompatResult::ReferenceDisagrees(message) = result {
                let _ = writeln!(report, "- `{path}`: {message}");
            }
        }
    }
    let _ = writeln!(report, "\nReplays that did not complete:");
    for (path, result) in &results {
        if let CompatResult::Failed(message) = result {
            let _ = writeln!(report, "- `{path}`: {message}");
        }
    }
    report
}

/// A deliberately wrong replay, for comparing verdicts with TestKit's stub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mutation {
    /// The path without its last request (the client leaves one request early).
    DropLast,
    /// A ROLLBACK inserted after the first request (a request the script does not expect there,
    /// unless an AUTO or wildcard line takes it).
    ExtraRollback,
    /// The first string field of the first request after HELLO that has one (a RUN's query, a
    /// map's string value) changed: rejected where the line is exact, accepted under a wildcard.
    AlterString,
    /// The first integer in a map field (PULL's `n` …) changed, after HELLO.
    AlterInteger,
}

const MUTATIONS: [Mutation; 4] = [
    Mutation::DropLast,
    Mutation::ExtraRollback,
    Mutation::AlterString,
    Mutation::AlterInteger,
];

/// Changes the first string (`string: true`) or integer found in `value`, maps included.
fn alter(value: &mut P, string: bool) -> bool {
    match value {
        P::String(s) if string => {
            *s = format!("{}-altered", s.as_str()).into();
            true
        }
        P::Integer(i) if !string => {
            *i = i.wrapping_add(7);
            true
        }
        P::Map(map) => map.values_mut().any(|v| alter(v, string)),
        _ => false,
    }
}

fn mutate(path: &[Sent], mutation: Mutation) -> Option<Vec<Sent>> {
    let mut path = path.to_vec();
    match mutation {
        Mutation::DropLast => {
            path.pop()?;
        }
        Mutation::ExtraRollback => {
            if path.is_empty() {
                return None;
            }
            let tag = quiver_bolt::server::request_tag("ROLLBACK")?;
            path.insert(
                1,
                Sent {
                    line: 0,
                    tag,
                    fields: Vec::new(),
                    answers: 0,
                },
            );
        }
        Mutation::AlterString | Mutation::AlterInteger => {
            let string = mutation == Mutation::AlterString;
            let altered = path.iter_mut().skip(1).any(|sent| {
                sent.fields.iter_mut().any(|f| match f {
                    // Integers only inside maps: a top-level integer is rare and structural.
                    P::Integer(_) => false,
                    f => alter(f, string),
                })
            });
            if !altered {
                return None;
            }
        }
    }
    Some(path)
}

/// Replays mutated paths of every in-scope script that parses to this stub and to TestKit's,
/// and counts how often the two stubs' verdicts (completed or not) agree (Markdown).
pub fn mutation_report(testkit_dir: &Path, reference: &Reference) -> String {
    let mut rows = Vec::new();
    for path in testkit_scripts(testkit_dir) {
        let Some((text, script)) = load_testkit_script(&path) else {
            continue;
        };
        let shown = path
            .strip_prefix(testkit_dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        for mutation in MUTATIONS {
            let Some(mutated) = mutate(&client_path(&script), mutation) else {
                continue;
            };
            let ours = match StubServer::serve(script.clone(), "127.0.0.1:0") {
                Ok(stub) => {
                    let stub = stub.with_finish_timeout(Duration::from_secs(5));
                    let sent =
                        send_path(&script, &mutated, stub.address(), Duration::from_secs(10));
                    sent.is_ok() && stub.finish().is_ok()
                }
                Err(_) => continue,
            };
            let theirs = run_on_reference(reference, &text, &script, &mutated).is_ok();
            rows.push((shown.clone(), mutation, ours, theirs));
        }
    }
    let mut report = String::new();
    let total = rows.len();
    let agree = rows.iter().filter(|r| r.2 == r.3).count();
    let _ = writeln!(
        report,
        "| mutated replays | both complete | both reject | only this stub completes | only TestKit's completes |"
    );
    let _ = writeln!(report, "|---|---|---|---|---|");
    for mutation in MUTATIONS {
        let of: Vec<_> = rows.iter().filter(|r| r.1 == mutation).collect();
        let n =
            |ours: bool, theirs: bool| of.iter().filter(|r| r.2 == ours && r.3 == theirs).count();
        let _ = writeln!(
            report,
            "| {mutation:?}: {} | {} | {} | {} | {} |",
            of.len(),
            n(true, true),
            n(false, false),
            n(true, false),
            n(false, true)
        );
    }
    let _ = writeln!(
        report,
        "\nVerdicts agree on {agree} of {total} mutated replays.\n\nDisagreements:"
    );
    for (path, mutation, ours, theirs) in &rows {
        if ours != theirs {
            let _ = writeln!(
                report,
                "- `{path}` {mutation:?}: this stub {}, TestKit's {}",
                verdict(*ours),
                verdict(*theirs)
            );
        }
    }
    report
}

fn verdict(completed: bool) -> &'static str {
    if completed { "completed" } else { "rejected" }
}
