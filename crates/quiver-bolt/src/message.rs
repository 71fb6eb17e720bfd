//! The Bolt messages, each message's encoding and decoding side by side: requests (the client
//! role encodes them, the server role decodes them) and responses (the server role encodes them,
//! the client role decodes them). Both roles use these functions; there is no second copy.

use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes};
use quiver_packstream::{Decoder, encode};

use crate::config::{BoltAgent, NotificationFilter};
use crate::error::BoltError;
use crate::metadata::Failure;
use crate::record::RawRecord;
use crate::request::{
    AccessMode, AuthToken, ClientMessage, HelloMessage, Route, Run, TelemetryApi, TxExtra,
};
use crate::value::{self, Map, PackStr, Value, ValueContext, ValueError};
use crate::version::Version;

/// Message tags.
pub(crate) mod tag {
    pub(crate) const HELLO: u8 = 0x01;
    pub(crate) const GOODBYE: u8 = 0x02;
    pub(crate) const RESET: u8 = 0x0F;
    pub(crate) const RUN: u8 = 0x10;
    pub(crate) const BEGIN: u8 = 0x11;
    pub(crate) const COMMIT: u8 = 0x12;
    pub(crate) const ROLLBACK: u8 = 0x13;
    pub(crate) const DISCARD: u8 = 0x2F;
    pub(crate) const PULL: u8 = 0x3F;
    pub(crate) const TELEMETRY: u8 = 0x54;
    pub(crate) const ROUTE: u8 = 0x66;
    pub(crate) const LOGON: u8 = 0x6A;
    pub(crate) const LOGOFF: u8 = 0x6B;
    pub(crate) const SUCCESS: u8 = 0x70;
    pub(crate) const RECORD: u8 = 0x71;
    pub(crate) const IGNORED: u8 = 0x7E;
    pub(crate) const FAILURE: u8 = 0x7F;
}

/// The name of the request with this tag (any version), e.g. `"RUN"`.
pub(crate) fn request_name(tag: u8) -> Option<&'static str> {
    Some(match tag {
        tag::HELLO => "HELLO",
        tag::GOODBYE => "GOODBYE",
        tag::RESET => "RESET",
        tag::RUN => "RUN",
        tag::BEGIN => "BEGIN",
        tag::COMMIT => "COMMIT",
        tag::ROLLBACK => "ROLLBACK",
        tag::DISCARD => "DISCARD",
        tag::PULL => "PULL",
        tag::TELEMETRY => "TELEMETRY",
        tag::ROUTE => "ROUTE",
        tag::LOGON => "LOGON",
        tag::LOGOFF => "LOGOFF",
        _ => return None,
    })
}

fn enc(e: quiver_packstream::EncodeError) -> BoltError {
    BoltError::Encode(Arc::new(ValueError::from(e)))
}

fn venc(e: ValueError) -> BoltError {
    BoltError::Encode(Arc::new(e))
}

fn s(v: &str) -> Value {
    Value::String(PackStr::from(v))
}

fn str_list(items: &[String]) -> Value {
    Value::List(items.iter().map(|i| s(i)).collect())
}

/// Writes a structure header.
pub(crate) fn header(buf: &mut impl BufMut, tag: u8, fields: usize) -> Result<(), BoltError> {
    encode::write_struct_header(buf, tag, fields).map_err(enc)
}

pub(crate) fn write_map(
    buf: &mut impl BufMut,
    map: &Map,
    ctx: &ValueContext,
) -> Result<(), BoltError> {
    value::encode_map(buf, map, ctx).map_err(venc)
}

// =============================================================================================
// Reading request fields (server role).

/// Why a well-formed message is not a valid request, classified as Neo4j answers it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RequestFault {
    /// Not a request of the negotiated version: a server closes the connection, unanswered.
    Unknown(String),
    /// The wrong number of fields (or bytes after them): `Neo.ClientError.Request.InvalidFormat`.
    Format(String),
    /// A field of the wrong type or value: `Neo.ClientError.Request.Invalid`.
    Value(String),
}

impl RequestFault {
    pub(crate) fn reason(&self) -> &str {
        match self {
            RequestFault::Unknown(r) | RequestFault::Format(r) | RequestFault::Value(r) => r,
        }
    }
}

