//! Typed views of response metadata: FAILURE ([`Failure`]), HELLO's SUCCESS ([`ServerInfo`]),
//! ROUTE's SUCCESS ([`RoutingTable`]) and free functions reading the common SUCCESS fields.
//!
//! The functions return `None` when a field is absent or has an unexpected type; they never
//! panic. The raw [`Map`] stays available for anything not covered here.
//!
//! A [`Connection`](crate::Connection) checks the type of every field read here before it reports
//! a SUCCESS: a field of the wrong type (`fields: 7`, `has_more: "yes"`, `hints: []`) is a
//! [`BoltError::Protocol`] that makes the connection defunct, never
//! read as if the field were absent. So on events from a `Connection`, `None` means absent (or
//! `null`, which is taken as absent).

use std::time::Duration;

use crate::error::BoltError;
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

/// The type Bolt gives a SUCCESS metadata field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    Str,
    Int,
    Bool,
    Map,
    /// A list of strings (`fields`, `patch_bolt`).
    StrList,
    /// A list of maps (`notifications`, `statuses`).
    MapList,
    /// `stats`: a map of integer counters and boolean flags.
    Stats,
    /// HELLO's `hints`: a map whose known keys have their types.
    Hints,
}

impl FieldType {
    fn describe(self) -> &'static str {
        match self {
            FieldType::Str => "a string",
            FieldType::Int => "an integer",
            FieldType::Bool => "a boolean",
            FieldType::Map => "a map",
            FieldType::StrList => "a list of strings",
            FieldType::MapList => "a list of maps",
            FieldType::Stats => "a map of integers and booleans",
            FieldType::Hints => {
                "a map (with connection.recv_timeout_seconds an integer, \
                                 telemetry.enabled and ssr.enabled booleans)"
            }
        }
    }

    fn admits(self, value: &Value) -> bool {
        match (self, value) {
            (FieldType::Str, Value::String(_))
            | (FieldType::Int, Value::Integer(_))
            | (FieldType::Bool, Value::Boolean(_))
            | (FieldType::Map, Value::Map(_)) => true,
            (FieldType::StrList, Value::List(items)) => {
                items.iter().all(|v| matches!(v, Value::String(_)))
            }
            (FieldType::MapList, Value::List(items)) => {
                items.iter().all(|v| matches!(v, Value::Map(_)))
            }
            (FieldType::Stats, Value::Map(stats)) => stats
                .iter()
                .all(|(_, v)| matches!(v, Value::Integer(_) | Value::Boolean(_))),
            (FieldType::Hints, Value::Map(hints)) => [
                ("connection.recv_timeout_seconds", FieldType::Int),
                ("telemetry.enabled", FieldType::Bool),
                ("ssr.enabled", FieldType::Bool),
            ]
            .iter()
            .all(|(key, ty)| hints.get(key).is_none_or(|v| ty.admits(v))),
            _ => false,
        }
    }
}

/// The fields of HELLO's SUCCESS that are read (by [`ServerInfo`]).
pub(crate) const HELLO_FIELDS: &[(&str, FieldType)] = &[
    ("server", FieldType::Str),
    ("connection_id", FieldType::Str),
    ("hints", FieldType::Hints),
    ("patch_bolt", FieldType::StrList),
];

/// The fields of RUN's SUCCESS.
pub(crate) const RUN_FIELDS: &[(&str, FieldType)] = &[
    ("fields", FieldType::StrList),
    ("t_first", FieldType::Int),
    ("qid", FieldType::Int),
    ("db", FieldType::Str),
];

/// The fields of PULL's and DISCARD's SUCCESS (`has_more`, or the end of the stream).
pub(crate) const STREAM_FIELDS: &[(&str, FieldType)] = &[
    ("has_more", FieldType::Bool),
    ("bookmark", FieldType::Str),
    ("db", FieldType::Str),
    ("type", FieldType::Str),
    ("t_last", FieldType::Int),
    ("stats", FieldType::Stats),
    ("notifications", FieldType::MapList),
    ("statuses", FieldType::MapList),
    ("plan", FieldType::Map),
    ("profile", FieldType::Map),
];

/// The fields of BEGIN's and COMMIT's SUCCESS.
pub(crate) const TX_FIELDS: &[(&str, FieldType)] =
    &[("bookmark", FieldType::Str), ("db", FieldType::Str)];

/// The field of ROUTE's SUCCESS (its inside is checked by [`routing_table`]).
pub(crate) const ROUTE_FIELDS: &[(&str, FieldType)] = &[("rt", FieldType::Map)];

