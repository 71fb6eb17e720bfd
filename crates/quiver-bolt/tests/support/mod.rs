//! Transcript tests: a readable script of client (`C:`) and server (`S:`) messages, checked in
//! both directions against the real [`Connection`]:
//!
//! * every `C:` line is turned into a [`Request`] (HELLO+LOGON on 5.1+ into one `Request::Hello`),
//!   sent, and the bytes the connection writes must decode to exactly the messages of the
//!   script (and be canonically encoded);
//! * every `S:` line is encoded to chunked bytes and fed to the connection, which must produce
//!   the events the script implies — whole, split at every byte boundary, and byte by byte.
//!
//! ```text
//! !: BOLT 5.3 5.4          # versions this script runs on (the handshake picks each in turn)
//! C: RUN "RETURN 1 AS n" {} {}
//! S: SUCCESS {"fields": ["n"]}
//! ```
#![allow(dead_code, unreachable_pub)]

pub mod literal;
pub mod scenarios;

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use quiver_bolt::chunk::write_chunked;
use quiver_bolt::server::{RawMessage, ServerConfig, ServerConnection, ServerEvent, ServerMode};
use quiver_bolt::value::{self, Map};
use quiver_bolt::*;
use quiver_packstream::{Structure, Value as PValue};

pub const NAMES: &[(&str, u8)] = &[
    ("HELLO", 0x01),
    ("GOODBYE", 0x02),
    ("RESET", 0x0F),
    ("RUN", 0x10),
    ("BEGIN", 0x11),
    ("COMMIT", 0x12),
    ("ROLLBACK", 0x13),
    ("DISCARD", 0x2F),
    ("PULL", 0x3F),
    ("TELEMETRY", 0x54),
    ("ROUTE", 0x66),
    ("LOGON", 0x6A),
    ("LOGOFF", 0x6B),
    ("SUCCESS", 0x70),
    ("RECORD", 0x71),
    ("IGNORED", 0x7E),
    ("FAILURE", 0x7F),
];

pub fn tag_of(name: &str) -> u8 {
    NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("unknown message {name}"))
        .1
}

pub fn name_of(tag: u8) -> String {
    NAMES
        .iter()
        .find(|(_, t)| *t == tag)
        .map_or(format!("#{tag:02X}"), |(n, _)| (*n).to_owned())
}

#[derive(Debug, Clone)]
pub struct Line {
    pub client: bool,
    pub msg: Structure,
    pub text: String,
}

impl Line {
    pub fn name(&self) -> String {
        name_of(self.msg.tag)
    }
}

#[derive(Debug, Clone)]
pub struct Script {
    pub name: String,
    pub versions: Vec<Version>,
    pub lines: Vec<Line>,
}

