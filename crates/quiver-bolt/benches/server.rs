//! The server role's throughput, beside the client role's on the same bytes:
//!
//! * `requests/server_run_pull`: a strict server in READY reads a typical pipelined RUN + PULL
//!   (query, two parameters, `db` and a bookmark), hands both over and answers each with a small
//!   SUCCESS — decode, state and response encoding; counted in requests.
//! * `requests/server_decode_run_pull`: the same two requests decoded only (manual mode, no
//!   answers).
//! * `records/server_encode_1000`: a strict server answers a PULL with 1,000 RECORDs
//!   `[i, "short string", [i, "a"]]` and the final SUCCESS; counted in records.
//! * `records/client_decode_1000`: the client role reads exactly those bytes (64 KiB reads, every
//!   event drained).
//!
//! Run: `cargo bench -p quiver-bolt --bench server`.

use std::hint::black_box;
use std::time::Instant;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quiver_bolt::chunk::write_chunked;
use quiver_bolt::server::{ServerConfig, ServerConnection, ServerEvent, ServerMode};
use quiver_bolt::value::{Map, Value, ValueContext};
use quiver_bolt::*;

const RECORDS: usize = 1_000;
const VERSION: Version = Version::V5_8;

fn run_pull_bytes() -> Vec<u8> {
    let mut parameters = Map::new();
    parameters.insert("id", Value::Integer(42));
    parameters.insert("name", Value::from("Alice"));
    let run = ClientMessage::Run(Run {
        query: "MATCH (p:Person {id: $id}) SET p.name = $name RETURN p.name AS name".into(),
        parameters,
        extra: TxExtra {
            bookmarks: vec!["FB:kcwQrudoI/N8Tiuf053cJMCUyAOQ".into()],
            db: Some("neo4j".into()),
            ..TxExtra::default()
        },
    });
    let pull = ClientMessage::Pull { n: 1000, qid: -1 };
    let ctx = ValueContext::for_version(VERSION.major, VERSION.minor, true);
    let mut out = BytesMut::new();
    for message in [run, pull] {
        let mut body = BytesMut::new();
        message.encode(&ctx, &mut body).unwrap();
        write_chunked(&body, &mut out);
    }
    out.to_vec()
}

/// A client and a server (the given mode) after the handshake, HELLO and LOGON, both READY.
fn ready_pair(mode: ServerMode) -> (Connection, ServerConnection) {
    let now = Instant::now();
    let only = vec![VersionRange::exact(VERSION.major, VERSION.minor)];
    let mut client = Connection::new(ConnectionConfig::default().with_versions(only.clone()), now);
    let mut server = ServerConnection::new(
        ServerConfig::default().with_versions(only).with_mode(mode),
        now,
    );
    client
        .send(Request::Hello(Hello::new(AuthToken::none())))
        .unwrap();
    exchange(&mut client, &mut server, &Map::new());
    assert_eq!(server.state(), ServerState::Ready);
    assert_eq!(client.server_state(), ServerState::Ready);
    (client, server)
}

/// Moves bytes both ways until nothing moves; the server answers every request with SUCCESS
/// `metadata`.
fn exchange(client: &mut Connection, server: &mut ServerConnection, metadata: &Map) {
    let now = Instant::now();
    loop {
        let mut moved = false;
        while let Some(bytes) = client.poll_transmit() {
            server.handle_input(&bytes, now).unwrap();
            moved = true;
        }
        while let Some(event) = server.poll_event() {
            if let ServerEvent::Request(_) = event {
                server.success(metadata.clone()).unwrap();
            }
        }
        while let Some(bytes) = server.poll_transmit() {
            client.handle_input(&bytes, now).unwrap();
            moved = true;
        }
        if !moved {
            break;
        }
    }
    while client.poll_event().is_some() {}
}

fn ready_server(mode: ServerMode) -> ServerConnection {
    ready_pair(mode).1
}

