//! Property test: the client role and the server role talk to each other in memory, on every
//! Bolt version, with random request pipelines, random answers and the byte streams cut at
//! random points in both directions.
//!
//! Checked:
//! * every message the client writes arrives at the server typed and equal to what the client
//!   meant ([`ClientMessage::from_request`]), in order;
//! * every response — the application's, or one the server core gave by itself (IGNORED after a
//!   failure or behind a RESET, FAILURE for a stream that is not open) — arrives as the matching
//!   client event, with equal metadata, records and failures;
//! * whenever nothing is in flight, the client's view of the server state equals the server's.
//!
//! It runs in strict mode (the core answers what Neo4j answers by itself) and in manual mode
//! with an application that answers every request as its verdict says, which must give the same
//! conversation.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use quiver_bolt::server::{ServerConfig, ServerConnection, ServerEvent, ServerMode, Verdict};
use quiver_bolt::value::{
    Date, DateTime, Duration as BoltDuration, LocalDateTime, LocalTime, Map, Node, PackStr, Path,
    Point2D, Relationship, UnboundRelationship, Value, Vector,
};
use quiver_bolt::*;

const VERSIONS: [Version; 11] = Version::SUPPORTED;

// ---------------------------------------------------------------------------------------------
// Values.

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _é✓]{0,12}"
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::Integer),
        (-1.0e9..1.0e9f64).prop_map(Value::Float),
        text().prop_map(|s| Value::from(s.as_str())),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(|b| Value::Bytes(b.into())),
        any::<i32>().prop_map(|d| Value::Date(Date { days: d.into() })),
        (0..86_400_000_000_000i64).prop_map(|n| Value::LocalTime(LocalTime { nanoseconds: n })),
        (any::<i32>(), 0..1_000_000_000i64).prop_map(|(s, n)| Value::LocalDateTime(
            LocalDateTime {
                seconds: s.into(),
                nanoseconds: n
            }
        )),
        (any::<i32>(), 0..1_000_000_000i64, -64_800..64_800i64).prop_map(|(s, n, o)| {
            Value::DateTime(DateTime {
                seconds: s.into(),
                nanoseconds: n,
                tz_offset_seconds: o,
            })
        }),
        (
            any::<i16>(),
            any::<i16>(),
            any::<i32>(),
            0..1_000_000_000i64
        )
            .prop_map(|(m, d, s, n)| Value::Duration(BoltDuration {
                months: m.into(),
                days: d.into(),
                seconds: s.into(),
                nanoseconds: n,
            })),
        (-180.0..180.0f64, -90.0..90.0f64).prop_map(|(x, y)| Value::Point2D(Point2D {
            srid: 4326,
            x,
            y
        })),
        prop::collection::vec(any::<i32>(), 0..4).prop_map(|v| Value::Vector(Vector::I32(v))),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
            prop::collection::vec(("[a-z]{1,6}", inner), 0..4)
                .prop_map(|entries| Value::Map(entries.into_iter().collect())),
        ]
    })
}

fn value_map() -> impl Strategy<Value = Map> {
    prop::collection::vec(("[a-z]{1,6}", value()), 0..4).prop_map(|e| e.into_iter().collect())
}

fn string_map() -> impl Strategy<Value = Map> {
    prop::collection::vec(("[a-z]{1,6}", text()), 0..3).prop_map(|e| {
        e.into_iter()
            .map(|(k, v)| (k, Value::from(v.as_str())))
            .collect()
    })
}