pub fn parse_message(text: &str) -> Structure {
    let text = text.trim();
    let (name, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let mut p = literal::Parser::new(rest);
    let mut fields = Vec::new();
    while !p.at_end() {
        fields.push(p.value().unwrap_or_else(|e| panic!("{e} in {text:?}")));
    }
    Structure {
        tag: tag_of(name),
        fields,
    }
}

pub fn render_message(msg: &Structure) -> String {
    let mut s = name_of(msg.tag);
    for f in &msg.fields {
        s.push(' ');
        s.push_str(&literal::render(f));
    }
    s
}

pub fn parse_script(name: &str, text: &str) -> Script {
    let mut script = Script {
        name: name.to_owned(),
        versions: Vec::new(),
        lines: Vec::new(),
    };
    for raw in text.lines() {
        let line = raw.split(" #").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("!: BOLT") {
            for v in rest.split_whitespace() {
                let (major, minor) = v.split_once('.').expect("version like 5.8");
                script
                    .versions
                    .push(Version::new(major.parse().unwrap(), minor.parse().unwrap()));
            }
        } else if let Some(rest) = line.strip_prefix("C:") {
            script.lines.push(Line {
                client: true,
                msg: parse_message(rest),
                text: rest.trim().into(),
            });
        } else if let Some(rest) = line.strip_prefix("S:") {
            script.lines.push(Line {
                client: false,
                msg: parse_message(rest),
                text: rest.trim().into(),
            });
        } else {
            panic!("{name}: cannot read line {raw:?}");
        }
    }
    script
}

/// The message as PackStream bytes (unchunked).
pub fn message_bytes(msg: &Structure) -> Vec<u8> {
    quiver_packstream::to_bytes(&PValue::Structure(msg.clone()))
        .unwrap()
        .to_vec()
}

/// The message as chunked wire bytes.
pub fn wire(msg: &Structure) -> Vec<u8> {
    let mut out = BytesMut::new();
    write_chunked(&message_bytes(msg), &mut out);
    out.to_vec()
}

pub fn vmap(v: &PValue) -> Map {
    match value::Value::from(v.clone()) {
        value::Value::Map(m) => m,
        other => panic!("expected a map, got {other:?}"),
    }
}

/// A server role in manual mode that has negotiated `version`: it reads client messages for the
/// tests (typed and raw), so that no test decodes Bolt by hand.
pub fn reader(version: Version) -> ServerConnection {
    let now = Instant::now();
    let mut server = ServerConnection::new(
        ServerConfig::default()
            .with_mode(ServerMode::Manual)
            .with_max_message_size(usize::MAX),
        now,
    );
    let mut preamble = MAGIC.to_vec();
    preamble.extend([0, 0, version.minor, version.major]);
    preamble.extend([0; 12]);
    server.handle_input(&preamble, now).unwrap();
    let _ = server.poll_transmit();
    assert!(matches!(
        server.poll_event(),
        Some(ServerEvent::Negotiated { .. })
    ));
    server
}

/// The client messages in `bytes`, read by the server role on `version`: typed (an error for
/// one that is not a valid request of the version) and as sent.
pub fn read_requests(
    bytes: &[u8],
    version: Version,
) -> Vec<(Result<ClientMessage, BoltError>, RawMessage)> {
    let mut server = reader(version);
    server.handle_input(bytes, Instant::now()).unwrap();
    let mut out = Vec::new();
    while let Some(event) = server.poll_event() {
        match event {
            ServerEvent::Request(request) => out.push((request.message, request.raw)),
            other => panic!("unexpected {other:?}"),
        }
    }
    server.handle_eof(Instant::now());
    assert_eq!(
        server.poll_event(),
        Some(ServerEvent::Closed),
        "the connection wrote an incomplete message"
    );
    out
}

/// The client message a script line stands for, as the server role reads it on `version`.
fn script_request(line: &Line, version: Version) -> ClientMessage {
    let mut read = read_requests(&wire(&line.msg), version);
    assert_eq!(read.len(), 1);
    read.remove(0)
        .0
        .unwrap_or_else(|e| panic!("{}: not a request of Bolt {version}: {e}", line.text))
}

/// The configuration the script's HELLO implies.
pub fn config_for(script: &Script) -> ConnectionConfig {
    let mut config = ConnectionConfig::default()
        .with_user_agent("quiver-test")
        .with_bolt_agent(BoltAgent {
            product: "quiver-test/1".into(),
            platform: None,
            language: None,
            language_details: None,
        })
        .with_utc_patch(false);
    if let Some(hello) = script.lines.iter().find(|l| l.client && l.msg.tag == 0x01) {
        // Read as the newest version the script names.
        let version = script
            .versions
            .iter()
            .max()
            .copied()
            .unwrap_or(Version::V6_0);
        let ClientMessage::Hello(hello) = script_request(hello, version) else {
            unreachable!()
        };
        config.user_agent = hello.user_agent;
        config.routing = hello.routing;
        config.utc_patch = !hello.patch_bolt.is_empty();
        config.notifications = hello.notifications;
        if let Some(agent) = hello.bolt_agent {
            config.bolt_agent = agent;
        }
    }
    config
}

/// What the test expects back for a request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Hello { logon_follows: bool },
    HelloLogon,
    Other,
}

/// The request that produces the client lines starting at `lines[0]`, and how many lines it
/// covers.
fn request_for(lines: &[Line], version: Version) -> (Request, usize) {
    let request = match script_request(&lines[0], version) {
        ClientMessage::Hello(hello) => {
            if version >= Version::V5_1 {
                let logon = lines.get(1).filter(|l| l.client && l.msg.tag == 0x6A);
                let logon = logon.expect("on 5.1+ the script's HELLO must be followed by LOGON");
                let ClientMessage::Logon(auth) = script_request(logon, version) else {
                    unreachable!()
                };
                return (Request::Hello(Hello::new(auth)), 2);
            }
            Request::Hello(Hello::new(
                hello.auth.expect("HELLO carries the auth on 4.4/5.0"),
            ))
        }
        ClientMessage::Logon(auth) => Request::Logon(auth),
        ClientMessage::Logoff => Request::Logoff,
        ClientMessage::Goodbye => Request::Goodbye,
        ClientMessage::Reset => Request::Reset,
        ClientMessage::Commit => Request::Commit,
        ClientMessage::Rollback => Request::Rollback,
        ClientMessage::Run(run) => Request::Run(run),
        ClientMessage::Begin(extra) => Request::Begin(extra),
        ClientMessage::Pull { n, qid } => Request::Pull { n, qid },
        ClientMessage::Discard { n, qid } => Request::Discard { n, qid },
        ClientMessage::Route(route) => Request::Route(route),
        ClientMessage::Telemetry(api) => Request::Telemetry(api),
        other => panic!("no request for {other:?}"),
    };
    (request, 1)
}

