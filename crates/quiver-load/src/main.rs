//! Quiver under load against a real Neo4j, driven by `cargo xtask faults` (and `soak`).
//!
//! `quiver-load crash --events FILE [--writers N] [--readers N] [--run NAME]`: the crash ledger.
//! Writers append unique ids to a ledger with `execute_write` while the server is killed and
//! restarted (by xtask) and connections are cut (by this process's own proxy, on a `cut` line on
//! stdin); readers check, with the writers' bookmarks, that acknowledged writes are visible. On
//! `stop` (or the end of stdin) the ledger is compared with what the clients saw; the exit code
//! is non-zero if an acknowledged write is missing, any write is stored twice, or a write the
//! driver reported as failed (not as of unknown outcome) was stored.
//!
//! `quiver-load soak --csv FILE --svg FILE [--minutes M] [--transactions N] [--workers N]`: the
//! mixed workload on each adapter in turn, sampled every 10 s (see `soak.rs`).
//!
//! The server comes from `NEO4J_URI`, `NEO4J_USER` and `NEO4J_PASSWORD`.

mod chart;
mod crash;
mod proxy;
mod retries;
mod soak;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("crash") => crash::main(&args[1..]),
        Some("soak") => soak::main(&args[1..]),
        _ => Err(
            "usage: quiver-load crash --events FILE [--writers N] [--readers N] [--run NAME]"
                .into(),
        ),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("quiver-load: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The value after `--name` in `args`, parsed.
pub(crate) fn option<T: std::str::FromStr>(
    args: &[String],
    name: &str,
) -> Result<Option<T>, String> {
    let Some(at) = args.iter().position(|arg| arg == name) else {
        return Ok(None);
    };
    let value = args
        .get(at + 1)
        .ok_or_else(|| format!("{name} needs a value"))?;
    value
        .parse()
        .map(Some)
        .map_err(|_| format!("{name}: cannot parse `{value}`"))
}

/// The server to use, from the environment.
pub(crate) fn server_from_env() -> (String, String, String) {
    let get = |key: &str, default: &str| std::env::var(key).unwrap_or_else(|_| default.to_owned());
    (
        get("NEO4J_URI", "bolt://127.0.0.1:7727"),
        get("NEO4J_USER", "neo4j"),
        get("NEO4J_PASSWORD", "quiver-test-password"),
    )
}

/// Milliseconds since the Unix epoch: the clock xtask's event file and this process share.
pub(crate) fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_millis() as u64)
        .unwrap_or(0)
}
