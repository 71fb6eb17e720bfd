//! The `quiver-stub` binary: serves a script file, exits 0 iff it completed, and says why not
//! on stderr.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use quiver_stub::{Script, replay};

const SCRIPT: &str =
    "!: BOLT 5.0\nC: HELLO {\"user_agent\": \"*\"}\nS: SUCCESS {}\nC: RESET\nS: SUCCESS {}\n";

/// Runs the binary on SCRIPT, replays `sent` to it; returns (success, stderr).
fn run(sent: &str, name: &str) -> (bool, String) {
    let path =
        std::env::temp_dir().join(format!("quiver-stub-{}-{name}.script", std::process::id()));
    std::fs::write(&path, SCRIPT).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_quiver-stub"))
        .arg(&path)
        .args(["--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let address = first.trim().rsplit(' ').next().unwrap().parse().unwrap();
    replay::replay(
        &Script::parse(sent).unwrap(),
        address,
        Duration::from_secs(5),
    )
    .unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    for line in stderr.lines() {
        rest.push_str(&line.unwrap());
        rest.push('\n');
    }
    let _ = std::fs::remove_file(&path);
    (status.success(), rest)
}

#[test]
fn the_binary_exits_zero_when_the_script_completes() {
    let (ok, stderr) = run(SCRIPT, "ok");
    assert!(ok, "{stderr}");
}

#[test]
fn the_binary_exits_nonzero_with_the_mismatch_on_stderr() {
    let (ok, stderr) = run(
        "!: BOLT 5.0\nC: HELLO {\"user_agent\": \"x\"}\nC: PULL {\"n\": -1}\n",
        "mismatch",
    );
    assert!(!ok);
    assert!(
        stderr.contains("expected line 4: `C: RESET`, got `PULL {\"n\": -1}`"),
        "{stderr}"
    );
}