/// Graph values as a server sends them (element ids exist on 5.0+ only).
fn graph(element_ids: bool) -> impl Strategy<Value = Value> {
    let id = move |n: i64| element_ids.then(|| PackStr::from(format!("4:db:{n}").as_str()));
    let node = move |n: i64, labels: Vec<String>, properties: Map| Node {
        id: n,
        labels: labels.iter().map(|l| PackStr::from(l.as_str())).collect(),
        properties,
        element_id: id(n),
    };
    prop_oneof![
        (
            any::<i64>(),
            prop::collection::vec("[A-Z][a-z]{0,5}", 0..3),
            value_map()
        )
            .prop_map(move |(n, labels, props)| Value::from(node(n, labels, props))),
        (
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            "[A-Z_]{1,8}",
            value_map()
        )
            .prop_map(move |(n, a, b, t, props)| Value::from(Relationship {
                id: n,
                start_node_id: a,
                end_node_id: b,
                rel_type: PackStr::from(t.as_str()),
                properties: props,
                element_id: id(n),
                start_node_element_id: id(a),
                end_node_element_id: id(b),
            })),
        (1..4usize, "[A-Z_]{1,8}").prop_map(move |(steps, t)| {
            let nodes = (0..=steps as i64)
                .map(|n| node(n, vec!["N".into()], Map::new()))
                .collect();
            let relationships = (0..steps as i64)
                .map(|r| UnboundRelationship {
                    id: 100 + r,
                    rel_type: PackStr::from(t.as_str()),
                    properties: Map::new(),
                    element_id: id(100 + r),
                })
                .collect();
            // Step i: relationship i+1 forward to node i+1.
            let indices = (1..=steps as i64).flat_map(|i| [i, i]).collect();
            Value::from(Path {
                nodes,
                relationships,
                indices,
            })
        }),
    ]
}

// ---------------------------------------------------------------------------------------------
// Requests the client tries to send (the ones it refuses in its state are skipped).

fn tx_extra() -> impl Strategy<Value = TxExtra> {
    (
        prop::collection::vec("bm:[a-z0-9]{1,6}", 0..3),
        prop::option::of(0..100_000u64),
        prop::option::weighted(0.2, string_map()),
        any::<bool>(),
        prop::option::of("[a-z]{1,6}"),
        prop::option::weighted(0.2, "[a-z]{1,6}"),
        prop::option::weighted(
            0.2,
            prop::sample::select(vec!["OFF", "WARNING", "INFORMATION"]),
        ),
        prop::option::weighted(0.2, prop::collection::vec("[A-Z]{1,8}", 0..3)),
    )
        .prop_map(
            |(bookmarks, timeout, metadata, read, db, imp_user, severity, disabled)| TxExtra {
                bookmarks,
                tx_timeout: timeout.map(Duration::from_millis),
                tx_metadata: metadata.unwrap_or_default(),
                mode: if read {
                    AccessMode::Read
                } else {
                    AccessMode::Write
                },
                db,
                imp_user,
                notifications: NotificationFilter {
                    minimum_severity: severity.map(str::to_owned),
                    disabled_classifications: disabled,
                },
            },
        )
}

fn stream_n() -> impl Strategy<Value = i64> {
    prop_oneof![3 => Just(-1i64), 2 => 1..4i64]
}

fn stream_qid() -> impl Strategy<Value = i64> {
    prop_oneof![6 => Just(-1i64), 1 => 0..3i64]
}

fn auth() -> impl Strategy<Value = AuthToken> {
    prop_oneof![
        ("[a-z]{1,6}", text()).prop_map(|(u, p)| AuthToken::basic(u, p)),
        text().prop_map(AuthToken::bearer),
        Just(AuthToken::none()),
        (
            "[a-z]{1,6}",
            prop::option::of(text()),
            prop::option::of(text()),
            string_map()
        )
            .prop_map(|(scheme, principal, realm, params)| AuthToken::custom(
                scheme,
                principal,
                Some("secret".into()),
                realm,
                params
            )),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        6 => ("[A-Z ]{1,12}", value_map(), tx_extra()).prop_map(|(query, parameters, extra)| {
            Request::Run(Run { query, parameters, extra })
        }),
        6 => (stream_n(), stream_qid()).prop_map(|(n, qid)| Request::Pull { n, qid }),
        2 => (stream_n(), stream_qid()).prop_map(|(n, qid)| Request::Discard { n, qid }),
        3 => tx_extra().prop_map(Request::Begin),
        2 => Just(Request::Commit),
        2 => Just(Request::Rollback),
        2 => Just(Request::Reset),
        1 => (string_map(), prop::collection::vec("bm:[0-9]{1,3}", 0..2),
              prop::option::of("[a-z]{1,6}"), prop::option::of("[a-z]{1,6}"))
            .prop_map(|(routing, bookmarks, db, imp_user)| {
                Request::Route(Route { routing, bookmarks, db, imp_user })
            }),
        1 => (0..4i64).prop_map(|n| Request::Telemetry(TelemetryApi::from_number(n).unwrap())),
        1 => Just(Request::Logoff),
        1 => auth().prop_map(Request::Logon),
    ]
}

