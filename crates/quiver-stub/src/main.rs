//! `quiver-stub SCRIPT --listen 127.0.0.1:PORT`: serves a script; exit status 0 iff it completed.
//! `quiver-stub replay SCRIPT --server 127.0.0.1:PORT`: replays a script's `C:` lines to a server.
//! `quiver-stub compat TESTKIT_DIR`: runs TestKit's stub scripts through stub and replay.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use quiver_stub::{Script, StubServer, replay};

const USAGE: &str = "usage:
  quiver-stub SCRIPT --listen 127.0.0.1:PORT [--finish-after SECONDS]
      serve SCRIPT; exit 0 if it completed. A script without ALLOW RESTART/CONCURRENT is done
      after one connection; otherwise the stub finishes after --finish-after seconds (default 30).
  quiver-stub replay SCRIPT --server 127.0.0.1:PORT
      send the C: lines of one path through SCRIPT to a server
  quiver-stub compat TESTKIT_DIR [--reference PYTHON [--mutations]]
      parse and replay TestKit's stub scripts; print the report (Markdown). With --reference
      (TestKit's .venv/bin/python), each completed replay is replayed against TestKit's own stub; with --mutations, wrong
      replays (one request short; an unexpected ROLLBACK) go to both stubs and the verdicts are
      compared.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn option<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn load(path: &str) -> Result<Script, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Script::parse(&text).map_err(|e| format!("{path}: {e}"))
}

fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help") => Err(USAGE.to_owned()),
        Some("compat") => {
            let dir = args.get(1).ok_or(USAGE)?;
            let reference = option(args, "--reference").map(|python| replay::Reference {
                python: python.into(),
                testkit_dir: dir.into(),
            });
            if args.iter().any(|a| a == "--mutations") {
                let reference = reference.ok_or("--mutations needs --reference PYTHON")?;
                print!("{}", replay::mutation_report(Path::new(dir), &reference));
            } else {
                print!(
                    "{}",
                    replay::compat_report_with(Path::new(dir), reference.as_ref())
                );
            }
            Ok(())
        }
        Some("replay") => {
            let script = load(args.get(1).ok_or(USAGE)?)?;
            let server = option(args, "--server").ok_or(USAGE)?;
            let address = server
                .parse()
                .map_err(|e| format!("--server {server}: {e}"))?;
            replay::replay(&script, address, Duration::from_secs(10)).map_err(|e| e.to_string())
        }
        Some(path) => {
            let script = load(path)?;
            let listen = option(args, "--listen").unwrap_or("127.0.0.1:7687");
            let finish_after = match option(args, "--finish-after") {
                Some(s) => s
                    .parse::<f64>()
                    .map_err(|e| format!("--finish-after {s}: {e}"))?,
                None => 30.0,
            };
            let once = !script.allows_restart() && !script.allows_concurrent();
            let stub = StubServer::serve(script, listen).map_err(|e| e.to_string())?;
            eprintln!("quiver-stub: serving {path} on {}", stub.address());
            if once {
                stub.wait_until_done(Duration::MAX / 4);
                stub.finish().map(|_| ()).map_err(|e| e.to_string())
            } else {
                std::thread::sleep(Duration::from_secs_f64(finish_after));
                stub.finish().map(|_| ()).map_err(|e| e.to_string())
            }
        }
    }
}
