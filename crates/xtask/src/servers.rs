//! The test servers `cargo xtask server …` manages: what they are, how to build and start them, and
//! how tests find them (environment variables).
//!
//! Layout, per server, under `<repo>/target/servers/<name>/`: `server.pid`, `server.log` (stdout and
//! stderr of the server), `tls/public.crt` (the certificate to trust for TLS), `work/` (data, wiped at
//! every start, kept by `restart`; Neo4j's databases and transaction logs in `work/data/`), plus build
//! products (`classpath.txt` and `classes/` for Neo4j, `python/` for ArcadeDB).

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::{Error, process, repo_root};

/// Password of the `neo4j` user (Neo4j) and `root` user (ArcadeDB) on every test server.
pub(crate) const PASSWORD: &str = "quiver-test-password";

/// What kind of program a server is, with what it needs to start.
pub(crate) enum Kind {
    /// Neo4j in-process via `neo4j-harness`, from the Maven project `tests/neo4j-server/<project>`.
    Neo4j {
        project: &'static str,
        /// JDK homes to try in order; the first that exists wins. An empty entry means the `java` on
        /// PATH; without one, a missing JDK is an error that names the paths tried.
        java_homes: &'static [&'static str],
        jvm_args: &'static [&'static str],
    },
    /// ArcadeDB from PyPI (`arcadedb-embedded`), run with the JRE that ships in the wheel.
    ArcadeDb {
        version: &'static str,
        http_port: u16,
    },
}

/// One server `cargo xtask server` can start.
pub(crate) struct Server {
    pub(crate) name: &'static str,
    pub(crate) bolt_port: u16,
    /// Port of the TLS-capable Bolt listener, if the server has one.
    pub(crate) tls_port: Option<u16>,
    /// Prefix of the environment variables that point tests at this server (`<PREFIX>_URI`, …).
    pub(crate) env_prefix: &'static str,
    pub(crate) user: &'static str,
    /// Bolt versions the server must accept when offered alone (checked by the smoke test).
    pub(crate) bolt_versions: &'static str,
    /// Whether `cargo xtask test` starts it (without `--with`, or with `--with all`). The fault
    /// tests' own server is not: it exists to be killed.
    pub(crate) in_test_suite: bool,
    pub(crate) kind: Kind,
}

const JAVA_17: &[&str] = &["/usr/lib/jvm/java-17-openjdk-amd64", ""];
const JAVA_25: &[&str] = &[
    "/usr/lib/jvm/temurin-25-jdk-amd64",
    "/usr/lib/jvm/java-25-openjdk-amd64",
];
/// Heap capped: the CI machine (2 cores) runs the server next to compiling and testing.
const NEO4J_JVM: &[&str] = &[
    "-Xms128m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:+ExitOnOutOfMemoryError",
];
/// Java 25 warns loudly about JNA's native access and Netty's `sun.misc.Unsafe` use; allow both.
const NEO4J_JAVA25_JVM: &[&str] = &[
    "-Xms128m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:+ExitOnOutOfMemoryError",
    "--enable-native-access=ALL-UNNAMED",
    "--sun-misc-unsafe-memory-access=allow",
];
/// Neo4j 4.4 predates Java 17's strong encapsulation.
const NEO4J_44_JVM: &[&str] = &[
    "-Xms128m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:+ExitOnOutOfMemoryError",
    "--add-opens",
    "java.base/java.lang=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.nio=ALL-UNNAMED",
    "--add-opens",
    "java.base/sun.nio.ch=ALL-UNNAMED",
];

