//! Installing and building the peers, and drawing the charts. Everything lands under
//! `target/bench/` (and `node_modules/` / Maven's `target/` beside the JavaScript and Java
//! sources); only registries' ordinary clients are used: cargo, pip, the go command, npm, Maven.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Group, Peer, repo_root};

/// A group of peers ready to run: the program and the arguments before each peer's own.
pub(crate) struct GroupReady {
    program: PathBuf,
    args: Vec<String>,
    /// What runs, with versions: (component, version).
    versions: Vec<(String, String)>,
}

/// One peer ready to run.
#[derive(Clone)]
pub(crate) struct Prepared {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<String>,
    pub(crate) versions: Vec<(String, String)>,
}

impl GroupReady {
    pub(crate) fn for_peer(&self, peer: &Peer) -> Prepared {
        let mut args = self.args.clone();
        args.extend(peer.args.iter().map(|a| (*a).to_owned()));
        // Only the components this peer runs on (the Rust groups build several peers).
        let unused: &[&str] = match peer.id {
            "quiver-tokio-mt" | "quiver-tokio-ct" => &["smol"],
            "quiver-smol" => &["tokio"],
            "quiver-blocking" => &["tokio", "smol"],
            "neo4rs-mt" | "neo4rs-ct" => &["neo4j (crate)"],
            "neo4j-crate" => &["neo4rs", "tokio"],
            _ => &[],
        };
        Prepared {
            program: self.program.clone(),
            args,
            versions: self
                .versions
                .iter()
                .filter(|(component, _)| !unused.contains(&component.as_str()))
                .cloned()
                .collect(),
        }
    }
}

fn bench_dir() -> PathBuf {
    repo_root().join("crates/quiver-bench")
}

fn work_dir() -> PathBuf {
    repo_root().join("target/bench")
}

/// Runs `command`; on failure, says what failed with the end of its output.
fn run(command: &mut Command, what: &str) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|e| format!("{what}: cannot run {:?}: {e}", command.get_program()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(text)
    } else {
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(12)..].join("\n    ");
        Err(format!("{what} failed ({}):\n    {tail}", output.status))
    }
}

/// The first line of `program args…`'s output (stdout, else stderr), for versions.
fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|| format!("({program} not found)"))
}

/// The version of `package` in a Cargo.lock.
fn locked_version(lock: &Path, package: &str) -> String {
    let text = std::fs::read_to_string(lock).unwrap_or_default();
    let needle = format!("name = \"{package}\"\nversion = \"");
    text.find(&needle)
        .and_then(|at| {
            let rest = &text[at + needle.len()..];
            rest.split('"').next().map(str::to_owned)
        })
        .unwrap_or_else(|| "?".to_owned())
}

