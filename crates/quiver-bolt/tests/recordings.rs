//! Exchanges recorded from real Neo4j servers (`examples/record.rs`), replayed byte for byte: the
//! connection must write exactly the recorded client bytes (one `C:` line per write) when fed
//! the recorded server bytes (one `S:` line per read, in the same splits), and report the events
//! the scenario implies.

mod support;

use std::path::Path;
use std::time::Instant;

use quiver_bolt::value::Value;
use quiver_bolt::*;
use support::scenarios;

struct Recording {
    name: String,
    bolt: String,
    user: String,
    lines: Vec<(bool, Vec<u8>)>,
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn load() -> Vec<Recording> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/recordings");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.retain(|p| p.extension().is_some_and(|e| e == "txt"));
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let mut rec = Recording {
                name: p.file_name().unwrap().to_string_lossy().into_owned(),
                bolt: String::new(),
                user: "neo4j".into(),
                lines: Vec::new(),
            };
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("# bolt: ") {
                    rec.bolt = v.trim().into();
                } else if let Some(v) = line.strip_prefix("# user: ") {
                    rec.user = v.trim().into();
                } else if let Some(h) = line.strip_prefix("C: ") {
                    rec.lines.push((true, unhex(h.trim())));
                } else if let Some(h) = line.strip_prefix("S: ") {
                    rec.lines.push((false, unhex(h.trim())));
                }
            }
            rec
        })
        .collect()
}

/// Replays `rec`, feeding the server reads in the given pieces; returns the events.
fn replay(rec: &Recording, resplit: impl Fn(&[u8]) -> Vec<Vec<u8>>) -> Vec<Event> {
    replay_with(rec, scenarios::config(), resplit)
}

fn replay_with(
    rec: &Recording,
    config: ConnectionConfig,
    resplit: impl Fn(&[u8]) -> Vec<Vec<u8>>,
) -> Vec<Event> {
    let now = Instant::now();
    let mut conn = Connection::new(config, now);
    let mut lines = rec.lines.iter();
    let mut events = Vec::new();
    for round in scenarios::rounds(&rec.user) {
        for request in round {
            conn.send(request).unwrap();
        }
        loop {
            if let Some(bytes) = conn.poll_transmit() {
                match lines.next() {
                    Some((true, recorded)) => {
                        assert_eq!(
                            &bytes[..],
                            &recorded[..],
                            "{}: client bytes differ",
                            rec.name
                        )
                    }
                    other => panic!(
                        "{}: the client wrote {bytes:02x?}, the recording has {other:?}",
                        rec.name
                    ),
                }
            }
            events.extend(std::iter::from_fn(|| conn.poll_event()));
            if conn.is_defunct() || (conn.version().is_some() && conn.in_flight() == 0) {
                break;
            }
            match lines.next() {
                Some((false, read)) => {
                    for piece in resplit(read) {
                        conn.handle_input(&piece, now).unwrap();
                    }
                }
                other => panic!("{}: expected a server read, found {other:?}", rec.name),
            }
        }
    }
    assert!(
        lines.next().is_none(),
        "{}: recording has more lines",
        rec.name
    );
    assert_eq!(
        conn.version().map(|v| v.to_string()).as_deref(),
        Some(rec.bolt.as_str())
    );
    events
}

fn records(events: &[Event]) -> Vec<&Vec<Value>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Record { fields, .. } => Some(fields),
            _ => None,
        })
        .collect()
}

#[test]
fn recordings_replay_byte_for_byte() {
    let recordings = load();
    assert!(!recordings.is_empty(), "no recordings in tests/recordings");
    for rec in &recordings {
        let events = replay(rec, |read| vec![read.to_vec()]);
        assert!(
            events.iter().any(|e| matches!(e, Event::Ready { .. })),
            "{}",
            rec.name
        );
        assert!(
            !events.iter().any(|e| matches!(e, Event::Defunct(_))),
            "{}",
            rec.name
        );
        let recs = records(&events);
        // Round 2: UNWIND range(1, 3) → 3 records of [i, "short", [i, "a"]].
        assert_eq!(
            recs[0],
            &vec![
                Value::Integer(1),
                Value::from("short"),
                Value::List(vec![Value::Integer(1), Value::from("a")])
            ]
        );
        // Round 3: the created node's property and the unicode string parameter round-tripped.
        assert_eq!(recs[3], &vec![Value::Integer(1), Value::from("ünïcødé")]);
        // Round 4: temporal, spatial, null and float values.
        assert_eq!(recs[4].len(), 6, "{}", rec.name);
        assert!(matches!(recs[4][0], Value::Date(_)) && matches!(recs[4][3], Value::Point2D(_)));
        // Round 5: the division by zero fails (RUN or PULL, depending on the server: real ones
        // fail the PULL), nothing after it in the round.
        let failure = events.iter().find_map(|e| match e {
            Event::Failure { failure, .. } => Some(failure),
            _ => None,
        });
        assert_eq!(
            failure.unwrap().code,
            "Neo.ClientError.Statement.ArithmeticError",
            "{}",
            rec.name
        );
        assert!(
            events
                .iter()
                .filter(|e| matches!(e, Event::Ignored { .. }))
                .count()
                <= 1
        );
        // Round 7: PULL {n: 3} of 10 → 3 records and has_more.
        assert_eq!(recs.len(), 3 + 1 + 1 + 3, "{}", rec.name);
    }
}

#[test]
fn recordings_replay_at_every_split_and_byte_by_byte() {
    for rec in &load() {
        let whole = replay(rec, |read| vec![read.to_vec()]);
        let bytewise = replay(rec, |read| read.iter().map(|b| vec![*b]).collect());
        assert_eq!(bytewise, whole, "{}: byte by byte", rec.name);
        // Every split point of every read.
        let max_len = rec
            .lines
            .iter()
            .filter(|(c, _)| !c)
            .map(|(_, r)| r.len())
            .max()
            .unwrap_or(0);
        for split in 0..=max_len.min(400) {
            let events = replay(rec, |read| {
                let at = split.min(read.len());
                vec![read[..at].to_vec(), read[at..].to_vec()]
            });
            assert_eq!(events, whole, "{}: split at {split}", rec.name);
        }
    }
}

/// With `raw_records`, every recorded stream gives the same events, with each record's fields
/// decoded on access equal to the eagerly decoded ones, field by field and all at once.
#[test]
fn raw_records_decode_to_the_same_values() {
    let mut compared = 0;
    for rec in &load() {
        let eager = replay(rec, |read| vec![read.to_vec()]);
        let raw = replay_with(rec, scenarios::config().with_raw_records(true), |read| {
            vec![read.to_vec()]
        });
        assert_eq!(eager.len(), raw.len(), "{}", rec.name);
        for (eager, raw) in eager.iter().zip(&raw) {
            match (eager, raw) {
                (Event::Record { id, fields }, Event::RawRecord { id: raw_id, record }) => {
                    assert_eq!(id, raw_id, "{}", rec.name);
                    assert_eq!(&record.decode(), fields, "{}", rec.name);
                    assert_eq!(record.len(), fields.len());
                    for (i, field) in fields.iter().enumerate() {
                        assert_eq!(record.field(i).as_ref(), Some(field), "{}", rec.name);
                    }
                    assert_eq!(record.field(fields.len()), None);
                    compared += 1;
                }
                (eager, raw) => assert_eq!(eager, raw, "{}", rec.name),
            }
        }
    }
    assert!(compared > 10, "only {compared} records in the recordings");
}