/// Checks that each of `fields` present in `metadata` (the SUCCESS of `request`) has its Bolt
/// type; `null` counts as absent. The error names the request, the field, what came and what
/// was expected.
pub(crate) fn check_success(
    request: &str,
    fields: &[(&str, FieldType)],
    metadata: &Map,
) -> Result<(), BoltError> {
    for (key, ty) in fields {
        match metadata.get(key) {
            None | Some(Value::Null) => {}
            Some(value) if ty.admits(value) => {}
            Some(value) => {
                let mut shown = format!("{value:?}");
                if shown.len() > 80 {
                    let cut = (0..=77)
                        .rev()
                        .find(|i| shown.is_char_boundary(*i))
                        .unwrap_or(0);
                    shown.truncate(cut);
                    shown.push_str("...");
                }
                return Err(BoltError::protocol(format!(
                    "the SUCCESS of {request} has `{key}` = {shown}, but Bolt defines it as {}",
                    ty.describe()
                )));
            }
        }
    }
    Ok(())
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

/// The most addresses one ROUTE reply may list (all roles together). Real clusters have a
/// handful of members; a reply listing more is treated as hostile, so a driver never keeps (or
/// opens pools for) an unbounded number of servers.
pub const MAX_ROUTING_TABLE_ADDRESSES: usize = 1024;

/// ROUTE's answer (`rt`), checked by [`routing_table`].
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingTable {
    /// `ttl`: how long the table may be used (never negative).
    pub ttl: Duration,
    /// `db`: the database the table is for (4.4+).
    pub db: Option<String>,
    /// `(role, addresses)` groups in server order; servers of unknown roles are left out (as the
    /// official drivers do), and the addresses are `host:port` strings as sent.
    pub servers: Vec<(Role, Vec<String>)>,
}

/// Why a ROUTE reply is not a usable routing table: the router that sent it is broken (or
/// hostile), and a driver should try the next one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoutingTableError {
    /// A field the reply must have is missing.
    #[error("the routing table has no `{0}`")]
    Missing(&'static str),
    /// A field has the wrong type.
    #[error("the routing table's `{field}` is not {expected}")]
    WrongType {
        /// The field, e.g. `servers[2].addresses`.
        field: String,
        /// What it should be, e.g. `a list of strings`.
        expected: &'static str,
    },
    /// `ttl` is negative.
    #[error("the routing table's ttl is negative ({0} s)")]
    NegativeTtl(i64),
    /// More than [`MAX_ROUTING_TABLE_ADDRESSES`] addresses.
    #[error(
        "the routing table lists more than {max} addresses (at least {count}); refused as hostile"
    )]
    TooManyAddresses {
        /// How many were counted before giving up.
        count: usize,
        /// The limit.
        max: usize,
    },
}

