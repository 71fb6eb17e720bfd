//! The client core against the server core, in memory: no network, no runtime. Shows the
//! handshake (manifest v1), HELLO + LOGON, a pipelined BEGIN + RUN + PULL + COMMIT in one write,
//! and what happens after a FAILURE: the server core itself answers IGNORED to what was
//! pipelined behind it, and only RESET is accepted until it is sent.
//!
//! ```sh
//! cargo run -p quiver-bolt --example scripted_server
//! ```

use std::time::Instant;

use quiver_bolt::server::{ServerConfig, ServerConnection, ServerEvent};
use quiver_bolt::value::{Map, Value};
use quiver_bolt::*;

/// The server application: answers each request the server core hands over (strict mode: one at
/// a time, only those a real server would run).
fn answer(server: &mut ServerConnection, message: ClientMessage) -> Result<(), BoltError> {
    match message {
        ClientMessage::Hello(hello) => {
            println!("  server: HELLO from {:?}", hello.user_agent);
            let mut info = Map::new();
            info.insert("server", "Neo4j/5.26.0");
            info.insert("connection_id", "bolt-1");
            server.success(info)
        }
        ClientMessage::Run(run) if run.query.contains("1/0") => {
            let mut failure = Failure::from_metadata(&Map::new());
            failure.code = "Neo.ClientError.Statement.ArithmeticError".into();
            failure.message = Some("/ by zero".into());
            server.failure(&failure)
        }
        ClientMessage::Run(run) => {
            println!("  server: RUN {:?}", run.query);
            let mut metadata = Map::new();
            metadata.insert("fields", Value::List(vec![Value::from("x")]));
            server.success(metadata)
        }
        ClientMessage::Pull { .. } => {
            for x in [1, 2] {
                server.record(&[Value::Integer(x)])?;
            }
            server.success(Map::new())
        }
        ClientMessage::Commit => {
            let mut metadata = Map::new();
            metadata.insert("bookmark", "bm:1");
            server.success(metadata)
        }
        _ => server.success(Map::new()), // LOGON, BEGIN, RESET
    }
}

/// Moves bytes between the two until nothing moves; in 7-byte reads, to show that any split
/// works.
fn exchange(client: &mut Connection, server: &mut ServerConnection) -> Result<(), BoltError> {
    let now = Instant::now();
    loop {
        let mut moved = false;
        while let Some(bytes) = client.poll_transmit() {
            println!("client writes {} bytes in one write", bytes.len());
            for read in bytes.chunks(7) {
                server.handle_input(read, now)?;
            }
            moved = true;
        }
        while let Some(event) = server.poll_event() {
            match event {
                ServerEvent::Request(request) => answer(server, request.message?)?,
                ServerEvent::Handled(request) => println!(
                    "  server core: {} answered by itself: {:?}",
                    request.raw.name().unwrap_or("?"),
                    request.verdict
                ),
                other => println!("  server: {other:?}"),
            }
        }
        while let Some(bytes) = server.poll_transmit() {
            for read in bytes.chunks(7) {
                client.handle_input(read, now)?;
            }
            moved = true;
        }
        if !moved {
            break;
        }
    }
    while let Some(event) = client.poll_event() {
        println!("  client event: {event:?}");
    }
    println!(
        "  client sees {:?}, server is {:?}",
        client.server_state(),
        server.state()
    );
    Ok(())
}

fn main() -> Result<(), BoltError> {
    let now = Instant::now();
    let mut client = Connection::new(ConnectionConfig::default(), now);
    let mut server = ServerConnection::new(ServerConfig::default(), now);
    client.send(Request::Hello(Hello::new(AuthToken::basic(
        "neo4j", "secret",
    ))))?;
    exchange(&mut client, &mut server)?;

    // A transaction, pipelined.
    client.send(Request::Begin(TxExtra::default()))?;
    client.send(Request::run("UNWIND [1, 2] AS x RETURN x", Map::new()))?;
    client.send(Request::pull_all())?;
    client.send(Request::Commit)?;
    exchange(&mut client, &mut server)?;

    // A failure: the PULL behind it is IGNORED by the server core, and the client accepts only
    // RESET until it is sent.
    client.send(Request::run("RETURN 1/0", Map::new()))?;
    client.send(Request::pull_all())?;
    exchange(&mut client, &mut server)?;
    println!("needs reset: {}", client.needs_reset());
    println!(
        "RUN now: {}",
        client
            .send(Request::run("RETURN 2", Map::new()))
            .unwrap_err()
    );
    client.send(Request::Reset)?;
    exchange(&mut client, &mut server)?;
    Ok(())
}
