//! The TestKit backend of Quiver.
//!
//! Neo4j's driver conformance suite, TestKit (github `neo4j-drivers/testkit`), drives a driver
//! through a small "backend" program: it connects over TCP, sends JSON requests (`NewDriver`,
//! `SessionRun`, `ResultNext`, …) and checks the answers against scripted Bolt servers or a real
//! Neo4j. This binary is that program for Quiver. It maps every request onto Quiver's *public*
//! API (`quiver-tokio`), so the suite exercises exactly what users use.
//!
//! Environment: `TESTKIT_BACKEND_PORT` (or `TEST_BACKEND_PORT`, the name the suite itself
//! reads), default 9876. One suite connection is one test; each is served independently.

mod backend;
mod callbacks;
mod clock;
mod convert;
mod errors;
mod features;
mod protocol;
mod session;
mod suite;

use std::process::ExitCode;

use tokio::net::TcpListener;
use tokio::task::LocalSet;

/// The port the suite connects to when nothing else is configured.
const DEFAULT_PORT: u16 = 9876;

fn port_from_env() -> Result<u16, String> {
    for name in ["TESTKIT_BACKEND_PORT", "TEST_BACKEND_PORT"] {
        if let Ok(value) = std::env::var(name) {
            return value
                .trim()
                .parse()
                .map_err(|_| format!("{name}={value:?} is not a TCP port number (1-65535)"));
        }
    }
    Ok(DEFAULT_PORT)
}

fn main() -> ExitCode {
    let port = match port_from_env() {
        Ok(port) => port,
        Err(message) => {
            eprintln!("quiver-testkit-backend: {message}");
            return ExitCode::FAILURE;
        }
    };
    // One thread is plenty for a test suite that sends one request at a time, and a LocalSet
    // lets the per-session tasks hold non-`Send` state (`Rc`) shared with their connection.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("quiver-testkit-backend: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = LocalSet::new();
    match local.block_on(&runtime, serve(port)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quiver-testkit-backend: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(port: u16) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on 127.0.0.1:{port} ({e}); is another backend running?"),
        )
    })?;
    eprintln!("quiver-testkit-backend: listening on 127.0.0.1:{port}");
    loop {
        let (stream, peer) = listener.accept().await?;
        tokio::task::spawn_local(async move {
            if let Err(e) = backend::serve_connection(stream).await {
                eprintln!("quiver-testkit-backend: connection from {peer} ended: {e}");
            }
        });
    }
}
