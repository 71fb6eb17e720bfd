//! Request scenarios shared by the recorder (`examples/record.rs`, run against a real server)
//! and the replay test (`tests/recordings.rs`): the same requests in the same rounds, so the
//! replayed client bytes must match the recorded ones byte for byte.

use quiver_bolt::value::{Map, Value};
use quiver_bolt::*;

/// The password of the project's test servers (`cargo xtask server start …`).
pub const PASSWORD: &str = "quiver-test-password";

/// A fixed configuration (no platform in the agent) so that recordings are reproducible.
pub fn config() -> ConnectionConfig {
    ConnectionConfig::default()
        .with_user_agent("quiver-recorder/1")
        .with_bolt_agent(BoltAgent {
            product: "quiver-recorder/1".into(),
            platform: None,
            language: Some("Rust".into()),
            language_details: None,
        })
}

/// Rounds of requests: each round is sent at once (pipelined); the next round starts when every
/// request of the previous one is answered.
pub fn rounds(user: &str) -> Vec<Vec<Request>> {
    let mut params = Map::new();
    params.insert("p", Value::Integer(1));
    params.insert("s", Value::from("ünïcødé"));
    vec![
        vec![Request::Hello(Hello::new(AuthToken::basic(user, PASSWORD)))],
        vec![
            Request::run(
                "UNWIND range(1, 3) AS i RETURN i, 'short' AS s, [i, 'a'] AS l",
                Map::new(),
            ),
            Request::pull_all(),
        ],
        vec![
            Request::Begin(TxExtra::default()),
            Request::run(
                "CREATE (n:QuiverRecording {p: $p, s: $s}) RETURN n.p AS p, n.s AS s",
                params,
            ),
            Request::pull_all(),
            Request::Rollback,
        ],
        vec![
            Request::run(
                "RETURN date('2024-01-02') AS d, localtime('12:34:56.789') AS t, \
                 duration('P1M2DT3.5S') AS du, point({x: 1.5, y: -2.0}) AS p, null AS n, 1.25 AS f",
                Map::new(),
            ),
            Request::pull_all(),
        ],
        vec![
            Request::run("RETURN 1/0 AS boom", Map::new()),
            Request::pull_all(),
        ],
        vec![Request::Reset],
        vec![
            Request::run("UNWIND range(1, 10) AS i RETURN i", Map::new()),
            Request::Pull { n: 3, qid: -1 },
        ],
        vec![Request::discard_all()],
        vec![Request::Goodbye],
    ]
}
