//! Property test: random pipelines against a model server that follows the Bolt state rules.
//! Whatever the client accepts, the model server must find valid in its state (the client's
//! validation is sound); every accepted request gets exactly one summary event, in order,
//! records only for PULLs; and the client's view of the state matches the model's at the end of
//! every round. Server bytes arrive in random splits.

mod support;

use std::collections::VecDeque;
use std::time::Instant;

use proptest::prelude::*;
use quiver_bolt::value::Map;
use quiver_bolt::*;
use support::{client_messages, parse_message, standard_hello, wire};

#[derive(Debug, Clone, Copy, PartialEq)]
enum ModelState {
    Ready,
    Streaming { left: u32 },
    Tx { streams: u32, last_left: u32 },
    Failed,
}

/// The model server: answers one client message (tag, first-field `n`) and returns the server
/// lines it sends.
struct Model {
    state: ModelState,
    rows: u32,
    fail_next_run: bool,
}

impl Model {
    fn answer(&mut self, tag: u8, n: i64) -> Vec<String> {
        use ModelState::*;
        if self.state == Failed && tag != 0x0F {
            return vec!["IGNORED".into()];
        }
        let take = |left: u32| if n < 0 { left } else { left.min(n as u32) };
        match (tag, self.state) {
            (0x0F, _) => {
                self.state = Ready;
                vec!["SUCCESS {}".into()]
            }
            (0x10, Ready | Tx { .. }) => {
                if std::mem::take(&mut self.fail_next_run) {
                    self.state = Failed;
                    return vec![r#"FAILURE {"code": "Neo.ClientError.Statement.SyntaxError", "message": "m"}"#.into()];
                }
                self.state = match self.state {
                    Tx { streams, .. } => Tx {
                        streams: streams + 1,
                        last_left: self.rows,
                    },
                    _ => Streaming { left: self.rows },
                };
                vec![r#"SUCCESS {"fields": ["x"]}"#.into()]
            }
            (0x3F | 0x2F, Streaming { left })
            | (
                0x3F | 0x2F,
                Tx {
                    last_left: left, ..
                },
            ) => {
                let k = take(left);
                let mut lines: Vec<String> = if tag == 0x3F {
                    (0..k).map(|i| format!("RECORD [{i}]")).collect()
                } else {
                    Vec::new()
                };
                let left = if tag == 0x2F && n < 0 { 0 } else { left - k };
                if left > 0 {
                    lines.push(r#"SUCCESS {"has_more": true}"#.into());
                }
                self.state = match (self.state, left) {
                    (Streaming { .. }, 0) => Ready,
                    (Streaming { .. }, left) => Streaming { left },
                    (Tx { streams, .. }, 0) => Tx {
                        streams: streams - 1,
                        last_left: 0,
                    },
                    (Tx { streams, .. }, left) => Tx {
                        streams,
                        last_left: left,
                    },
                    (s, _) => s,
                };
                if left == 0 {
                    lines.push(r#"SUCCESS {"type": "r"}"#.into());
                }
                lines
            }
            (0x11, Ready) => {
                self.state = Tx {
                    streams: 0,
                    last_left: 0,
                };
                vec!["SUCCESS {}".into()]
            }
            (0x12 | 0x13, Tx { .. }) => {
                self.state = Ready;
                vec![r#"SUCCESS {"bookmark": "bm"}"#.into()]
            }
            (0x66 | 0x54, Ready) => vec!["SUCCESS {}".into()],
            (tag, state) => {
                panic!("the client sent message {tag:#04X} in {state:?}: it should have refused")
            }
        }
    }
}

fn request(kind: u8, n: i64) -> Request {
    match kind % 9 {
        0 => Request::run("RETURN 1", Map::new()),
        1 => Request::Pull { n, qid: -1 },
        2 => Request::Discard { n, qid: -1 },
        3 => Request::Begin(TxExtra::default()),
        4 => Request::Commit,
        5 => Request::Rollback,
        6 => Request::Reset,
        7 => Request::Route(Route::default()),
        _ => Request::Telemetry(TelemetryApi::DriverLevel),
    }
}

fn public(state: ModelState) -> ServerState {
    match state {
        ModelState::Ready => ServerState::Ready,
        ModelState::Streaming { .. } => ServerState::Streaming,
        ModelState::Tx { streams: 0, .. } => ServerState::TxReady,
        ModelState::Tx { .. } => ServerState::TxStreaming,
        ModelState::Failed => ServerState::Failed,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]
    #[test]
    fn random_pipelines_match_the_model(
        rounds in prop::collection::vec(
            (prop::collection::vec((0u8..9, -1i64..4), 1..5), 0u32..4, any::<bool>(), any::<prop::sample::Index>()),
            1..12,
        ),
        version_index in 0usize..11,
    ) {
        let (major, minor) = [(4, 4), (5, 0), (5, 1), (5, 2), (5, 3), (5, 4), (5, 5), (5, 6), (5, 7), (5, 8), (6, 0)][version_index];
        let version = Version::new(major, minor);
        let now = Instant::now();
        let mut conn = Connection::new(ConnectionConfig::default(), now);
        let _ = conn.poll_transmit();
        conn.handle_input(&[0, 0, minor, major], now).unwrap();
        standard_hello(&mut conn, now);
        let mut model = Model { state: ModelState::Ready, rows: 0, fail_next_run: false };
        for (requests, rows, fail, split) in rounds {
            model.rows = rows;
            model.fail_next_run = fail;
            let mut ids = VecDeque::new();
            for (kind, n) in requests {
                let before = conn.in_flight();
                match conn.send(request(kind, n)) {
                    Ok(id) => ids.push_back(id),
                    Err(BoltError::InvalidRequest { .. } | BoltError::NotSupported { .. }) => {
                        prop_assert_eq!(conn.in_flight(), before);
                    }
                    Err(e) => panic!("unexpected error {e}"),
                }
            }
            let Some(written) = conn.poll_transmit() else { continue };
            let mut bytes = Vec::new();
            let mut expected = Vec::new();
            for (_, msg) in client_messages(&written) {
                let n = msg.fields.first().and_then(|f| match f {
                    quiver_packstream::Value::Map(m) => m.get("n").and_then(|v| v.as_int()),
                    _ => None,
                }).unwrap_or(-1);
                let id = ids.pop_front().unwrap();
                for line in model.answer(msg.tag, n) {
                    bytes.extend(wire(&parse_message(&line)));
                    let summary = !line.starts_with("RECORD");
                    let is_more = line.contains("has_more");
                    expected.push((id, line.split_whitespace().next().unwrap().to_owned(), summary || is_more));
                }
            }
            let at = split.index(bytes.len() + 1);
            conn.handle_input(&bytes[..at], now).unwrap();
            conn.handle_input(&bytes[at..], now).unwrap();
            let events: Vec<Event> = std::iter::from_fn(|| conn.poll_event()).collect();
            prop_assert_eq!(events.len(), expected.len());
            for (event, (id, kind, _)) in events.iter().zip(&expected) {
                let (got_id, got_kind) = match event {
                    Event::Record { id, .. } => (*id, "RECORD"),
                    Event::Success { id, .. } => (*id, "SUCCESS"),
                    Event::Failure { id, .. } => (*id, "FAILURE"),
                    Event::Ignored { id } => (*id, "IGNORED"),
                    other => panic!("unexpected {other:?}"),
                };
                prop_assert_eq!(got_id, *id);
                prop_assert_eq!(got_kind, kind.as_str());
            }
            prop_assert_eq!(conn.in_flight(), 0);
            prop_assert_eq!(conn.server_state(), public(model.state), "on {}", version);
            prop_assert_eq!(conn.needs_reset(), model.state == ModelState::Failed);
        }
    }
}