/// Events rendered for comparison (Ready by version only).
pub fn describe(event: &Event) -> String {
    match event {
        Event::Ready { version, .. } => format!("READY {version}"),
        other => format!("{other:?}"),
    }
}

/// The messages in the chunked bytes a connection wrote, read by the server role: each message's
/// bytes and its structure as sent.
pub fn client_messages(bytes: &[u8]) -> Vec<(Bytes, Structure)> {
    // The raw view does not depend on the version.
    read_requests(bytes, Version::V6_0)
        .into_iter()
        .map(|(_, raw)| {
            let structure = Structure {
                tag: raw.tag(),
                fields: raw.fields(),
            };
            (raw.as_bytes().clone(), structure)
        })
        .collect()
}

/// Feeds `bytes` to a copy of `conn` in the given pieces and returns the events.
pub fn feed(conn: &Connection, pieces: &[&[u8]], now: Instant) -> (Connection, Vec<String>) {
    let mut c = conn.clone();
    let mut events = Vec::new();
    for piece in pieces {
        c.handle_input(piece, now)
            .unwrap_or_else(|e| panic!("input rejected: {e}"));
        while let Some(e) = c.poll_event() {
            events.push(describe(&e));
        }
    }
    (c, events)
}

/// Runs `script` on `version`; panics with a readable message on any difference.
pub fn run(script: &Script, version: Version) {
    let ctx = format!("{} on Bolt {version}", script.name);
    let now = Instant::now();
    let mut conn = Connection::new(config_for(script), now);
    let handshake = conn.poll_transmit().unwrap();
    assert_eq!(&handshake[..4], &MAGIC);
    // The handshake reply arrives in two pieces: "need more bytes" is not an error.
    conn.handle_input(&[0, 0], now).unwrap();
    assert_eq!(conn.version(), None);
    conn.handle_input(&[version.minor, version.major], now)
        .unwrap();
    assert_eq!(conn.version(), Some(version), "{ctx}");

    if !script.lines.iter().any(|l| l.msg.tag == 0x01) {
        standard_hello(&mut conn, now);
    }
    let mut expect: VecDeque<(RequestId, Expect)> = VecDeque::new();
    let mut hello_metadata = Map::new();
    let lines = &script.lines;
    let mut i = 0;
    while i < lines.len() {
        if lines[i].client {
            let start = i;
            while i < lines.len() && lines[i].client {
                let (request, used) = request_for(&lines[i..], version);
                let goodbye = matches!(request, Request::Goodbye);
                let id = conn
                    .send(request)
                    .unwrap_or_else(|e| panic!("{ctx}: {}: {e}", lines[i].text));
                match used {
                    2 => {
                        expect.push_back((
                            id,
                            Expect::Hello {
                                logon_follows: true,
                            },
                        ));
                        expect.push_back((id, Expect::HelloLogon));
                    }
                    _ if lines[i].msg.tag == 0x01 => expect.push_back((
                        id,
                        Expect::Hello {
                            logon_follows: false,
                        },
                    )),
                    _ if goodbye => assert!(conn.is_defunct(), "{ctx}: GOODBYE closes"),
                    _ => expect.push_back((id, Expect::Other)),
                }
                i += used;
            }
            let written = conn.poll_transmit().unwrap_or_default();
            let got = client_messages(&written);
            let want: Vec<&Line> = lines[start..i].iter().collect();
            let got_text: Vec<String> = got.iter().map(|(_, s)| render_message(s)).collect();
            let want_text: Vec<String> = want.iter().map(|l| render_message(&l.msg)).collect();
            assert_eq!(
                got.len(),
                want.len(),
                "{ctx}: client wrote {got_text:#?}, script says {want_text:#?}"
            );
            for ((raw, msg), line) in got.iter().zip(&want) {
                assert!(
                    PValue::Structure(msg.clone()) == PValue::Structure(line.msg.clone()),
                    "{ctx}: client wrote\n  {}\nscript says\n  {}",
                    render_message(msg),
                    line.text
                );
                // Canonical: re-encoding what was written gives the same bytes.
                assert_eq!(
                    &message_bytes(msg)[..],
                    &raw[..],
                    "{ctx}: non-canonical encoding of {}",
                    line.text
                );
            }
        } else {
            let mut bytes = Vec::new();
            let mut want = Vec::new();
            while i < lines.len() && !lines[i].client {
                let line = &lines[i];
                bytes.extend(wire(&line.msg));
                let (id, kind) = *expect
                    .front()
                    .unwrap_or_else(|| panic!("{ctx}: {} answers nothing", line.text));
                match (line.name().as_str(), kind) {
                    ("RECORD", _) => {
                        let list = quiver_packstream::to_bytes(&line.msg.fields[0]).unwrap();
                        let mut dec = quiver_packstream::Decoder::new(list);
                        let fields = match value::decode_value(&mut dec, &conn.value_context()) {
                            Ok(value::Value::List(l)) => l,
                            other => panic!("RECORD needs a list, got {other:?}"),
                        };
                        want.push(describe(&Event::Record { id, fields }));
                    }
                    (
                        "SUCCESS",
                        Expect::Hello {
                            logon_follows: true,
                        },
                    ) => {
                        hello_metadata = vmap(&line.msg.fields[0]);
                        expect.pop_front();
                    }
                    ("SUCCESS", Expect::HelloLogon | Expect::Hello { .. }) => {
                        let mut merged = std::mem::take(&mut hello_metadata);
                        for (k, v) in vmap(&line.msg.fields[0]) {
                            merged.insert(k, v);
                        }
                        want.push(describe(&Event::Success {
                            id,
                            metadata: merged,
                        }));
                        want.push(format!("READY {version}"));
                        expect.pop_front();
                    }
                    ("SUCCESS", _) => {
                        want.push(describe(&Event::Success {
                            id,
                            metadata: vmap(&line.msg.fields[0]),
                        }));
                        expect.pop_front();
                    }
                    ("FAILURE", _) => {
                        let failure = Box::new(Failure::from_metadata(&vmap(&line.msg.fields[0])));
                        want.push(describe(&Event::Failure { id, failure }));
                        expect.pop_front();
                    }
                    ("IGNORED", _) => {
                        want.push(describe(&Event::Ignored { id }));
                        expect.pop_front();
                    }
                    (other, _) => panic!("{ctx}: the server cannot send {other}"),
                }
                i += 1;
            }
            let (after, events) = feed(&conn, &[&bytes], now);
            assert_eq!(
                events, want,
                "{ctx}: events for the server lines before line {i}"
            );
            for split in 0..=bytes.len() {
                let (_, split_events) = feed(&conn, &[&bytes[..split], &bytes[split..]], now);
                assert_eq!(split_events, events, "{ctx}: split at byte {split}");
            }
            let singles: Vec<&[u8]> = bytes.chunks(1).collect();
            let (_, single_events) = feed(&conn, &singles, now);
            assert_eq!(single_events, events, "{ctx}: byte by byte");
            conn = after;
        }
    }
    assert!(
        conn.poll_transmit().is_none(),
        "{ctx}: unexpected output at the end"
    );
}