fn bad(field: &str, problem: impl std::fmt::Display) -> RequestFault {
    RequestFault::Value(format!("Illegal value for field \"{field}\": {problem}"))
}

/// The typed fields of one request message, taken in order.
struct Fields {
    values: std::vec::IntoIter<Value>,
}

impl Fields {
    fn next(&mut self) -> Value {
        // The field count was checked before any field is taken.
        self.values.next().unwrap_or(Value::Null)
    }

    fn map(&mut self, field: &str) -> Result<Map, RequestFault> {
        match self.next() {
            Value::Map(map) => Ok(map),
            other => Err(bad(
                field,
                format!("expected a map, got {}", other.type_name()),
            )),
        }
    }
}

/// Reads the keys of a metadata map; `null` counts as absent (as Neo4j reads them).
struct Entries<'a> {
    map: &'a Map,
    /// The message field the map is, for error messages (e.g. `"metadata"` for RUN's extra).
    field: &'static str,
}

impl<'a> Entries<'a> {
    fn bad(&self, key: &str, problem: impl std::fmt::Display) -> RequestFault {
        bad(
            self.field,
            format!("Illegal value for field \"{key}\": {problem}"),
        )
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn string(&self, key: &str) -> Result<Option<String>, RequestFault> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(v)) => Ok(Some(v.as_str().to_owned())),
            Some(other) => {
                Err(self.bad(key, format!("expected a string, got {}", other.type_name())))
            }
        }
    }

    fn int(&self, key: &str) -> Result<Option<i64>, RequestFault> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Integer(v)) => Ok(Some(*v)),
            Some(other) => Err(self.bad(
                key,
                format!("expected an integer, got {}", other.type_name()),
            )),
        }
    }

    fn map(&self, key: &str) -> Result<Option<Map>, RequestFault> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Map(v)) => Ok(Some(v.clone())),
            Some(other) => Err(self.bad(key, format!("expected a map, got {}", other.type_name()))),
        }
    }

    fn strings(&self, key: &str) -> Result<Option<Vec<String>>, RequestFault> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::List(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(v) => Ok(v.as_str().to_owned()),
                    other => Err(self.bad(
                        key,
                        format!("expected a list of strings, found {}", other.type_name()),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => {
                Err(self.bad(key, format!("expected a list, got {}", other.type_name())))
            }
        }
    }
}

/// Parameters and metadata may hold only what a client can send: no graph values, no
/// `Unsupported`, no structure the version does not define (Neo4j refuses them too).
fn check_sendable(field: &str, value: &Value) -> Result<(), RequestFault> {
    let refused = |what: String| Err(bad(field, what));
    match value {
        Value::Node(_) | Value::Relationship(_) | Value::Path(_) | Value::Unsupported(_) => {
            refused(format!(
                "a {} cannot be sent by a client",
                value.type_name()
            ))
        }
        Value::Unknown(s) => refused(format!("unexpected structure tag {:#04X}", s.tag)),
        Value::List(items) => items.iter().try_for_each(|v| check_sendable(field, v)),
        Value::Map(map) => map.values().try_for_each(|v| check_sendable(field, v)),
        _ => Ok(()),
    }
}

fn check_sendable_map(field: &str, map: &Map) -> Result<(), RequestFault> {
    map.values().try_for_each(|v| check_sendable(field, v))
}

