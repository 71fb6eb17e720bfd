//! Typed views of response metadata: FAILURE ([`Failure`]), HELLO's SUCCESS ([`ServerInfo`]),
//! ROUTE's SUCCESS ([`RoutingTable`]) and free functions reading the common SUCCESS fields.
//!
//! The functions return `None` when a field is absent or has an unexpected type; they never
//! panic. The raw [`Map`] stays available for anything not covered here.

use std::time::Duration;

use crate::value::{Map, PackStr, Value};
use crate::version::Version;

fn get_str<'a>(map: &'a Map, key: &str) -> Option<&'a str> {
    match map.get(key) {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn get_int(map: &Map, key: &str) -> Option<i64> {
    match map.get(key) {
        Some(Value::Integer(i)) => Some(*i),
        _ => None,
    }
}

fn get_map<'a>(map: &'a Map, key: &str) -> Option<&'a Map> {
    match map.get(key) {
        Some(Value::Map(m)) => Some(m),
        _ => None,
    }
}

fn get_list<'a>(map: &'a Map, key: &str) -> Option<&'a [Value]> {
    match map.get(key) {
        Some(Value::List(l)) => Some(l),
        _ => None,
    }
}

/// RUN's `fields`: the column names.
pub fn fields(metadata: &Map) -> Option<Vec<PackStr>> {
    get_list(metadata, "fields")?
        .iter()
        .map(|v| match v {
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// PULL/DISCARD's `has_more` (absent = false: the stream is complete).
pub fn has_more(metadata: &Map) -> bool {
    matches!(metadata.get("has_more"), Some(Value::Boolean(true)))
}

/// `bookmark` (end of an auto-commit stream, COMMIT).
pub fn bookmark(metadata: &Map) -> Option<&str> {
    get_str(metadata, "bookmark")
}

/// RUN's `qid` inside an explicit transaction.
pub fn qid(metadata: &Map) -> Option<i64> {
    get_int(metadata, "qid")
}

/// RUN's `t_first`: milliseconds until the first record was available.
pub fn t_first(metadata: &Map) -> Option<i64> {
    get_int(metadata, "t_first")
}

/// The end-of-stream `t_last`: milliseconds until the last record was consumed.
pub fn t_last(metadata: &Map) -> Option<i64> {
    get_int(metadata, "t_last")
}

/// `db`: the database that ran the query (end of stream; BEGIN/RUN on 5.8+: the resolved home
/// database).
pub fn db(metadata: &Map) -> Option<&str> {
    get_str(metadata, "db")
}

/// The query `type`: `"r"`, `"w"`, `"rw"` or `"s"`.
pub fn query_type(metadata: &Map) -> Option<&str> {
    get_str(metadata, "type")
}

/// The update counters `stats`.
pub fn stats(metadata: &Map) -> Option<&Map> {
    get_map(metadata, "stats")
}

/// The `plan` (EXPLAIN).
pub fn plan(metadata: &Map) -> Option<&Map> {
    get_map(metadata, "plan")
}

/// The `profile` (PROFILE).
pub fn profile(metadata: &Map) -> Option<&Map> {
    get_map(metadata, "profile")
}

/// The legacy `notifications` list.
pub fn notifications(metadata: &Map) -> Option<&[Value]> {
    get_list(metadata, "notifications")
}

/// The GQL `statuses` list (5.6+).
pub fn statuses(metadata: &Map) -> Option<&[Value]> {
    get_list(metadata, "statuses")
}

/// HELLO's `server`: the server agent, e.g. `"Neo4j/5.26.0"`.
pub fn server_agent(metadata: &Map) -> Option<&str> {
    get_str(metadata, "server")
}

/// HELLO's `connection_id`, e.g. `"bolt-123"`.
pub fn connection_id(metadata: &Map) -> Option<&str> {
    get_str(metadata, "connection_id")
}

/// HELLO's `hints`.
pub fn hints(metadata: &Map) -> Option<&Map> {
    get_map(metadata, "hints")
}

/// What the server told about itself in HELLO's SUCCESS.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerInfo {
    /// The negotiated protocol version.
    pub version: Version,
    /// `server`: the agent, e.g. `"Neo4j/5.26.0"`.
    pub agent: String,
    /// `connection_id`.
    pub connection_id: Option<String>,
    /// `hints.connection.recv_timeout_seconds` (only positive integers are taken): the core
    /// considers the connection dead if the server stays silent this long while a response is
    /// due (see [`Connection::poll_timeout`](crate::Connection::poll_timeout)).
    pub recv_timeout: Option<Duration>,
    /// `hints.telemetry.enabled` (5.4+): whether the server wants TELEMETRY messages.
    pub telemetry_enabled: bool,
    /// `hints.ssr.enabled` (5.8+): server-side routing is on.
    pub ssr_enabled: bool,
    /// Whether the 4.4 `utc` patch was accepted (always true on 5.0+).
    pub utc: bool,
    /// All hints as sent.
    pub hints: Map,
}

impl ServerInfo {
    pub(crate) fn from_hello(version: Version, metadata: &Map) -> Self {
        let hints = hints(metadata).cloned().unwrap_or_default();
        let recv_timeout = get_int(&hints, "connection.recv_timeout_seconds")
            .filter(|s| *s > 0)
            .map(|s| Duration::from_secs(s.unsigned_abs()));
        let flag = |key: &str| matches!(hints.get(key), Some(Value::Boolean(true)));
        let utc = version.major >= 5
            || get_list(metadata, "patch_bolt").is_some_and(|l| {
                l.iter()
                    .any(|v| matches!(v, Value::String(s) if s.as_str() == "utc"))
            });
        ServerInfo {
            version,
            agent: server_agent(metadata).unwrap_or_default().to_owned(),
            connection_id: connection_id(metadata).map(str::to_owned),
            recv_timeout,
            telemetry_enabled: flag("telemetry.enabled"),
            ssr_enabled: flag("ssr.enabled"),
            utc,
            hints,
        }
    }
}

/// A FAILURE, with the GQL fields of Bolt 5.7+ when present.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The Neo4j status code, e.g. `"Neo.ClientError.Statement.SyntaxError"` (`code`, or
    /// `neo4j_code` on 5.7+).
    pub code: String,
    /// The message (`None` when the server sent none, or not as a string: the official drivers
    /// then fill in a default, and on Bolt 5.7+ treat the GQL fields as missing too).
    pub message: Option<String>,
    /// The GQLSTATUS code (5.7+), e.g. `"42001"`.
    pub gql_status: Option<String>,
    /// The GQLSTATUS description (5.7+).
    pub description: Option<String>,
    /// The diagnostic record (5.7+).
    pub diagnostic_record: Map,
    /// `_classification` from the diagnostic record (5.7+): `"CLIENT_ERROR"`,
    /// `"TRANSIENT_ERROR"`, `"DATABASE_ERROR"`.
    pub classification: Option<String>,
    /// The cause chain (5.7+).
    pub cause: Option<Box<Failure>>,
}

impl Failure {
    /// Reads a FAILURE's metadata. A missing code becomes an empty string and a missing message
    /// `None` (the server always sends them; a broken one must not crash us). The cause chain is
    /// as deep as the decoder allowed.
    pub fn from_metadata(metadata: &Map) -> Self {
        let code = get_str(metadata, "neo4j_code")
            .or_else(|| get_str(metadata, "code"))
            .unwrap_or_default()
            .to_owned();
        let diagnostic_record = get_map(metadata, "diagnostic_record")
            .cloned()
            .unwrap_or_default();
        let classification = get_str(&diagnostic_record, "_classification").map(str::to_owned);
        Failure {
            code,
            message: get_str(metadata, "message").map(str::to_owned),
            gql_status: get_str(metadata, "gql_status").map(str::to_owned),
            description: get_str(metadata, "description").map(str::to_owned),
            diagnostic_record,
            classification,
            cause: get_map(metadata, "cause").map(|c| Box::new(Failure::from_metadata(c))),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}",
            self.code,
            self.message.as_deref().unwrap_or("(no message)")
        )?;
        if let Some(gql) = &self.gql_status {
            write!(f, " (GQLSTATUS {gql})")?;
        }
        Ok(())
    }
}