// ---------------------------------------------------------------------------------------------
// How the server application answers.

#[derive(Debug, Clone)]
struct Plan {
    /// Answer with this FAILURE (requests that may fail).
    fail: Option<Failure>,
    /// Answer IGNORED although the request was processed (a server may; the client copes).
    ignore: bool,
    /// PULL: these records first.
    records: Vec<Vec<Value>>,
    /// PULL/DISCARD with n ≥ 1: say there is more.
    has_more: bool,
    /// Extra SUCCESS metadata.
    metadata: Map,
}

fn failure() -> impl Strategy<Value = Failure> {
    (
        prop::sample::select(vec![
            "Neo.ClientError.Statement.SyntaxError",
            "Neo.TransientError.Transaction.DeadlockDetected",
            "Neo.DatabaseError.General.UnknownError",
        ]),
        prop::option::of(text()),
        prop::option::of(("[0-9A-Z]{5}", text(), any::<bool>())),
    )
        .prop_map(|(code, message, gql)| {
            let mut failure = Failure::from_metadata(&Map::new());
            failure.code = code.to_owned();
            failure.message = message;
            if let Some((status, description, nested)) = gql {
                failure.gql_status = Some(status);
                failure.description = Some(description);
                failure.classification = Some("CLIENT_ERROR".into());
                let mut record = Map::new();
                record.insert("_classification", "CLIENT_ERROR");
                record.insert("OPERATION", "");
                failure.diagnostic_record = record;
                if nested {
                    let mut cause = failure.clone();
                    cause.code = "Neo.ClientError.General.Cause".into();
                    failure.cause = Some(Box::new(cause));
                }
            }
            failure
        })
}

fn plan(element_ids: bool) -> impl Strategy<Value = Plan> {
    let field = prop_oneof![4 => value(), 1 => graph(element_ids)];
    (
        prop::option::weighted(0.12, failure()),
        prop::bool::weighted(0.03),
        prop::collection::vec(prop::collection::vec(field, 0..4), 0..4),
        any::<bool>(),
        string_map(),
    )
        .prop_map(|(fail, ignore, records, has_more, metadata)| Plan {
            fail,
            ignore,
            records,
            has_more,
            metadata,
        })
}

// ---------------------------------------------------------------------------------------------
// The conversation.

#[derive(Debug, Clone)]
struct Case {
    version: Version,
    manifest: bool,
    mode: ServerMode,
    routing: Option<Map>,
    utc_patch: bool,
    notifications: NotificationFilter,
    rounds: Vec<Vec<Request>>,
    plans: Vec<Plan>,
    /// Read sizes the byte streams are cut into (cycled).
    cuts: Vec<usize>,
}

fn case() -> impl Strategy<Value = Case> {
    (0..VERSIONS.len())
        .prop_flat_map(|v| {
            let version = VERSIONS[v];
            (
                Just(version),
                any::<bool>(),
                prop_oneof![Just(ServerMode::Strict), Just(ServerMode::Manual)],
                prop::option::of(string_map()),
                any::<bool>(),
                prop::option::weighted(0.3, prop::sample::select(vec!["OFF", "WARNING"])),
                prop::collection::vec(prop::collection::vec(request(), 1..5), 1..6),
                prop::collection::vec(plan(version.major >= 5), 1..8),
                prop::collection::vec(1..40usize, 1..6),
            )
        })
        .prop_map(
            |(version, manifest, mode, routing, utc_patch, severity, rounds, plans, cuts)| Case {
                version,
                manifest,
                mode,
                routing,
                utc_patch,
                notifications: NotificationFilter {
                    minimum_severity: severity
                        .filter(|_| version >= Version::V5_2)
                        .map(str::to_owned),
                    disabled_classifications: None,
                },
                rounds,
                plans,
                cuts,
            },
        )
}

/// A client event as the test expects it, rendered for comparison (NaN-free values compare
/// equal through `Debug`).
fn show(event: &Event) -> String {
    match event {
        Event::Ready { version, .. } => format!("READY {version}"),
        other => format!("{other:?}"),
    }
}

/// Which client request each message the server reads belongs to.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// The HELLO of a 5.1+ HELLO+LOGON pair: its SUCCESS is merged into LOGON's.
    HelloFirst,
    /// A HELLO or LOGON that ends the client's HELLO request.
    HelloLast,
    Normal,
}