/// Decodes a request message that [`RawMessage`](crate::server::RawMessage) already checked is
/// well-formed PackStream: `fields` are the message's fields (after the structure header).
pub(crate) fn decode_request(
    tag: u8,
    field_count: usize,
    fields: Bytes,
    version: Version,
    ctx: &ValueContext,
) -> Result<ClientMessage, RequestFault> {
    let Some(name) = request_name(tag).filter(|_| request_exists(tag, version)) else {
        return Err(RequestFault::Unknown(format!(
            "message {tag:#04X} is not a request of Bolt {version}"
        )));
    };
    let expected = match tag {
        tag::HELLO | tag::LOGON | tag::BEGIN | tag::DISCARD | tag::PULL | tag::TELEMETRY => 1,
        tag::RUN | tag::ROUTE => 3,
        _ => 0,
    };
    if field_count != expected {
        // Neo4j's words.
        return Err(RequestFault::Format(format!(
            "Illegal struct size: Expected struct to be {expected} fields but got {field_count}"
        )));
    }
    let mut decoder = Decoder::new(fields);
    let mut values = Vec::with_capacity(expected);
    for _ in 0..expected {
        let value = value::decode_value(&mut decoder, ctx)
            .map_err(|e| RequestFault::Value(format!("{name}: {e}")))?;
        values.push(value);
    }
    if !decoder.is_empty() {
        return Err(RequestFault::Format(format!(
            "{} bytes after the last field of {name}",
            decoder.remaining()
        )));
    }
    let mut fields = Fields {
        values: values.into_iter(),
    };
    Ok(match tag {
        tag::HELLO => ClientMessage::Hello(decode_hello(&fields.map("extra")?, version)?),
        tag::LOGON => ClientMessage::Logon(decode_auth(&Entries {
            map: &fields.map("auth")?,
            field: "auth",
        })?),
        tag::LOGOFF => ClientMessage::Logoff,
        tag::GOODBYE => ClientMessage::Goodbye,
        tag::RESET => ClientMessage::Reset,
        tag::RUN => ClientMessage::Run(decode_run(&mut fields, version)?),
        tag::BEGIN => ClientMessage::Begin(decode_tx_extra(&fields.map("metadata")?, version)?),
        tag::COMMIT => ClientMessage::Commit,
        tag::ROLLBACK => ClientMessage::Rollback,
        tag::DISCARD => {
            let (n, qid) = decode_stream(&fields.map("meta")?)?;
            ClientMessage::Discard { n, qid }
        }
        tag::PULL => {
            let (n, qid) = decode_stream(&fields.map("meta")?)?;
            ClientMessage::Pull { n, qid }
        }
        tag::ROUTE => ClientMessage::Route(decode_route(&mut fields)?),
        _ => ClientMessage::Telemetry(decode_telemetry(fields.next())?),
    })
}

/// Whether the request `tag` exists on `version` (LOGON/LOGOFF 5.1+, TELEMETRY 5.4+).
pub(crate) fn request_exists(tag: u8, version: Version) -> bool {
    match tag {
        tag::LOGON | tag::LOGOFF => version >= Version::V5_1,
        tag::TELEMETRY => version >= Version::V5_4,
        other => request_name(other).is_some(),
    }
}

/// Encodes one request message (unchunked) for the version in `ctx`.
pub(crate) fn encode_request(
    buf: &mut impl BufMut,
    message: &ClientMessage,
    ctx: &ValueContext,
) -> Result<(), BoltError> {
    let (major, minor) = ctx.version();
    let version = Version::new(major, minor);
    match message {
        ClientMessage::Hello(hello) => encode_hello(buf, hello, version, ctx),
        ClientMessage::Logon(auth) => {
            header(buf, tag::LOGON, 1)?;
            write_map(buf, &auth_map(auth), ctx)
        }
        ClientMessage::Run(run) => encode_run(buf, run, version, ctx),
        ClientMessage::Begin(extra) => {
            header(buf, tag::BEGIN, 1)?;
            write_map(buf, &tx_extra_map(extra, version)?, ctx)
        }
        ClientMessage::Pull { n, qid } => {
            header(buf, tag::PULL, 1)?;
            write_map(buf, &stream_map(*n, *qid), ctx)
        }
        ClientMessage::Discard { n, qid } => {
            header(buf, tag::DISCARD, 1)?;
            write_map(buf, &stream_map(*n, *qid), ctx)
        }
        ClientMessage::Route(route) => encode_route(buf, route, ctx),
        ClientMessage::Telemetry(api) => {
            header(buf, tag::TELEMETRY, 1)?;
            encode::write_int(buf, *api as i64);
            Ok(())
        }
        ClientMessage::Logoff
        | ClientMessage::Goodbye
        | ClientMessage::Reset
        | ClientMessage::Commit
        | ClientMessage::Rollback => header(buf, message.tag(), 0),
    }
}