/// Every server, in the order `status` lists them.
pub(crate) static SERVERS: &[Server] = &[
    Server {
        name: "neo4j-5",
        bolt_port: 7687,
        tls_port: Some(7688),
        env_prefix: "NEO4J",
        user: "neo4j",
        bolt_versions: "5.8,5.4,5.0,4.4",
        in_test_suite: true,
        kind: Kind::Neo4j {
            project: "neo4j-5",
            java_homes: JAVA_17,
            jvm_args: NEO4J_JVM,
        },
    },
    // Neo4j 5.26 again, on ports of its own, for `cargo xtask faults` and `soak`: they kill and
    // restart it, which must never hit the server other tests (and other people) are using.
    Server {
        name: "neo4j-5-faults",
        bolt_port: 7727,
        tls_port: Some(7728),
        env_prefix: "NEO4J_FAULTS",
        user: "neo4j",
        bolt_versions: "5.8,5.4,5.0,4.4",
        in_test_suite: false,
        kind: Kind::Neo4j {
            project: "neo4j-5",
            java_homes: JAVA_17,
            jvm_args: NEO4J_JVM,
        },
    },
    Server {
        name: "neo4j-2026",
        bolt_port: 7697,
        tls_port: Some(7698),
        env_prefix: "NEO4J_2026",
        user: "neo4j",
        bolt_versions: "6.0,5.8,4.4",
        in_test_suite: true,
        kind: Kind::Neo4j {
            project: "neo4j-2026",
            java_homes: JAVA_25,
            jvm_args: NEO4J_JAVA25_JVM,
        },
    },
    Server {
        name: "neo4j-4.4",
        bolt_port: 7707,
        tls_port: Some(7708),
        env_prefix: "NEO4J_44",
        user: "neo4j",
        bolt_versions: "4.4",
        in_test_suite: true,
        kind: Kind::Neo4j {
            project: "neo4j-4.4",
            java_homes: JAVA_17,
            jvm_args: NEO4J_44_JVM,
        },
    },
    Server {
        name: "arcadedb",
        bolt_port: 7717,
        tls_port: None,
        env_prefix: "ARCADEDB",
        user: "root",
        bolt_versions: "5.4,5.0,4.4",
        in_test_suite: true,
        kind: Kind::ArcadeDb {
            version: "26.10.2.post1",
            http_port: 2481,
        },
    },
];

/// Looks a server up by name.
pub(crate) fn find(name: &str) -> Result<&'static Server, Error> {
    SERVERS
        .iter()
        .find(|server| server.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = SERVERS.iter().map(|server| server.name).collect();
            Error::Usage(format!(
                "unknown server `{name}`; known: {}",
                names.join(", ")
            ))
        })
}