/// The role of a server in a routing table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Answers ROUTE.
    Route,
    /// Serves reads.
    Read,
    /// Serves writes.
    Write,
}

/// ROUTE's answer (`rt`).
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingTable {
    /// `ttl` in seconds.
    pub ttl: i64,
    /// `db`: the database the table is for (4.4+).
    pub db: Option<String>,
    /// `(role, addresses)` groups in server order.
    pub servers: Vec<(Role, Vec<String>)>,
}

/// Reads ROUTE's SUCCESS metadata (`{rt: {ttl, db, servers: [{addresses, role}]}}`); `None` if it
/// is malformed. Unknown roles are skipped.
pub fn routing_table(metadata: &Map) -> Option<RoutingTable> {
    let rt = get_map(metadata, "rt")?;
    let ttl = get_int(rt, "ttl")?;
    let mut servers = Vec::new();
    for server in get_list(rt, "servers")? {
        let Value::Map(server) = server else {
            return None;
        };
        let role = match get_str(server, "role")? {
            "ROUTE" => Role::Route,
            "READ" => Role::Read,
            "WRITE" => Role::Write,
            _ => continue,
        };
        let addresses = get_list(server, "addresses")?
            .iter()
            .map(|a| match a {
                Value::String(s) => Some(s.as_str().to_owned()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        servers.push((role, addresses));
    }
    Some(RoutingTable {
        ttl,
        db: get_str(rt, "db").map(str::to_owned),
        servers,
    })
}