// =============================================================================================
// HELLO and LOGON: the auth map, notification filters, the bolt agent.

fn auth_entries(auth: &AuthToken, map: &mut Map) {
    map.insert("scheme", s(&auth.scheme));
    if let Some(p) = &auth.principal {
        map.insert("principal", s(p));
    }
    if let Some(c) = &auth.credentials {
        map.insert("credentials", s(c));
    }
    if let Some(r) = &auth.realm {
        map.insert("realm", s(r));
    }
    if !auth.parameters.is_empty() {
        map.insert("parameters", Value::Map(auth.parameters.clone()));
    }
}

fn decode_auth(entries: &Entries<'_>) -> Result<AuthToken, RequestFault> {
    let parameters = entries.map("parameters")?.unwrap_or_default();
    check_sendable_map(entries.field, &parameters)?;
    Ok(AuthToken {
        scheme: entries
            .string("scheme")?
            .ok_or_else(|| entries.bad("scheme", "expected a string, got nothing"))?,
        principal: entries.string("principal")?,
        credentials: entries.string("credentials")?,
        realm: entries.string("realm")?,
        parameters,
    })
}

/// The LOGON auth map.
fn auth_map(auth: &AuthToken) -> Map {
    let mut map = Map::new();
    auth_entries(auth, &mut map);
    map
}

/// The notification filter keys of HELLO, RUN and BEGIN (5.2+; categories were renamed
/// classifications in 5.5).
fn disabled_key(version: Version) -> &'static str {
    if version >= Version::V5_5 {
        "notifications_disabled_classifications"
    } else {
        "notifications_disabled_categories"
    }
}

fn notification_entries(
    filter: &NotificationFilter,
    version: Version,
    map: &mut Map,
) -> Result<(), BoltError> {
    if filter.is_empty() {
        return Ok(());
    }
    if version < Version::V5_2 {
        return Err(BoltError::NotSupported {
            what: "notification filtering",
            version,
        });
    }
    if let Some(sev) = &filter.minimum_severity {
        map.insert("notifications_minimum_severity", s(sev));
    }
    if let Some(disabled) = &filter.disabled_classifications {
        map.insert(disabled_key(version), str_list(disabled));
    }
    Ok(())
}

fn decode_notifications(
    entries: &Entries<'_>,
    version: Version,
) -> Result<NotificationFilter, RequestFault> {
    if version < Version::V5_2 {
        return Ok(NotificationFilter::default());
    }
    Ok(NotificationFilter {
        minimum_severity: entries.string("notifications_minimum_severity")?,
        disabled_classifications: entries.strings(disabled_key(version))?,
    })
}

fn encode_hello(
    buf: &mut impl BufMut,
    hello: &HelloMessage,
    version: Version,
    ctx: &ValueContext,
) -> Result<(), BoltError> {
    let mut extra = Map::new();
    extra.insert("user_agent", s(&hello.user_agent));
    if let Some(auth) = &hello.auth {
        auth_entries(auth, &mut extra);
    }
    if let Some(routing) = &hello.routing {
        extra.insert("routing", Value::Map(routing.clone()));
    }
    if !hello.patch_bolt.is_empty() {
        extra.insert("patch_bolt", str_list(&hello.patch_bolt));
    }
    notification_entries(&hello.notifications, version, &mut extra)?;
    if let Some(agent) = &hello.bolt_agent {
        let mut map = Map::new();
        map.insert("product", s(&agent.product));
        for (key, val) in [
            ("platform", &agent.platform),
            ("language", &agent.language),
            ("language_details", &agent.language_details),
        ] {
            if let Some(v) = val {
                map.insert(key, s(v));
            }
        }
        extra.insert("bolt_agent", Value::Map(map));
    }
    header(buf, tag::HELLO, 1)?;
    write_map(buf, &extra, ctx)
}