/// Reads ROUTE's SUCCESS metadata (`{rt: {ttl, db, servers: [{addresses, role}]}}`). Servers of
/// unknown roles are skipped; anything else malformed (a missing or mistyped field, a negative
/// ttl, more than [`MAX_ROUTING_TABLE_ADDRESSES`] addresses) is an error. Whether the table has
/// routers and readers is the caller's concern.
pub fn routing_table(metadata: &Map) -> Result<RoutingTable, RoutingTableError> {
    let rt = match metadata.get("rt") {
        Some(Value::Map(rt)) => rt,
        Some(_) => return Err(wrong_type("rt", "a map")),
        None => return Err(RoutingTableError::Missing("rt")),
    };
    let ttl = match rt.get("ttl") {
        Some(Value::Integer(ttl)) => *ttl,
        Some(_) => return Err(wrong_type("ttl", "an integer")),
        None => return Err(RoutingTableError::Missing("ttl")),
    };
    if ttl < 0 {
        return Err(RoutingTableError::NegativeTtl(ttl));
    }
    let db = match rt.get("db") {
        None | Some(Value::Null) => None,
        Some(Value::String(db)) => Some(db.as_str().to_owned()),
        Some(_) => return Err(wrong_type("db", "a string")),
    };
    let servers = match rt.get("servers") {
        Some(Value::List(servers)) => servers,
        Some(_) => return Err(wrong_type("servers", "a list")),
        None => return Err(RoutingTableError::Missing("servers")),
    };
    let mut groups = Vec::new();
    let mut count = 0usize;
    for (index, server) in servers.iter().enumerate() {
        let Value::Map(server) = server else {
            return Err(wrong_type(&format!("servers[{index}]"), "a map"));
        };
        let role = match server.get("role") {
            Some(Value::String(role)) => match role.as_str() {
                "ROUTE" => Some(Role::Route),
                "READ" => Some(Role::Read),
                "WRITE" => Some(Role::Write),
                _ => None,
            },
            Some(_) => return Err(wrong_type(&format!("servers[{index}].role"), "a string")),
            None => return Err(RoutingTableError::Missing("servers[].role")),
        };
        let addresses = match server.get("addresses") {
            Some(Value::List(addresses)) => addresses,
            Some(_) => {
                return Err(wrong_type(&format!("servers[{index}].addresses"), "a list"));
            }
            None => return Err(RoutingTableError::Missing("servers[].addresses")),
        };
        count = count.saturating_add(addresses.len());
        if count > MAX_ROUTING_TABLE_ADDRESSES {
            return Err(RoutingTableError::TooManyAddresses {
                count,
                max: MAX_ROUTING_TABLE_ADDRESSES,
            });
        }
        let addresses = addresses
            .iter()
            .map(|address| match address {
                Value::String(address) => Ok(address.as_str().to_owned()),
                _ => Err(wrong_type(
                    &format!("servers[{index}].addresses"),
                    "a list of strings",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(role) = role {
            groups.push((role, addresses));
        }
    }
    Ok(RoutingTable {
        ttl: Duration::from_secs(ttl.unsigned_abs()),
        db,
        servers: groups,
    })
}

fn wrong_type(field: &str, expected: &'static str) -> RoutingTableError {
    RoutingTableError::WrongType {
        field: field.to_owned(),
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::String(s.into())
    }

    fn server(role: &str, addresses: &[&str]) -> Value {
        let mut map = Map::new();
        map.insert("role", text(role));
        map.insert(
            "addresses",
            Value::List(addresses.iter().map(|a| text(a)).collect()),
        );
        Value::Map(map)
    }

    fn reply(ttl: Value, servers: Vec<Value>) -> Map {
        let mut rt = Map::new();
        rt.insert("ttl", ttl);
        rt.insert("db", text("neo4j"));
        rt.insert("servers", Value::List(servers));
        let mut metadata = Map::new();
        metadata.insert("rt", Value::Map(rt));
        metadata
    }

    #[test]
    fn a_well_formed_reply_is_read_and_unknown_roles_are_skipped() {
        let table = routing_table(&reply(
            Value::Integer(300),
            vec![
                server("ROUTE", &["a:1"]),
                server("LEADER", &["x:1"]),
                server("READ", &["b:1", "c:1"]),
                server("WRITE", &["a:1"]),
            ],
        ))
        .unwrap();
        assert_eq!(table.ttl, Duration::from_secs(300));
        assert_eq!(table.db.as_deref(), Some("neo4j"));
        assert_eq!(
            table.servers,
            vec![
                (Role::Route, vec!["a:1".to_owned()]),
                (Role::Read, vec!["b:1".to_owned(), "c:1".to_owned()]),
                (Role::Write, vec!["a:1".to_owned()]),
            ]
        );
    }

    #[test]
    fn hostile_replies_are_typed_errors() {
        assert_eq!(
            routing_table(&reply(Value::Integer(-1), vec![server("ROUTE", &["a:1"])])),
            Err(RoutingTableError::NegativeTtl(-1))
        );
        assert!(matches!(
            routing_table(&reply(text("300"), vec![])),
            Err(RoutingTableError::WrongType { .. })
        ));
        let many: Vec<String> = (0..10_000).map(|i| format!("h{i}:7687")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(matches!(
            routing_table(&reply(Value::Integer(1), vec![server("READ", &many)])),
            Err(RoutingTableError::TooManyAddresses {
                max: MAX_ROUTING_TABLE_ADDRESSES,
                ..
            })
        ));
        let mut no_servers = reply(Value::Integer(1), vec![]);
        if let Some(Value::Map(rt)) = no_servers.get_mut("rt") {
            rt.remove("servers");
        }
        assert_eq!(
            routing_table(&no_servers),
            Err(RoutingTableError::Missing("servers"))
        );
        let mut no_role = Map::new();
        no_role.insert("addresses", Value::List(vec![]));
        assert_eq!(
            routing_table(&reply(Value::Integer(1), vec![Value::Map(no_role)])),
            Err(RoutingTableError::Missing("servers[].role"))
        );
        assert!(matches!(
            routing_table(&reply(
                Value::Integer(1),
                vec![Value::Map({
                    let mut m = Map::new();
                    m.insert("role", text("READ"));
                    m.insert("addresses", Value::List(vec![Value::Integer(7)]));
                    m
                })]
            )),
            Err(RoutingTableError::WrongType { .. })
        ));
    }
}
