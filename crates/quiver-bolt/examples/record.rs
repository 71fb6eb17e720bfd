//! A tiny blocking Bolt client on `std::net` over the sans-IO core: runs the request rounds of
//! `tests/support/scenarios.rs` against a real server, prints every event, and with an output
//! path writes the exchange byte for byte (`C:` = one write, `S:` = one read, hex) for the replay
//! test `tests/recordings.rs`.
//!
//! ```sh
//! cargo xtask server start neo4j-5
//! cargo run -p quiver-bolt --example record -- 127.0.0.1:7687 neo4j [tests/recordings/neo4j-5.txt]
//! ```

#[allow(unreachable_pub)]
#[path = "../tests/support/scenarios.rs"]
mod scenarios;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use quiver_bolt::{Connection, Event, Request};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:7687".into());
    let user = args.next().unwrap_or_else(|| "neo4j".into());
    let out_path = args.next();

    let mut socket = TcpStream::connect(&address)?;
    socket.set_nodelay(true)?;
    let mut conn = Connection::new(scenarios::config(), Instant::now());
    let mut log = String::new();
    let mut buf = vec![0u8; 64 * 1024];
    for round in scenarios::rounds(&user) {
        for request in round {
            let name = request.name();
            let id = conn.send(request)?;
            println!("C: {name} (#{})", id.get());
        }
        loop {
            if let Some(bytes) = conn.poll_transmit() {
                socket.write_all(&bytes)?;
                log += &format!("C: {}\n", hex(&bytes));
            }
            while let Some(event) = conn.poll_event() {
                match event {
                    Event::Record { id, fields } => println!("S: RECORD #{} {fields:?}", id.get()),
                    other => println!("S: {other:?}"),
                }
            }
            if conn.is_defunct() || (conn.version().is_some() && conn.in_flight() == 0) {
                break;
            }
            // The deadline of the core (the server's recv-timeout hint) or 30 s.
            let timeout = conn
                .poll_timeout()
                .map(|d| d.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(30))
                .max(Duration::from_millis(1));
            socket.set_read_timeout(Some(timeout))?;
            let n = match socket.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    conn.handle_timeout(Instant::now());
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            log += &format!("S: {}\n", hex(&buf[..n]));
            conn.handle_input(&buf[..n], Instant::now())?;
        }
    }
    if !conn.is_defunct() {
        let _ = conn.send(Request::Goodbye);
    }
    let version = conn.version().map(|v| v.to_string()).unwrap_or_default();
    let agent = conn
        .server_info()
        .map(|i| i.agent.clone())
        .unwrap_or_default();
    println!("done: Bolt {version}, server {agent}");
    if let Some(path) = out_path {
        let header = format!(
            "# Recorded with `cargo run -p quiver-bolt --example record -- {address} {user} {path}`\n\
             # server: {agent}\n# bolt: {version}\n# user: {user}\n"
        );
        std::fs::write(&path, header + &log)?;
        println!("wrote {path}");
    }
    Ok(())
}