struct World {
    case: Case,
    client: Connection,
    server: ServerConnection,
    now: Instant,
    cut: usize,
    /// For each message the server has yet to read: the client request id, the part, and the
    /// message the client meant to send.
    sent: VecDeque<(RequestId, Part, ClientMessage)>,
    /// For each request the server delivered and has not answered: the client id and part.
    answering: VecDeque<(RequestId, Part)>,
    expected: Vec<String>,
    got: Vec<String>,
    hello_metadata: Map,
    plan: usize,
    /// Manual mode: delivered requests the application has not answered yet.
    pending_messages: VecDeque<ClientMessage>,
    /// The server closed the connection after a refusal.
    closed: bool,
}

impl World {
    fn new(case: Case) -> Self {
        let now = Instant::now();
        let mut config = ConnectionConfig::default()
            .with_versions(vec![VersionRange::exact(
                case.version.major,
                case.version.minor,
            )])
            .with_manifest(case.manifest)
            .with_routing(case.routing.clone())
            .with_utc_patch(case.utc_patch)
            .with_notifications(case.notifications.clone());
        config.user_agent = "roundtrip/1".into();
        let server = ServerConnection::new(ServerConfig::default().with_mode(case.mode), now);
        World {
            client: Connection::new(config, now),
            server,
            now,
            cut: 0,
            sent: VecDeque::new(),
            answering: VecDeque::new(),
            expected: Vec::new(),
            got: Vec::new(),
            hello_metadata: Map::new(),
            plan: 0,
            pending_messages: VecDeque::new(),
            closed: false,
            case,
        }
    }

    fn config(&self) -> ConnectionConfig {
        ConnectionConfig::default()
            .with_routing(self.case.routing.clone())
            .with_utc_patch(self.case.utc_patch)
            .with_notifications(self.case.notifications.clone())
            .with_user_agent("roundtrip/1")
    }

    /// Sends `request` if the client accepts it; records what the server must read.
    fn send(&mut self, request: Request) {
        let Ok(id) = self.client.send(request.clone()) else {
            return;
        };
        let messages = ClientMessage::from_request(&request, &self.config(), self.case.version);
        let count = messages.len();
        for (i, message) in messages.into_iter().enumerate() {
            let part = match (&request, count, i) {
                (Request::Hello(_), 2, 0) => Part::HelloFirst,
                (Request::Hello(_), _, _) => Part::HelloLast,
                _ => Part::Normal,
            };
            self.sent.push_back((id, part, message));
        }
    }

    fn cut(&mut self) -> usize {
        let cut = self.case.cuts[self.cut % self.case.cuts.len()];
        self.cut += 1;
        cut
    }

