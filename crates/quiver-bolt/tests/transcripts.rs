//! Runs every transcript in `tests/transcripts/` on each version it names; see `support/mod.rs`
//! for the format and what is checked.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use quiver_bolt::Version;

fn scripts() -> Vec<support::Script> {
    support::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts"))
}

#[test]
fn every_transcript_on_every_version_it_names() {
    let scripts = scripts();
    assert!(scripts.len() >= 8);
    for script in &scripts {
        assert!(
            !script.versions.is_empty(),
            "{} names no version",
            script.name
        );
        for &version in &script.versions {
            support::run(script, version);
        }
    }
}

/// Every message of every supported version appears in some transcript run on that version.
#[test]
fn transcripts_cover_every_message_of_every_version() {
    let mut seen = BTreeSet::new();
    for script in scripts() {
        let harness_hello = !script.lines.iter().any(|l| l.msg.tag == 0x01);
        for &v in &script.versions {
            if harness_hello {
                seen.insert((v, "HELLO".to_owned()));
                seen.insert((v, "SUCCESS".to_owned()));
            }
            for line in &script.lines {
                seen.insert((v, line.name()));
            }
        }
    }
    let versions = [
        (4, 4),
        (5, 0),
        (5, 1),
        (5, 2),
        (5, 3),
        (5, 4),
        (5, 5),
        (5, 6),
        (5, 7),
        (5, 8),
        (6, 0),
    ];
    let mut missing = Vec::new();
    for (major, minor) in versions {
        let v = Version::new(major, minor);
        for (name, _) in support::NAMES {
            let exists = match *name {
                "LOGON" | "LOGOFF" => v >= Version::V5_1,
                "TELEMETRY" => v >= Version::V5_4,
                _ => true,
            };
            // Explicit GOODBYE, ROUTE, BEGIN … lines are in the version-specific scripts.
            if exists && !seen.contains(&(v, (*name).to_owned())) {
                missing.push(format!("{name} on {v}"));
            }
        }
    }
    // Versions without a script of their own get their per-version coverage from the shared
    // scripts; list what is still missing so that the gap is visible, and fail on it.
    assert!(
        missing.is_empty(),
        "messages without a transcript: {missing:?}"
    );
}

/// The harness really compares: a script that differs from what the connection writes, or from
/// what it reports, fails.
#[test]
fn harness_catches_differences() {
    let wrong_client = "!: BOLT 5.8\nC: RUN \"RETURN 1\" {} {\"mode\": \"w\"}\n";
    let wrong_order =
        "!: BOLT 5.8\nC: RUN \"RETURN 1\" {} {}\nC: PULL {\"n\": -1}\nS: RECORD [1]\n";
    for text in [wrong_client, wrong_order] {
        let script = support::parse_script("negative", text);
        let result = std::panic::catch_unwind(|| support::run(&script, Version::V5_8));
        assert!(result.is_err(), "the harness accepted {text:?}");
    }
}
