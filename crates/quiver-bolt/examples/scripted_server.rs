//! The core driven without any network: a scripted "server" answers from byte slices. Shows the
//! handshake, HELLO, a pipelined BEGIN + RUN + PULL + COMMIT in one write, and what happens after
//! a FAILURE (IGNORED, then RESET).
//!
//! ```sh
//! cargo run -p quiver-bolt --example scripted_server
//! ```

use std::time::Instant;

use bytes::BytesMut;
use quiver_bolt::chunk::write_chunked;
use quiver_bolt::value::Map;
use quiver_bolt::*;
use quiver_packstream::{encode, to_bytes};

/// A server message: SUCCESS/FAILURE with a map, RECORD with a list, IGNORED with nothing.
fn message(tag: u8, field: Option<quiver_packstream::Value>) -> Vec<u8> {
    let mut msg = BytesMut::new();
    encode::write_struct_header(&mut msg, tag, usize::from(field.is_some())).unwrap();
    if let Some(field) = field {
        msg.extend_from_slice(&to_bytes(&field).unwrap());
    }
    let mut out = BytesMut::new();
    write_chunked(&msg, &mut out);
    out.to_vec()
}

fn map(entries: &[(&str, quiver_packstream::Value)]) -> quiver_packstream::Value {
    quiver_packstream::Value::Map(entries.iter().cloned().collect())
}

fn drain(conn: &mut Connection) {
    if let Some(bytes) = conn.poll_transmit() {
        println!("client writes {} bytes in one write", bytes.len());
    }
    while let Some(event) = conn.poll_event() {
        println!("  event: {event:?}");
    }
    println!(
        "  state: {:?}, in flight: {}",
        conn.server_state(),
        conn.in_flight()
    );
}

fn main() -> Result<(), BoltError> {
    use quiver_packstream::Value as P;
    let now = Instant::now();
    let mut conn = Connection::new(ConnectionConfig::default(), now);
    conn.send(Request::Hello(Hello::new(AuthToken::basic(
        "neo4j", "secret",
    ))))?;
    drain(&mut conn); // the handshake

    conn.handle_input(&[0x00, 0x00, 0x08, 0x05], now)?; // Bolt 5.8
    drain(&mut conn); // HELLO + LOGON
    let mut reply = message(0x70, Some(map(&[("server", P::from("Neo4j/5.26.0"))])));
    reply.extend(message(0x70, Some(map(&[]))));
    conn.handle_input(&reply, now)?;
    drain(&mut conn);

    // A transaction, pipelined.
    conn.send(Request::Begin(TxExtra::default()))?;
    conn.send(Request::run("UNWIND [1, 2] AS x RETURN x", Map::new()))?;
    conn.send(Request::pull_all())?;
    conn.send(Request::Commit)?;
    drain(&mut conn);
    let mut reply = message(0x70, Some(map(&[])));
    reply.extend(message(
        0x70,
        Some(map(&[("fields", P::List(vec![P::from("x")]))])),
    ));
    reply.extend(message(0x71, Some(P::List(vec![P::Integer(1)]))));
    reply.extend(message(0x71, Some(P::List(vec![P::Integer(2)]))));
    reply.extend(message(0x70, Some(map(&[]))));
    reply.extend(message(0x70, Some(map(&[("bookmark", P::from("bm:1"))]))));
    // Any split works: feed it in 7-byte reads.
    for read in reply.chunks(7) {
        conn.handle_input(read, now)?;
    }
    drain(&mut conn);

    // A failure: the PULL behind it is IGNORED, and only RESET is accepted until it is sent.
    conn.send(Request::run("RETURN 1/0", Map::new()))?;
    conn.send(Request::pull_all())?;
    drain(&mut conn);
    let failure = map(&[
        ("code", P::from("Neo.ClientError.Statement.ArithmeticError")),
        ("message", P::from("/ by zero")),
    ]);
    let mut reply = message(0x7F, Some(failure));
    reply.extend(message(0x7E, None));
    conn.handle_input(&reply, now)?;
    drain(&mut conn);
    println!("needs reset: {}", conn.needs_reset());
    println!(
        "RUN now: {}",
        conn.send(Request::run("RETURN 2", Map::new())).unwrap_err()
    );
    conn.send(Request::Reset)?;
    drain(&mut conn);
    conn.handle_input(&message(0x70, Some(map(&[]))), now)?;
    drain(&mut conn);
    Ok(())
}