    /// Moves bytes both ways, in random pieces, until nothing moves.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(bytes) = self.client.poll_transmit() {
                moved = true;
                let mut rest = &bytes[..];
                while !rest.is_empty() && !self.server.is_closed() {
                    let n = self.cut().min(rest.len());
                    self.server.handle_input(&rest[..n], self.now).unwrap();
                    rest = &rest[n..];
                    self.serve();
                }
            }
            self.serve();
            while let Some(bytes) = self.server.poll_transmit() {
                moved = true;
                let mut rest = &bytes[..];
                while !rest.is_empty() {
                    let n = self.cut().min(rest.len());
                    self.client.handle_input(&rest[..n], self.now).unwrap();
                    rest = &rest[n..];
                    while let Some(event) = self.client.poll_event() {
                        self.got.push(show(&event));
                    }
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// The server application: checks each request against what the client meant and answers.
    fn serve(&mut self) {
        while let Some(event) = self.server.poll_event() {
            let (request, handled) = match event {
                ServerEvent::Request(r) => (r, false),
                ServerEvent::Handled(r) => (r, true),
                ServerEvent::Negotiated { version, .. } => {
                    assert_eq!(version, self.case.version);
                    continue;
                }
                ServerEvent::Closed => continue,
                other => panic!("unexpected server event {other:?}"),
            };
            let (id, part, meant) = self.sent.pop_front().expect("a request nobody sent");
            let message = request.message.as_ref().unwrap_or_else(|e| {
                panic!("{meant:?} arrived as an error: {e} ({:?})", request.raw)
            });
            assert_eq!(
                message, &meant,
                "what the client sent is what the server read"
            );
            assert_eq!(request.raw.tag(), meant.tag());
            if let ClientMessage::Goodbye = message {
                assert_eq!(request.verdict, Verdict::Close);
                if !handled {
                    self.server.close(); // manual mode: the application decides
                }
                continue;
            }
            if handled {
                // The core answered (strict mode).
                self.expect_verdict(id, &request.verdict);
                continue;
            }
            self.answering.push_back((id, part));
            if self.case.mode == ServerMode::Manual {
                // Requests arrive at once; answer them in order as a real server would (which
                // must give the same conversation as strict mode).
                self.pending_messages.push_back(message.clone());
            } else {
                self.answer(message.clone());
            }
        }
        while let Some(message) = self.pending_messages.pop_front() {
            if self.server.is_closed() {
                self.pending_messages.clear();
                return;
            }
            match self.server.current_verdict() {
                Some(Verdict::Accept) => self.answer(message),
                Some(verdict) => self.answer_verdict(&verdict),
                None => unreachable!("a request without its verdict"),
            }
        }
    }

    fn expect_verdict(&mut self, id: RequestId, verdict: &Verdict) {
        match verdict {
            Verdict::Ignore => self.expected.push(show(&Event::Ignored { id })),
            Verdict::Refuse { failure, close } => {
                // A server closes the connection for a BEGIN or LOGOFF pipelined behind a
                // request that failed: the client could not know.
                self.closed |= *close;
                let failure = Failure::from_metadata(&failure.to_metadata(self.case.version));
                self.expected.push(show(&Event::Failure {
                    id,
                    failure: Box::new(failure),
                }));
            }
            other => panic!("the core {other:?} something the client sent"),
        }
    }

    fn answer_verdict(&mut self, verdict: &Verdict) {
        let (id, _) = self.answering.pop_front().unwrap();
        self.expect_verdict(id, verdict);
        match verdict {
            Verdict::Ignore => self.server.ignored().unwrap(),
            Verdict::Refuse { failure, close } => {
                self.server.failure(failure).unwrap();
                if *close {
                    self.server.close();
                }
            }
            _ => unreachable!(),
        }
    }

    fn success(&mut self, metadata: Map) {
        let (id, part) = self.answering.pop_front().unwrap();
        self.server.success(metadata.clone()).unwrap();
        match part {
            Part::HelloFirst => self.hello_metadata = metadata,
            Part::HelloLast => {
                let mut merged = std::mem::take(&mut self.hello_metadata);
                for (k, v) in metadata {
                    merged.insert(k, v);
                }
                self.expected.push(show(&Event::Success {
                    id,
                    metadata: merged,
                }));
                self.expected.push(format!("READY {}", self.case.version));
            }
            Part::Normal => self.expected.push(show(&Event::Success { id, metadata })),
        }
    }

    fn answer(&mut self, message: ClientMessage) {
        let plan = self.case.plans[self.plan % self.case.plans.len()].clone();
        self.plan += 1;
        let may_fail = !matches!(
            message,
            ClientMessage::Hello(_) | ClientMessage::Logon(_) | ClientMessage::Reset
        );
        if may_fail && plan.ignore {
            let (id, _) = self.answering.pop_front().unwrap();
            self.server.ignored().unwrap();
            self.expected.push(show(&Event::Ignored { id }));
            return;
        }
        if let ClientMessage::Pull { .. } = message {
            let (id, _) = *self.answering.front().unwrap();
            for fields in &plan.records {
                if self.server.record(fields).is_err() {
                    continue; // e.g. a vector before 6.0: nothing was sent
                }
                let fields = fields.iter().map(|f| self.as_received(f)).collect();
                self.expected.push(show(&Event::Record { id, fields }));
            }
        }
        if let (true, Some(failure)) = (may_fail, &plan.fail) {
            let (id, _) = self.answering.pop_front().unwrap();
            self.server.failure(failure).unwrap();
            let failure = Failure::from_metadata(&failure.to_metadata(self.case.version));
            self.expected.push(show(&Event::Failure {
                id,
                failure: Box::new(failure),
            }));
            return;
        }
        let mut metadata = plan.metadata;
        match message {
            ClientMessage::Hello(_) => {
                metadata.insert("server", "Neo4j/5.26.0");
                if self.case.utc_patch && self.case.version == Version::V4_4 {
                    metadata.insert("patch_bolt", Value::List(vec![Value::from("utc")]));
                }
            }
            ClientMessage::Run(_) => {
                metadata.insert("fields", Value::List(vec![Value::from("x")]));
            }
            ClientMessage::Pull { n, .. } | ClientMessage::Discard { n, .. } => {
                metadata.insert("has_more", Value::Boolean(n != -1 && plan.has_more));
            }
            _ => {}
        }
        self.success(metadata);
    }

    /// A record value as the client decodes it (4.4 has no element ids).
    fn as_received(&self, value: &Value) -> Value {
        let ctx = self.server.value_context();
        let mut buf = Vec::new();
        value::encode_value(&mut buf, value, &ctx).unwrap();
        let mut decoder = quiver_packstream::Decoder::new(buf.into());
        value::decode_value(&mut decoder, &ctx.with_result_values(false)).unwrap()
    }

    fn check_states(&self, context: &str) {
        if self.client.in_flight() == 0 && self.server.in_flight() == 0 && !self.client.is_defunct()
        {
            assert_eq!(
                self.client.server_state(),
                self.server.state(),
                "{context}: client and server disagree on the state"
            );
        }
    }
}

fn run_case(case: Case) {
    let mut world = World::new(case.clone());
    world.send(Request::Hello(Hello::new(AuthToken::basic("neo4j", "pw"))));
    world.pump();
    assert_eq!(world.client.version(), Some(case.version));
    assert_eq!(world.client.server_state(), ServerState::Ready);
    world.check_states("after HELLO");
    for (i, round) in case.rounds.iter().enumerate() {
        for request in round {
            world.send(request.clone());
        }
        world.pump();
        if world.closed {
            assert!(world.server.is_closed());
            assert_eq!(world.got, world.expected, "round {i}");
            return;
        }
        assert!(
            world.sent.is_empty(),
            "round {i}: unread messages {:?}",
            world.sent
        );
        assert_eq!(world.got, world.expected, "round {i}");
        world.check_states(&format!("round {i}"));
        // A round that ends FAILED is followed by a RESET, as a driver would.
        if world.client.needs_reset() {
            world.send(Request::Reset);
            world.pump();
            assert_eq!(world.got, world.expected, "RESET after round {i}");
            world.check_states(&format!("RESET after round {i}"));
        }
    }
    world.send(Request::Goodbye);
    world.pump();
    assert!(world.server.is_closed(), "GOODBYE closes the server side");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn client_and_server_roles_agree(case in case()) {
        run_case(case);
    }
}

/// Every version and both modes at least once with a fixed, busy conversation (the property
/// test picks versions at random).
#[test]
fn every_version_and_mode_once() {
    let rounds = vec![
        vec![
            Request::run("RETURN 1", Map::new()),
            Request::Pull { n: 1, qid: -1 },
        ],
        vec![Request::discard_all()],
        vec![
            Request::Begin(TxExtra::default()),
            Request::run("A", Map::new()),
            Request::run("B", Map::new()),
            Request::Pull { n: -1, qid: 0 },
            Request::pull_all(),
            Request::Commit,
        ],
        vec![
            Request::run("X", Map::new()),
            Request::pull_all(),
            Request::Reset,
        ],
        vec![
            Request::Telemetry(TelemetryApi::AutoCommit),
            Request::Logoff,
        ],
        vec![Request::Logon(AuthToken::basic("a", "b"))],
    ];
    let mut plan = Plan {
        fail: None,
        ignore: false,
        records: vec![vec![Value::Integer(7)]],
        has_more: true,
        metadata: Map::new(),
    };
    for version in VERSIONS {
        for mode in [ServerMode::Strict, ServerMode::Manual] {
            for manifest in [false, true] {
                run_case(Case {
                    version,
                    manifest,
                    mode,
                    routing: None,
                    utc_patch: true,
                    notifications: NotificationFilter::default(),
                    rounds: rounds.clone(),
                    plans: vec![plan.clone()],
                    cuts: vec![1, 7, 3],
                });
            }
        }
        plan.has_more = !plan.has_more;
    }
}