fn decode_hello(extra: &Map, version: Version) -> Result<HelloMessage, RequestFault> {
    let entries = Entries {
        map: extra,
        field: "extra",
    };
    let user_agent = entries
        .string("user_agent")?
        .ok_or_else(|| bad("user_agent", "expected a string, got nothing"))?;
    // Credentials in HELLO exist up to 5.0; a 5.1+ server ignores them.
    let auth = if version < Version::V5_1 && entries.get("scheme").is_some() {
        Some(decode_auth(&entries)?)
    } else {
        None
    };
    let routing = entries.map("routing")?;
    if let Some(routing) = &routing {
        check_sendable_map("routing", routing)?;
    }
    let bolt_agent = match entries.get("bolt_agent") {
        None if version >= Version::V5_3 => {
            return Err(bad("bolt_agent", "mandatory on Bolt 5.3+, got nothing"));
        }
        None => None,
        Some(Value::Map(agent)) => {
            let agent = Entries {
                map: agent,
                field: "bolt_agent",
            };
            Some(BoltAgent {
                product: agent
                    .string("product")?
                    .ok_or_else(|| agent.bad("product", "expected a string, got nothing"))?,
                platform: agent.string("platform")?,
                language: agent.string("language")?,
                language_details: agent.string("language_details")?,
            })
        }
        Some(other) => {
            return Err(bad(
                "bolt_agent",
                format!("expected a map, got {}", other.type_name()),
            ));
        }
    };
    Ok(HelloMessage {
        user_agent,
        auth,
        routing,
        patch_bolt: entries.strings("patch_bolt")?.unwrap_or_default(),
        notifications: decode_notifications(&entries, version)?,
        bolt_agent,
    })
}

// =============================================================================================
// RUN and BEGIN: the transaction extra.

/// The RUN/BEGIN `extra` map.
fn tx_extra_map(extra: &TxExtra, version: Version) -> Result<Map, BoltError> {
    let mut map = Map::new();
    if !extra.bookmarks.is_empty() {
        map.insert("bookmarks", str_list(&extra.bookmarks));
    }
    if let Some(timeout) = extra.tx_timeout {
        let mut ms = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
        if ms == 0 && !timeout.is_zero() {
            ms = 1; // 0 would mean "no timeout"
        }
        map.insert("tx_timeout", Value::Integer(ms));
    }
    if !extra.tx_metadata.is_empty() {
        map.insert("tx_metadata", Value::Map(extra.tx_metadata.clone()));
    }
    if extra.mode == AccessMode::Read {
        map.insert("mode", s("r"));
    }
    if let Some(db) = &extra.db {
        map.insert("db", s(db));
    }
    if let Some(imp) = &extra.imp_user {
        map.insert("imp_user", s(imp));
    }
    notification_entries(&extra.notifications, version, &mut map)?;
    Ok(map)
}

fn decode_tx_extra(map: &Map, version: Version) -> Result<TxExtra, RequestFault> {
    let entries = Entries {
        map,
        field: "metadata",
    };
    let tx_timeout = match entries.int("tx_timeout")? {
        None => None,
        Some(ms) => Some(Duration::from_millis(u64::try_from(ms).map_err(|_| {
            entries.bad("tx_timeout", format!("must not be negative, got {ms}"))
        })?)),
    };
    let tx_metadata = entries.map("tx_metadata")?.unwrap_or_default();
    check_sendable_map("tx_metadata", &tx_metadata)?;
    let mode = match entries.string("mode")?.as_deref() {
        None | Some("w") => AccessMode::Write,
        Some("r") => AccessMode::Read,
        Some(other) => {
            return Err(entries.bad("mode", format!("expected \"r\" or \"w\", got {other:?}")));
        }
    };
    Ok(TxExtra {
        bookmarks: entries.strings("bookmarks")?.unwrap_or_default(),
        tx_timeout,
        tx_metadata,
        mode,
        db: entries.string("db")?,
        imp_user: entries.string("imp_user")?,
        notifications: decode_notifications(&entries, version)?,
    })
}

fn encode_run(
    buf: &mut impl BufMut,
    run: &Run,
    version: Version,
    ctx: &ValueContext,
) -> Result<(), BoltError> {
    let extra = tx_extra_map(&run.extra, version)?;
    header(buf, tag::RUN, 3)?;
    encode::write_str(buf, &run.query).map_err(enc)?;
    write_map(buf, &run.parameters, ctx)?;
    write_map(buf, &extra, ctx)
}