/// HELLO (+LOGON) with basic auth, answered with SUCCESS.
pub fn standard_hello(conn: &mut Connection, now: Instant) {
    let version = conn.version().unwrap();
    conn.send(Request::Hello(Hello::new(AuthToken::basic(
        "neo4j", "pass",
    ))))
    .unwrap();
    let sent = client_messages(&conn.poll_transmit().unwrap());
    assert_eq!(sent[0].1.tag, 0x01);
    assert_eq!(sent.len(), if version >= Version::V5_1 { 2 } else { 1 });
    let mut bytes = wire(&parse_message(
        r#"SUCCESS {"server": "Neo4j/5.26.0", "connection_id": "bolt-1"}"#,
    ));
    if version >= Version::V5_1 {
        bytes.extend(wire(&parse_message("SUCCESS {}")));
    }
    conn.handle_input(&bytes, now).unwrap();
    let events: Vec<Event> = std::iter::from_fn(|| conn.poll_event()).collect();
    assert!(
        matches!(events.last(), Some(Event::Ready { .. })),
        "{events:?}"
    );
    assert_eq!(conn.server_state(), ServerState::Ready);
}

/// Loads every `*.bolt` script in `dir`.
pub fn load_dir(dir: &std::path::Path) -> Vec<Script> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bolt"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            parse_script(
                &p.file_name().unwrap().to_string_lossy(),
                &std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect()
}