/// Installs or builds `group`'s peers (fast when nothing changed).
pub(crate) fn prepare(group: Group, quick: bool) -> Result<GroupReady, String> {
    let rustc = || {
        let version = first_line("rustc", &["--version"]);
        let version = version.strip_prefix("rustc ").unwrap_or(&version);
        ("rustc".to_owned(), version.to_owned())
    };
    let profile = if quick { "debug" } else { "release" };
    match group {
        Group::Quiver => {
            // Built by `cargo xtask bench` together with this harness.
            let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
            let program = exe.with_file_name("quiver-peer");
            if !program.is_file() {
                return Err(format!(
                    "{} is not built (run `cargo xtask bench`, which builds it)",
                    program.display()
                ));
            }
            let lock = repo_root().join("Cargo.lock");
            let commit = first_line(
                "git",
                &[
                    "-C",
                    &repo_root().to_string_lossy(),
                    "rev-parse",
                    "--short",
                    "HEAD",
                ],
            );
            Ok(GroupReady {
                program,
                args: Vec::new(),
                versions: vec![
                    (
                        "quiver".into(),
                        format!("{} ({commit})", env!("CARGO_PKG_VERSION")),
                    ),
                    ("tokio".into(), locked_version(&lock, "tokio")),
                    ("smol".into(), locked_version(&lock, "smol")),
                    rustc(),
                ],
            })
        }
        Group::RustPeers => {
            let manifest = bench_dir().join("peers/Cargo.toml");
            let target = work_dir().join("peers-target");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            // A quick run only checks the harness: a debug build is enough and builds faster.
            let mut build = Command::new(&cargo);
            build.args(["build", "--locked", "--manifest-path"]);
            build.arg(&manifest).env("CARGO_TARGET_DIR", &target);
            if !quick {
                build.arg("--release");
            }
            run(&mut build, "cargo build (neo4rs, neo4j crate)")?;
            let lock = bench_dir().join("peers/Cargo.lock");
            Ok(GroupReady {
                program: target.join(profile).join("rust-peers"),
                args: Vec::new(),
                versions: vec![
                    ("neo4rs".into(), locked_version(&lock, "neo4rs")),
                    ("neo4j (crate)".into(), locked_version(&lock, "neo4j")),
                    ("tokio".into(), locked_version(&lock, "tokio")),
                    rustc(),
                ],
            })
        }
        Group::PythonPure | Group::PythonRustExt => {
            let (name, requirements) = if group == Group::PythonPure {
                ("python-pure", "requirements-pure.txt")
            } else {
                ("python-rust-ext", "requirements-rust-ext.txt")
            };
            let python = venv(name, &bench_dir().join("python").join(requirements))?;
            let versions = run(
                Command::new(&python).args([
                    "-c",
                    "import sys, importlib.metadata as m\n\
                     print('python', sys.version.split()[0])\n\
                     for p in ('neo4j', 'neo4j-rust-ext'):\n\
                     \x20   try: print(p, m.version(p))\n\
                     \x20   except m.PackageNotFoundError: pass",
                ]),
                "python version check",
            )?;
            Ok(GroupReady {
                program: python,
                args: vec![
                    bench_dir()
                        .join("python/peer.py")
                        .to_string_lossy()
                        .into_owned(),
                ],
                versions: versions
                    .lines()
                    .filter_map(|l| l.split_once(' '))
                    .map(|(a, b)| (a.to_owned(), b.to_owned()))
                    .collect(),
            })
        }
        Group::Go => {
            let program = work_dir().join("go/peer");
            run(
                Command::new("go")
                    .args(["build", "-mod=readonly", "-o"])
                    .arg(&program)
                    .arg(".")
                    .current_dir(bench_dir().join("go")),
                "go build",
            )?;
            let modules = first_dep(&program);
            Ok(GroupReady {
                program,
                args: Vec::new(),
                versions: vec![
                    ("neo4j-go-driver".into(), modules),
                    (
                        "go".into(),
                        first_line("go", &["version"]).replace("go version go", ""),
                    ),
                ],
            })
        }
        Group::Js => {
            let dir = bench_dir().join("js");
            let installed = dir.join("node_modules/neo4j-driver/package.json");
            if !installed.is_file() {
                run(
                    Command::new("npm")
                        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                        .current_dir(&dir),
                    "npm ci",
                )?;
            }
            let version = std::fs::read_to_string(&installed)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v["version"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "?".into());
            Ok(GroupReady {
                program: PathBuf::from("node"),
                args: vec![dir.join("peer.mjs").to_string_lossy().into_owned()],
                versions: vec![
                    ("neo4j-driver".into(), version),
                    ("node".into(), first_line("node", &["--version"])),
                ],
            })
        }
        Group::Java => {
            let dir = bench_dir().join("java");
            run(
                Command::new("mvn")
                    .args(["-q", "-B", "package", "-DskipTests"])
                    .current_dir(&dir),
                "mvn package",
            )?;
            let jars = dir.join("target/dependency");
            let driver = std::fs::read_dir(&jars)
                .map_err(|e| format!("{}: {e}", jars.display()))?
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .find_map(|name| {
                    name.strip_prefix("neo4j-java-driver-")
                        .and_then(|v| v.strip_suffix(".jar"))
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| "?".into());
            let classpath = format!(
                "{}:{}/*",
                dir.join("target/classes").display(),
                jars.display()
            );
            Ok(GroupReady {
                program: PathBuf::from("java"),
                args: vec!["-cp".into(), classpath, "quiver.bench.Peer".into()],
                versions: vec![
                    ("neo4j-java-driver".into(), driver),
                    (
                        "java".into(),
                        first_line("java", &["-version"]).replace(" version", ""),
                    ),
                ],
            })
        }
    }
}

/// The neo4j driver module a Go binary was built with (`go version -m`).
fn first_dep(binary: &Path) -> String {
    let output = Command::new("go")
        .args(["version", "-m"])
        .arg(binary)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    output
        .lines()
        .find_map(|l| {
            let mut fields = l.split_whitespace();
            (fields.next() == Some("dep")
                && fields
                    .next()
                    .is_some_and(|m| m.starts_with("github.com/neo4j/neo4j-go-driver")))
            .then(|| fields.next().unwrap_or("?").to_owned())
        })
        .unwrap_or_else(|| "?".into())
}

/// A virtual environment under `target/bench/<name>` with `requirements` installed; its python.
fn venv(name: &str, requirements: &Path) -> Result<PathBuf, String> {
    let dir = work_dir().join(name);
    let python = dir.join("bin/python");
    if !python.is_file() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&dir),
            "python3 -m venv",
        )?;
    }
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(requirements),
        &format!("pip install -r {}", requirements.display()),
    )?;
    Ok(python)
}

/// Draws one SVG per workload from `out/results.json` with `charts.py` (matplotlib, in its own
/// virtual environment); the files written.
pub(crate) fn draw_charts(out: &Path) -> Result<Vec<String>, String> {
    let python = venv(
        "charts",
        &bench_dir().join("python/requirements-charts.txt"),
    )?;
    let listing = run(
        Command::new(python)
            .arg(bench_dir().join("charts.py"))
            .arg(out.join("results.json"))
            .arg(out),
        "charts.py",
    )?;
    Ok(listing.lines().map(str::to_owned).collect())
}