fn decode_run(fields: &mut Fields, version: Version) -> Result<Run, RequestFault> {
    let query = match fields.next() {
        Value::String(q) => q.as_str().to_owned(),
        other => {
            return Err(bad(
                "statement",
                format!("expected a string, got {}", other.type_name()),
            ));
        }
    };
    let parameters = fields.map("params")?;
    check_sendable_map("params", &parameters)?;
    let extra = decode_tx_extra(&fields.map("metadata")?, version)?;
    Ok(Run {
        query,
        parameters,
        extra,
    })
}

// =============================================================================================
// PULL and DISCARD.

/// PULL / DISCARD's map: `n`, and `qid` unless it is −1 (the default).
fn stream_map(n: i64, qid: i64) -> Map {
    let mut map = Map::new();
    map.insert("n", Value::Integer(n));
    if qid != -1 {
        map.insert("qid", Value::Integer(qid));
    }
    map
}

fn decode_stream(map: &Map) -> Result<(i64, i64), RequestFault> {
    let entries = Entries { map, field: "meta" };
    let n = entries
        .int("n")?
        .ok_or_else(|| entries.bad("n", "expected an integer, got nothing"))?;
    if n != -1 && n < 1 {
        return Err(entries.bad("n", format!("must be -1 (all) or at least 1, got {n}")));
    }
    let qid = entries.int("qid")?.unwrap_or(-1);
    if qid < -1 {
        return Err(entries.bad("qid", format!("must be -1 (last) or at least 0, got {qid}")));
    }
    Ok((n, qid))
}

// =============================================================================================
// ROUTE and TELEMETRY.

/// ROUTE's three fields (4.4+ form): routing context, bookmarks, `{db, imp_user}`.
fn encode_route(buf: &mut impl BufMut, route: &Route, ctx: &ValueContext) -> Result<(), BoltError> {
    header(buf, tag::ROUTE, 3)?;
    write_map(buf, &route.routing, ctx)?;
    value::encode_value(buf, &str_list(&route.bookmarks), ctx).map_err(venc)?;
    let mut extra = Map::new();
    if let Some(db) = &route.db {
        extra.insert("db", s(db));
    }
    if let Some(imp) = &route.imp_user {
        extra.insert("imp_user", s(imp));
    }
    write_map(buf, &extra, ctx)
}

fn decode_route(fields: &mut Fields) -> Result<Route, RequestFault> {
    let routing = fields.map("routing")?;
    check_sendable_map("routing", &routing)?;
    let bookmarks = match fields.next() {
        Value::Null => Vec::new(),
        Value::List(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(b) => Ok(b.as_str().to_owned()),
                other => Err(bad(
                    "bookmarks",
                    format!("expected a list of strings, found {}", other.type_name()),
                )),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(bad(
                "bookmarks",
                format!("expected a list, got {}", other.type_name()),
            ));
        }
    };
    let extra = fields.map("extra")?;
    let entries = Entries {
        map: &extra,
        field: "extra",
    };
    Ok(Route {
        routing,
        bookmarks,
        db: entries.string("db")?,
        imp_user: entries.string("imp_user")?,
    })
}

fn decode_telemetry(api: Value) -> Result<TelemetryApi, RequestFault> {
    match api {
        Value::Integer(n) => TelemetryApi::from_number(n)
            .ok_or_else(|| bad("api", format!("unknown driver interface type {n}"))),
        other => Err(bad(
            "api",
            format!("expected an integer, got {}", other.type_name()),
        )),
    }
}

// =============================================================================================
// Responses: SUCCESS, RECORD, IGNORED, FAILURE.

/// A decoded response message.
#[derive(Debug)]
pub(crate) enum Response {
    Success(Map),
    Record(Vec<Value>),
    RawRecord(RawRecord),
    Ignored,
    Failure(Map),
}

fn dec(e: impl Into<ValueError>) -> BoltError {
    BoltError::Decode(Arc::new(e.into()))
}