fn fields_metadata() -> Map {
    let mut metadata = Map::new();
    metadata.insert(
        "fields",
        Value::List(vec![Value::from("a"), Value::from("b"), Value::from("c")]),
    );
    metadata
}

/// A client and a strict server with RUN answered and the PULL waiting for its records.
fn streaming_pair() -> (Connection, ServerConnection) {
    let (mut client, mut server) = ready_pair(ServerMode::Strict);
    client
        .send(Request::run(
            "UNWIND range(1, 1000) AS i RETURN i",
            Map::new(),
        ))
        .unwrap();
    client.send(Request::pull_all()).unwrap();
    server
        .handle_input(&client.poll_transmit().unwrap(), Instant::now())
        .unwrap();
    while server.poll_event().is_some() {}
    server.success(fields_metadata()).unwrap(); // RUN; the PULL comes out next
    while server.poll_event().is_some() {}
    client
        .handle_input(&server.poll_transmit().unwrap(), Instant::now())
        .unwrap();
    while client.poll_event().is_some() {}
    assert_eq!((client.in_flight(), server.in_flight()), (1, 1));
    (client, server)
}

fn record(i: i64) -> [Value; 3] {
    [
        Value::Integer(i),
        Value::from("short string"),
        Value::List(vec![Value::Integer(i), Value::from("a")]),
    ]
}

/// The batch: 1,000 RECORDs and the final SUCCESS, as the server writes them.
fn encode_batch(server: &mut ServerConnection) -> bytes::Bytes {
    for i in 0..RECORDS as i64 {
        server.record(&record(i)).unwrap();
    }
    let mut summary = Map::new();
    summary.insert("type", "r");
    server.success(summary).unwrap();
    server.poll_transmit().unwrap()
}

fn bench(c: &mut Criterion) {
    let run_pull = run_pull_bytes();

    let mut requests = c.benchmark_group("requests");
    requests.throughput(Throughput::Elements(2));
    let mut server = ready_server(ServerMode::Strict);
    requests.bench_function("server_run_pull", |b| {
        b.iter(|| {
            server
                .handle_input(black_box(&run_pull), Instant::now())
                .unwrap();
            let mut answered = 0;
            while answered < 2 {
                let Some(ServerEvent::Request(request)) = server.poll_event() else {
                    panic!("a request should be waiting");
                };
                black_box(&request.message);
                let mut metadata = Map::new();
                if answered == 0 {
                    metadata = fields_metadata();
                }
                server.success(metadata).unwrap();
                answered += 1;
            }
            black_box(server.poll_transmit());
        })
    });
    let manual = ready_server(ServerMode::Manual);
    requests.bench_function("server_decode_run_pull", |b| {
        b.iter_batched_ref(
            || manual.clone(),
            |server| {
                server
                    .handle_input(black_box(&run_pull), Instant::now())
                    .unwrap();
                while let Some(event) = server.poll_event() {
                    black_box(event);
                }
            },
            criterion::BatchSize::SmallInput,
        )
    });
    requests.finish();

    let mut records = c.benchmark_group("records");
    records.throughput(Throughput::Elements(RECORDS as u64));
    let (client, streaming) = streaming_pair();
    records.bench_function("server_encode_1000", |b| {
        b.iter_batched_ref(
            || streaming.clone(),
            |server| black_box(encode_batch(server)),
            criterion::BatchSize::SmallInput,
        )
    });
    let batch = encode_batch(&mut streaming.clone());
    records.bench_function("client_decode_1000", |b| {
        b.iter_batched_ref(
            || client.clone(),
            |client| {
                let now = Instant::now();
                for read in batch.chunks(64 * 1024) {
                    client.handle_input(read, now).unwrap();
                }
                let mut n = 0;
                while let Some(event) = client.poll_event() {
                    n += usize::from(matches!(event, Event::Record { .. }));
                    black_box(event);
                }
                assert_eq!(n, RECORDS);
            },
            criterion::BatchSize::SmallInput,
        )
    });
    records.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
