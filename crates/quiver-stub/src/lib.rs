//! A scripted Bolt server for tests: a stub that plays a script of what the client must send
//! (`C:` lines) and what the server answers (`S:` lines), then says whether the client did what
//! the script expected. The script language is TestKit's (the Neo4j drivers' conformance
//! suite), so its stub scripts run here too (see the crate README for how many).
//!
//! The stub is built on the server role of the Bolt core ([`quiver_bolt::server`], manual mode):
//! the core does the handshake, the chunking and the PackStream; the stub matches and answers.
//! It runs on plain threads and `std::net`, so a test on any async runtime (or none) can use it.
//!
//! # A test with a scripted server
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let script = r#"
//!     !: BOLT 5.4
//!     A: HELLO {"{}": "*"}
//!     A: LOGON {"{}": "*"}
//!     C: RUN "RETURN 1 AS n" {} {"[db]": "*", "[bookmarks]": "*", "[tx_metadata]": "*", "[mode]": "*"}
//!     S: SUCCESS {"fields": ["n"]}
//!     C: PULL {"n": {"Z": "*"}}
//!     S: RECORD [1]
//!        SUCCESS {"type": "r"}
//!     *: RESET
//!     ?: GOODBYE
//! "#;
//! # use quiver_blocking::{AuthToken, Driver};
//! let stub = quiver_stub::StubServer::start(script)?; // the script above, on a loopback port
//! let driver = Driver::new(&stub.bolt_uri(), AuthToken::basic("neo4j", "pass"))?;
//! assert_eq!(driver.session().run("RETURN 1 AS n")?.single()?.get::<i64>("n")?, 1);
//! drop(driver); // the connection ends, and with it the script
//! stub.finish()?; // Err: which line expected what, and what arrived instead
//! # Ok(())
//! # }
//! ```
//!
//! # The script language
//! ```text
//! !: BOLT 5.4                               # the version (4.4, 5.0–5.8, 6.0); required
//! !: ALLOW RESTART                          # each new connection runs the script again
//!
//! C: HELLO {"user_agent": "*", "[routing]": "*"}
//! S: SUCCESS {"server": "Neo4j/5.26.0", "connection_id": "bolt-1"}
//! A: LOGON {"{}": "*"}                      # answered SUCCESS {} by the stub itself
//! C: RUN "RETURN 1 AS n" {} {}
//!    PULL {"n": 1000}                       # no marker: continues the C: lines
//! S: SUCCESS {"fields": ["n"]}
//!    RECORD [1]
//!    SUCCESS {"type": "r"}
//! {?
//!     C: RESET                              # optional block
//!     S: SUCCESS {}
//! ?}
//! *: RESET                                  # any number of RESETs, auto-answered
//! ?: GOODBYE                                # perhaps a GOODBYE
//! ```
//!
//! **Directives** (`!:`, at the top): `BOLT x.y` (required); `ALLOW RESTART` (connections one
//! after another each run the script; without it, one connection is served);
//! `ALLOW CONCURRENT` (connections run the script at the same time); `AUTO NAME` (a NAME
//! request is answered `SUCCESS {}` wherever it arrives); `HANDSHAKE_DELAY seconds`.
//!
//! **Lines**: `C: NAME fields…` a request the client must send (fields: white-space separated
//! JSON); `S: NAME fields…` a response (`SUCCESS {…}`, `RECORD […]`, `FAILURE {…}`,
//! `IGNORED`); a line without a marker continues the `C:` or `S:` lines above it.
//! `A:` a request the stub answers `SUCCESS {}` itself (HELLO: with `server` and
//! `connection_id`); `?:`, `*:`, `+:` the same, optional, any number of times, at least once.
//! `# …` is a comment.
//!
//! **Commands** in `S:` lines: `<EXIT>` closes the connection (the script counts as
//! completed); `<NOOP>` sends a keep-alive (an empty chunk); `<RAW> 00 00 …` sends bytes;
//! `<SLEEP> 0.5` waits; `<ASSERT ORDER> 0.5` waits and fails the script if the client sends
//! anything meanwhile (a client must wait for the answers before it goes on).
//!
//! **Blocks**, each bracket on its own line: `{? … ?}` optional; `{* … *}` zero or more
//! times; `{+ … +}` one or more times; `{{ … ---- … ---- … }}` alternatives (the first whose
//! first line matches is taken). Matching is greedy, as in TestKit: an optional or repeated
//! block is entered whenever its first line matches.
//!
//! **Values** are JSON, integers and floats told apart (`1` vs `1.0`), with TestKit's JOLT
//! sigils for other types: `{"Z": "42"}` integer, `{"R": "1.5"}` float, `{"U": "text"}`,
//! `{"#": "CA FE"}` bytes, `{"[]": […]}`, `{"{}": {…}}`, `{"T": "2024-05-01T12:00:00+02:00"}`
//! (dates, times, date-times with offset and `[Zone/Name]`, local ones, `P1Y2DT3.5S`
//! durations), `{"@": "SRID=4326;POINT(12.5 55.7)"}`, `{"()": [id, labels, props]}` nodes,
//! `{"->": [id, start, type, end, props]}` relationships. A sigil with a version suffix
//! (`{"Tv2": …}`) is encoded as that JOLT version says whatever the connection's version (v2: UTC
//! date-times and element ids, as Bolt 5; v1: as Bolt 4.4). In `C:` lines: `"*"` matches
//! anything, `{"Z": "*"}` any integer (and so on for each sigil), a key written `"[key]"` may be
//! absent, a key written `"key{}"` holds a list compared without regard to order, `"\\*"` is a
//! literal star. A map matches when every key it lists matches and no other key is present.
//!
//! **End**: a connection completes when the script reaches its end (the stub then closes the
//! connection), reaches `<EXIT>`, or the client hangs up where the rest of the script may be
//! skipped. A message the script does not accept fails the run with a message saying which
//! line(s) expected what and what arrived. Scripts that do not parse fail with the line and
//! column of the problem. Not supported from TestKit: Python (`PY:`, `IF:`, `!: PY`), parallel
//! blocks (`++++`), `!: HANDSHAKE`, path values (`{"..": …}`), Bolt versions below 4.4.
//!
//! # The binary
//! `quiver-stub SCRIPT --listen 127.0.0.1:PORT` serves a script; it exits with status 0 if the
//! script completed (1 and the reason on stderr if not). `quiver-stub compat TESTKIT_DIR` runs
//! the TestKit compatibility measurement of the README.

#![warn(missing_docs)]

mod json;
pub mod replay;
mod runner;
mod script;
mod server;
mod value;

pub use runner::Outcome;
pub use script::{ParseError, Script};
pub use server::{StubError, StubReport, StubServer};