/// SUCCESS {metadata} (`tag::SUCCESS`) or FAILURE {metadata} (`tag::FAILURE`; see
/// [`Failure::to_metadata`] for the per-version map).
pub(crate) fn encode_summary(
    buf: &mut impl BufMut,
    tag: u8,
    metadata: &Map,
    ctx: &ValueContext,
) -> Result<(), BoltError> {
    header(buf, tag, 1)?;
    write_map(buf, metadata, ctx)
}

/// RECORD [fields].
pub(crate) fn encode_record(
    buf: &mut impl BufMut,
    fields: &[Value],
    ctx: &ValueContext,
) -> Result<(), BoltError> {
    header(buf, tag::RECORD, 1)?;
    encode::write_list_header(buf, fields.len()).map_err(enc)?;
    for field in fields {
        value::encode_value(buf, field, ctx).map_err(venc)?;
    }
    Ok(())
}

/// IGNORED.
pub(crate) fn encode_ignored(buf: &mut impl BufMut) -> Result<(), BoltError> {
    header(buf, tag::IGNORED, 0)
}

/// Decodes one complete response message.
/// With `raw_records`, a RECORD is validated and kept as bytes ([`RawRecord`]).
pub(crate) fn decode_response(
    message: Bytes,
    ctx: &ValueContext,
    raw_records: bool,
) -> Result<Response, BoltError> {
    let mut decoder = Decoder::new(message);
    let (tag, len) = decoder.read_struct_header().map_err(dec)?;
    let response = match (tag, len) {
        (tag::RECORD, 1) if raw_records => {
            let n = decoder.read_list_header().map_err(dec)?;
            // Checks the trailing bytes itself.
            return Ok(Response::RawRecord(RawRecord::read(decoder, n, ctx)?));
        }
        (tag::RECORD, 1) => {
            let n = decoder.read_list_header().map_err(dec)?;
            let mut fields = Vec::with_capacity(decoder.prealloc(n, 1));
            for _ in 0..n {
                fields.push(value::decode_value(&mut decoder, ctx).map_err(dec)?);
            }
            Response::Record(fields)
        }
        (tag::SUCCESS, 1) => Response::Success(value::decode_map(&mut decoder, ctx).map_err(dec)?),
        (tag::SUCCESS, 0) => Response::Success(Map::new()),
        (tag::FAILURE, 1) => Response::Failure(value::decode_map(&mut decoder, ctx).map_err(dec)?),
        (tag::IGNORED, 0) => Response::Ignored,
        (tag::IGNORED, 1) => {
            decoder.skip_value().map_err(dec)?;
            Response::Ignored
        }
        (tag, len) => {
            return Err(BoltError::protocol(format!(
                "unexpected message 0x{tag:02X} with {len} fields from the server"
            )));
        }
    };
    if !decoder.is_empty() {
        return Err(BoltError::protocol(format!(
            "{} trailing bytes after a response message",
            decoder.remaining()
        )));
    }
    Ok(response)
}

impl Failure {
    /// The FAILURE metadata a server sends for this failure on `version`: `code` and `message`
    /// before 5.7; from 5.7 on `neo4j_code`, `message` and the GQL fields that are set
    /// (`gql_status`, `description`, `diagnostic_record`, `cause`). Reading it back with
    /// [`Failure::from_metadata`] gives the same failure (minus the GQL fields before 5.7).
    pub fn to_metadata(&self, version: Version) -> Map {
        let mut map = Map::new();
        let gql = version >= Version::V5_7;
        map.insert(if gql { "neo4j_code" } else { "code" }, s(&self.code));
        if let Some(message) = &self.message {
            map.insert("message", s(message));
        }
        if gql {
            if let Some(status) = &self.gql_status {
                map.insert("gql_status", s(status));
            }
            if let Some(description) = &self.description {
                map.insert("description", s(description));
            }
            let mut record = self.diagnostic_record.clone();
            if let Some(classification) = &self.classification {
                if !record.contains_key("_classification") {
                    record.insert("_classification", s(classification));
                }
            }
            if !record.is_empty() {
                map.insert("diagnostic_record", Value::Map(record));
            }
            if let Some(cause) = &self.cause {
                map.insert("cause", Value::Map(cause.to_metadata(version)));
            }
        }
        map
    }
}