/// `cargo xtask server <start|stop|restart|status|env> …`.
pub(crate) fn command(args: &[String]) -> Result<ExitCode, Error> {
    let action = args.first().map(String::as_str);
    let name = args.get(1).map(String::as_str);
    match (action, name) {
        (Some("start"), Some(name)) => {
            let server = find(name)?;
            match server.start()? {
                Started::Now { pid, seconds } => {
                    println!("{} started (pid {pid}) in {seconds:.1} s", server.name);
                }
                Started::Already { pid } => {
                    println!("{} is already running (pid {pid})", server.name)
                }
            }
            print!("{}", server.describe());
            Ok(ExitCode::SUCCESS)
        }
        (Some("restart"), Some(name)) => {
            let server = find(name)?;
            let how = match args.get(2).map(String::as_str) {
                None | Some("--graceful") => Stop::Graceful,
                Some("--kill") => Stop::Kill,
                Some(other) => {
                    return Err(Error::Usage(format!(
                        "unknown restart option `{other}`: use --kill (SIGKILL) or --graceful (SIGTERM, the default)"
                    )));
                }
            };
            let restarted = server.restart(how)?;
            println!(
                "{} {} in {:.1} s, back (pid {}, same data) in {:.1} s",
                server.name,
                if restarted.was_running {
                    match how {
                        Stop::Kill => "killed (SIGKILL)",
                        Stop::Graceful => "stopped (SIGTERM)",
                    }
                } else {
                    "was not running; nothing stopped"
                },
                restarted.stop_seconds,
                restarted.pid,
                restarted.start_seconds
            );
            Ok(ExitCode::SUCCESS)
        }
        (Some("stop"), Some(name)) => {
            let targets: Vec<&Server> = if name == "all" {
                SERVERS.iter().collect()
            } else {
                vec![find(name)?]
            };
            for server in targets {
                match server.stop()? {
                    Stopped::Terminated => println!("{} stopped", server.name),
                    Stopped::Killed => {
                        println!("{} did not stop on SIGTERM; killed it", server.name)
                    }
                    Stopped::NotRunning => println!("{} was not running", server.name),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        (Some("status"), name) => {
            let targets: Vec<&Server> = match name {
                None | Some("all") => SERVERS.iter().collect(),
                Some(name) => vec![find(name)?],
            };
            for server in targets {
                print!("{}", server.describe());
            }
            Ok(ExitCode::SUCCESS)
        }
        (Some("env"), Some(name)) => {
            let server = find(name)?;
            if server.running_pid().is_none() {
                return Err(Error::Failed(format!(
                    "{} is not running; start it with `cargo xtask server start {}`",
                    server.name, server.name
                )));
            }
            for (key, value) in server.env() {
                println!("export {key}='{value}'");
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(Error::Usage(
            "usage: cargo xtask server <start|stop|status|env> <name> | restart <name> [--kill|--graceful]"
                .into(),
        )),
    }
}

/// What [`Server::start_on`] does with the data of an earlier run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    /// Wipe it: an empty database.
    Fresh,
    /// Keep it (restart).
    Keep,
}

/// Result of [`Server::start`].
pub(crate) enum Started {
    Now { pid: u32, seconds: f64 },
    Already { pid: u32 },
}

/// How [`Server::restart`] ends the running server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// SIGTERM: Neo4j closes its databases cleanly (SIGKILL after 60 s).
    Graceful,
    /// SIGKILL: a crash; the next start recovers from the transaction logs.
    Kill,
}

/// Result of [`Server::restart`].
pub(crate) struct Restarted {
    pub(crate) was_running: bool,
    pub(crate) stop_seconds: f64,
    pub(crate) pid: u32,
    pub(crate) start_seconds: f64,
}

/// Result of [`Server::stop`].
pub(crate) enum Stopped {
    Terminated,
    Killed,
    NotRunning,
}

impl Server {
    /// `<repo>/target/servers/<name>`.
    pub(crate) fn dir(&self) -> PathBuf {
        repo_root().join("target").join("servers").join(self.name)
    }

    fn pid_file(&self) -> PathBuf {
        self.dir().join("server.pid")
    }

    pub(crate) fn log_file(&self) -> PathBuf {
        self.dir().join("server.log")
    }

    /// The certificate clients trust for the TLS listener.
    pub(crate) fn ca_file(&self) -> PathBuf {
        self.dir().join("tls").join("public.crt")
    }

    /// Text every process of this server has on its command line (its own directory, with the
    /// separator: `…/neo4j-5/` must not match `…/neo4j-5-faults/…`).
    fn marker(&self) -> String {
        format!("{}/", self.dir().to_string_lossy())
    }

    /// The pid of this server if a process we started is running.
    pub(crate) fn running_pid(&self) -> Option<u32> {
        let pid = process::read_pid(&self.pid_file())?;
        process::is_ours(pid, &self.marker()).then_some(pid)
    }

    /// Environment variables that point tests at this server.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        let prefix = self.env_prefix;
        let mut vars = vec![
            (
                format!("{prefix}_URI"),
                format!("bolt://127.0.0.1:{}", self.bolt_port),
            ),
            (format!("{prefix}_USER"), self.user.to_owned()),
            (format!("{prefix}_PASSWORD"), PASSWORD.to_owned()),
        ];
        if let Some(tls_port) = self.tls_port {
            vars.push((
                format!("{prefix}_TLS_URI"),
                format!("bolt+s://127.0.0.1:{tls_port}"),
            ));
            vars.push((
                format!("{prefix}_TLS_CA"),
                self.ca_file().to_string_lossy().into_owned(),
            ));
        }
        vars
    }

    /// One paragraph for `status`.
    pub(crate) fn describe(&self) -> String {
        let Some(pid) = self.running_pid() else {
            return format!("{}: not running\n", self.name);
        };
        let rss = process::rss_kib(pid)
            .map_or_else(String::new, |kib| format!(", RSS {} MiB", kib / 1024));
        let mut text = format!(
            "{}: running (pid {pid}{rss}), log {}\n",
            self.name,
            self.log_file().display()
        );
        for (key, value) in self.env() {
            text.push_str(&format!("  {key}={value}\n"));
        }
        text
    }

    /// Builds the server if needed, starts it in the background on an empty store and waits until
    /// it answers queries.
    pub(crate) fn start(&self) -> Result<Started, Error> {
        self.start_on(Store::Fresh)
    }

    /// Stops the server (`how`), then starts it again on the same data, as a restarted deployment
    /// would: after a SIGKILL Neo4j recovers its databases from the transaction logs. Returns once
    /// it answers queries again.
    pub(crate) fn restart(&self, how: Stop) -> Result<Restarted, Error> {
        let stopping = Instant::now();
        let running = self.running_pid();
        if let Some(pid) = running {
            match how {
                Stop::Graceful => {
                    process::terminate(pid, &self.marker(), Duration::from_secs(60))?;
                }
                Stop::Kill => process::kill(pid, &self.marker())?,
            }
            let _ = fs::remove_file(self.pid_file());
        }
        let stop_seconds = stopping.elapsed().as_secs_f64();
        match self.start_on(Store::Keep)? {
            Started::Now { pid, seconds } => Ok(Restarted {
                was_running: running.is_some(),
                stop_seconds,
                pid,
                start_seconds: seconds,
            }),
            Started::Already { pid } => Err(Error::Failed(format!(
                "{} (pid {pid}) was still running after it was stopped",
                self.name
            ))),
        }
    }

    fn start_on(&self, store: Store) -> Result<Started, Error> {
        if let Some(pid) = self.running_pid() {
            return Ok(Started::Already { pid });
        }
        let _ = fs::remove_file(self.pid_file());
        let dir = self.dir();
        fs::create_dir_all(&dir).map_err(Error::io(format!("creating {}", dir.display())))?;
        for port in [Some(self.bolt_port), self.tls_port].into_iter().flatten() {
            // A server that was just stopped may hold its port for a moment; wait a little.
            let address = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + Duration::from_secs(10);
            while TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok() {
                if Instant::now() > deadline {
                    return Err(Error::Failed(format!(
                        "port {port} is already in use by a process xtask did not start (see `ss -ltnp`); \
                         stop it, or point the tests at it with NEO4J_URI"
                    )));
                }
                thread::sleep(Duration::from_millis(500));
            }
        }
        let started_at = Instant::now();
        let mut command = match &self.kind {
            Kind::Neo4j {
                project,
                java_homes,
                jvm_args,
            } => self.neo4j_command(project, java_homes, jvm_args)?,
            Kind::ArcadeDb { version, http_port } => self.arcadedb_command(version, *http_port)?,
        };
        let work = dir.join("work");
        if work.exists() && store == Store::Fresh {
            fs::remove_dir_all(&work).map_err(Error::io(format!("clearing {}", work.display())))?;
        }
        fs::create_dir_all(&work).map_err(Error::io(format!("creating {}", work.display())))?;
        let log_path = self.log_file();
        // A restart appends, so the log keeps what the server said before it was stopped; the ready
        // marker is looked for only in what this start wrote.
        let log = fs::OpenOptions::new()
            .create(true)
            .append(store == Store::Keep)
            .write(true)
            .truncate(store == Store::Fresh)
            .open(&log_path)
            .map_err(Error::io(format!("creating {}", log_path.display())))?;
        let log_start = log.metadata().map(|meta| meta.len()).unwrap_or(0);
        let log_err = log
            .try_clone()
            .map_err(Error::io("duplicating the log handle"))?;
        {
            use std::os::unix::process::CommandExt;
            // Own process group: a Ctrl-C in the terminal that ran `server start` must not reach it.
            command.process_group(0);
        }
        let mut child = command
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(Error::io(format!("starting {}", self.name)))?;
        let pid = child.id();
        fs::write(self.pid_file(), format!("{pid}\n"))
            .map_err(Error::io("writing the pid file"))?;
        match self.wait_ready(&mut child, log_start) {
            Ok(()) => Ok(Started::Now {
                pid,
                seconds: started_at.elapsed().as_secs_f64(),
            }),
            Err(err) => {
                let _ = process::terminate(pid, &self.marker(), Duration::from_secs(10));
                let _ = child.wait();
                let _ = fs::remove_file(self.pid_file());
                Err(err)
            }
        }
    }

    fn ready_marker(&self) -> &'static str {
        match self.kind {
            Kind::Neo4j { .. } => "QUIVER-NEO4J-READY",
            Kind::ArcadeDb { .. } => "ArcadeDB Server started",
        }
    }

    fn wait_ready(&self, child: &mut Child, log_start: u64) -> Result<(), Error> {
        let timeout = std::env::var("QUIVER_SERVER_TIMEOUT_SECS")
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(300);
        let deadline = Instant::now() + Duration::from_secs(timeout);
        let log_path = self.log_file();
        loop {
            let log = fs::read(&log_path).unwrap_or_default();
            let this_start = log
                .get(usize::try_from(log_start).unwrap_or(usize::MAX)..)
                .unwrap_or_default();
            if String::from_utf8_lossy(this_start).contains(self.ready_marker()) {
                return Ok(());
            }
            let failure = match child.try_wait() {
                Ok(Some(status)) => Some(format!(
                    "{} exited ({status}) before it was ready",
                    self.name
                )),
                Ok(None) if Instant::now() > deadline => Some(format!(
                    "{} was not ready after {timeout} s (QUIVER_SERVER_TIMEOUT_SECS)",
                    self.name
                )),
                Ok(None) => None,
                Err(err) => Some(format!("could not watch {}: {err}", self.name)),
            };
            if let Some(failure) = failure {
                return Err(Error::Failed(format!(
                    "{failure}; last lines of {}:\n{}",
                    log_path.display(),
                    process::tail(&log_path, 40)
                )));
            }
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops the server if we started it (SIGTERM, SIGKILL after 60 s) and removes its pid file.
    pub(crate) fn stop(&self) -> Result<Stopped, Error> {
        let Some(pid) = self.running_pid() else {
            let _ = fs::remove_file(self.pid_file());
            return Ok(Stopped::NotRunning);
        };
        let killed = process::terminate(pid, &self.marker(), Duration::from_secs(60))?;
        let _ = fs::remove_file(self.pid_file());
        Ok(if killed {
            Stopped::Killed
        } else {
            Stopped::Terminated
        })
    }

    fn neo4j_command(
        &self,
        project: &str,
        java_homes: &[&str],
        jvm_args: &[&str],
    ) -> Result<Command, Error> {
        let root = repo_root();
        let dir = self.dir();
        let java_home = java_homes
            .iter()
            .filter(|home| !home.is_empty())
            .map(PathBuf::from)
            .find(|home| home.join("bin/java").exists());
        if java_home.is_none() && !java_homes.contains(&"") {
            return Err(Error::Failed(format!(
                "{} needs a JDK that is not installed; looked in {}",
                self.name,
                java_homes.join(", ")
            )));
        }
        let tool = |name: &str| {
            java_home
                .as_ref()
                .map_or_else(|| PathBuf::from(name), |home| home.join("bin").join(name))
        };
        let server_root = root.join("tests").join("neo4j-server");
        let pom = server_root.join(project).join("pom.xml");

        // 1. Resolve Neo4j's jars with Maven (offline first: after the first run ~/.m2 has them).
        let classpath_file = dir.join("classpath.txt");
        if is_stale(&classpath_file, std::slice::from_ref(&pom)) {
            let maven = |offline: bool| {
                let mut mvn = Command::new("mvn");
                mvn.args(["-B", "-q"]);
                if offline {
                    mvn.arg("-o");
                }
                mvn.arg("-f")
                    .arg(&pom)
                    .arg("org.apache.maven.plugins:maven-dependency-plugin:2.8:build-classpath")
                    .arg(format!("-Dmdep.outputFile={}", classpath_file.display()));
                if let Some(home) = &java_home {
                    mvn.env("JAVA_HOME", home);
                }
                mvn
            };
            let offline = maven(true)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if !offline.is_ok_and(|status| status.success()) {
                println!(
                    "{}: resolving Neo4j from Maven Central (first use; cached in ~/.m2)…",
                    self.name
                );
                let status = maven(false)
                    .status()
                    .map_err(Error::io("running mvn (is Maven installed?)"))?;
                if !status.success() {
                    return Err(Error::Failed(format!(
                        "mvn could not resolve {}",
                        pom.display()
                    )));
                }
            }
        }
        let classpath = fs::read_to_string(&classpath_file)
            .map_err(Error::io(format!("reading {}", classpath_file.display())))?;
        let classpath = classpath.trim();

        // 2. Compile the launcher (shared sources + this line's ServerSettings.java).
        let mut sources =
            java_files(&server_root.join("launcher/src/main/java/quiver/testserver"))?;
        sources.extend(java_files(&server_root.join(project).join("src"))?);
        let classes = dir.join("classes");
        let stamp = dir.join("classes.stamp");
        let mut inputs = sources.clone();
        inputs.push(classpath_file.clone());
        if is_stale(&stamp, &inputs) {
            if classes.exists() {
                fs::remove_dir_all(&classes).map_err(Error::io("clearing old launcher classes"))?;
            }
            let status = Command::new(tool("javac"))
                .arg("-nowarn")
                .arg("-d")
                .arg(&classes)
                .arg("-cp")
                .arg(classpath)
                .args(&sources)
                .status()
                .map_err(Error::io("running javac"))?;
            if !status.success() {
                return Err(Error::Failed(format!(
                    "javac could not compile the {} launcher",
                    self.name
                )));
            }
            fs::write(&stamp, b"").map_err(Error::io("writing the build stamp"))?;
        }

        // 3. The server command.
        let mut java = Command::new(tool("java"));
        java.args(jvm_args)
            .args(user_java_options())
            .arg("-cp")
            .arg(format!("{}:{classpath}", classes.display()))
            .arg("quiver.testserver.Main")
            .arg("--bolt-port")
            .arg(self.bolt_port.to_string())
            .arg("--tls-port")
            .arg(self.tls_port.unwrap_or(self.bolt_port + 1).to_string())
            .arg("--password")
            .arg(PASSWORD)
            .arg("--work-dir")
            .arg(dir.join("work"))
            // Databases outside the launcher's per-start folder, so `restart` finds them again.
            .arg("--data-dir")
            .arg(dir.join("work").join("data"))
            .arg("--tls-dir")
            .arg(dir.join("tls"));
        Ok(java)
    }

    fn arcadedb_command(&self, version: &str, http_port: u16) -> Result<Command, Error> {
        let dir = self.dir();
        let site = dir.join("python");
        let package = site.join("arcadedb_embedded");
        let stamp = dir.join(format!("arcadedb-{version}.installed"));
        if !stamp.exists() {
            install_arcadedb(version, &site)?;
            fs::write(&stamp, b"").map_err(Error::io("writing the install stamp"))?;
        }
        let work = dir.join("work");
        let mut java = Command::new(package.join("jre/bin/java"));
        java.args(["-Xms128m", "-Xmx512m", "-XX:+UseSerialGC"])
            .args(user_java_options())
            .arg("-cp")
            .arg(format!("{}/jars/*", package.display()))
            .arg(format!("-Darcadedb.server.rootPath={}", work.display()))
            .arg(format!(
                "-Darcadedb.server.databaseDirectory={}/databases",
                work.display()
            ))
            .arg(format!("-Darcadedb.server.rootPassword={PASSWORD}"))
            .arg("-Darcadedb.server.httpIncomingHost=127.0.0.1")
            .arg(format!("-Darcadedb.server.httpIncomingPort={http_port}"))
            .arg("-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin")
            // The Bolt plugin listens on every interface unless told otherwise.
            .arg("-Darcadedb.bolt.host=127.0.0.1")
            .arg(format!("-Darcadedb.bolt.port={}", self.bolt_port))
            .arg("-Darcadedb.server.defaultDatabases=neo4j[root];g1[root]")
            .arg("com.arcadedb.server.ArcadeDBServer");
        Ok(java)
    }
}

/// Installs the ArcadeDB wheel into `site` (`pip install --target`). The wheel is kept in
/// `~/.cache/quiver/wheels`, so a fresh clone on the same machine installs it offline.
fn install_arcadedb(version: &str, site: &Path) -> Result<(), Error> {
    let requirement = format!("arcadedb-embedded=={version}");
    let wheels = std::env::var_os("HOME")
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join(".cache/quiver/wheels");
    // `python3 -m pip <subcommand> <common flags>`; callers append the rest.
    let pip = |subcommand: &str| {
        let mut pip = Command::new("python3");
        pip.args([
            "-m",
            "pip",
            subcommand,
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
        ]);
        pip
    };
    if site.exists() {
        fs::remove_dir_all(site).map_err(Error::io("clearing the old ArcadeDB install"))?;
    }
    let offline = pip("install")
        .args(["--no-index", "--find-links"])
        .arg(&wheels)
        .arg("--target")
        .arg(site)
        .arg(&requirement)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if offline.is_ok_and(|status| status.success()) {
        return Ok(());
    }
    println!(
        "arcadedb: downloading {requirement} from PyPI (first use; kept in {})…",
        wheels.display()
    );
    let downloaded = pip("download")
        .arg("--dest")
        .arg(&wheels)
        .arg(&requirement)
        .status()
        .map_err(Error::io("running python3 -m pip"))?;
    let installed = downloaded.success()
        && pip("install")
            .args(["--no-index", "--find-links"])
            .arg(&wheels)
            .arg("--target")
            .arg(site)
            .arg(&requirement)
            .status()
            .map_err(Error::io("running python3 -m pip"))?
            .success();
    if installed {
        Ok(())
    } else {
        Err(Error::Failed(format!(
            "pip could not download and install {requirement}"
        )))
    }
}

/// A `sh` process in its own process group that stops a server (SIGTERM, SIGKILL after 60 s) when its
/// stdin — a pipe from xtask — closes, which happens however xtask ends, including Ctrl-C and SIGKILL.
/// Used by commands that start a server for their own run and must not leave it behind.
pub(crate) struct StopGuard {
    child: Child,
}

impl StopGuard {
    /// Arms a guard for the server process `pid` started for `server`.
    pub(crate) fn arm(server: &Server, pid: u32) -> Result<StopGuard, Error> {
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
            .arg(server.marker())
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(Error::io("starting the server guard (sh)"))?;
        Ok(StopGuard { child })
    }

    /// Ends the guard without letting it act (the caller stops the server itself).
    pub(crate) fn disarm(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Extra JVM options from `QUIVER_SERVER_JAVA_OPTS` (whitespace-separated), placed after ours so they
/// win — e.g. `-Xmx2g` for a benchmark.
fn user_java_options() -> Vec<String> {
    std::env::var("QUIVER_SERVER_JAVA_OPTS")
        .map(|options| options.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The `.java` files directly in `dir`, sorted.
fn java_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = fs::read_dir(dir).map_err(Error::io(format!("listing {}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "java"))
        .collect();
    files.sort();
    Ok(files)
}

/// True if `output` is missing or older than any of `inputs`.
fn is_stale(output: &Path, inputs: &[PathBuf]) -> bool {
    let modified = |path: &Path| fs::metadata(path).and_then(|meta| meta.modified()).ok();
    let Some(built) = modified(output) else {
        return true;
    };
    inputs
        .iter()
        .any(|input| modified(input).is_none_or(|time: SystemTime| time > built))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fault_tests_server_is_apart_from_the_shared_ones() {
        let faults = find("neo4j-5-faults").expect("neo4j-5-faults");
        let shared = find("neo4j-5").expect("neo4j-5");
        assert!(!faults.in_test_suite);
        assert_ne!(faults.bolt_port, shared.bolt_port);
        assert_ne!(faults.dir(), shared.dir());
        assert!(
            !shared.marker().contains(&faults.marker())
                && !faults.marker().contains(&shared.marker()),
            "a signal meant for one must never match the other's command line"
        );
    }

    #[test]
    fn every_server_has_distinct_ports_and_env_prefixes() {
        let mut ports = Vec::new();
        for server in SERVERS {
            assert!(std::ptr::eq(
                find(server.name).expect("find by name"),
                server
            ));
            ports.push(server.bolt_port);
            ports.extend(server.tls_port);
            if let Kind::ArcadeDb { http_port, .. } = server.kind {
                ports.push(http_port);
            }
        }
        let count = ports.len();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), count, "port clash: {ports:?}");
        assert!(find("neo4j-3").is_err());
    }

    #[test]
    fn neo4j_5_env_is_what_the_tests_read() {
        let env = find("neo4j-5").expect("neo4j-5").env();
        let get = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        assert_eq!(get("NEO4J_URI"), Some("bolt://127.0.0.1:7687"));
        assert_eq!(get("NEO4J_USER"), Some("neo4j"));
        assert_eq!(get("NEO4J_PASSWORD"), Some(PASSWORD));
        assert_eq!(get("NEO4J_TLS_URI"), Some("bolt+s://127.0.0.1:7688"));
        assert!(
            get("NEO4J_TLS_CA")
                .is_some_and(|ca| ca.ends_with("target/servers/neo4j-5/tls/public.crt"))
        );
        let arcadedb = find("arcadedb").expect("arcadedb").env();
        assert!(
            arcadedb
                .iter()
                .all(|(key, _)| key.starts_with("ARCADEDB_") && !key.contains("TLS"))
        );
    }

    #[test]
    fn staleness_follows_modification_times() {
        let dir = std::env::temp_dir().join(format!("xtask-stale-test-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        let input = dir.join("pom.xml");
        let output = dir.join("classpath.txt");
        fs::write(&input, "a").expect("write");
        assert!(
            is_stale(&output, std::slice::from_ref(&input)),
            "missing output is stale"
        );
        thread::sleep(Duration::from_millis(20));
        fs::write(&output, "b").expect("write");
        assert!(!is_stale(&output, std::slice::from_ref(&input)));
        thread::sleep(Duration::from_millis(20));
        fs::write(&input, "c").expect("write");
        assert!(
            is_stale(&output, std::slice::from_ref(&input)),
            "newer input makes it stale"
        );
        assert!(
            is_stale(&output, &[dir.join("missing.java")]),
            "missing input makes it stale"
        );
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn launcher_sources_exist_for_every_neo4j_line() {
        let root = repo_root().join("tests/neo4j-server");
        let shared = java_files(&root.join("launcher/src/main/java/quiver/testserver"))
            .expect("shared sources");
        assert!(shared.iter().any(|path| path.ends_with("Main.java")));
        for server in SERVERS {
            if let Kind::Neo4j { project, .. } = server.kind {
                assert!(
                    root.join(project).join("pom.xml").exists(),
                    "{project}/pom.xml"
                );
                let own = java_files(&root.join(project).join("src")).expect("own sources");
                assert!(
                    own.iter().any(|path| path.ends_with("ServerSettings.java")),
                    "{project}"
                );
            }
        }
    }
}
