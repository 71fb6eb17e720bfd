//! Message encoding (requests, per version) and decoding (responses).

use std::sync::Arc;

use bytes::{BufMut, Bytes};
use quiver_packstream::{Decoder, encode};

use crate::config::{ConnectionConfig, NotificationFilter};
use crate::error::BoltError;
use crate::record::RawRecord;
use crate::request::{AccessMode, AuthToken, Route, TxExtra};
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
        let key = if version >= Version::V5_5 {
            "notifications_disabled_classifications"
        } else {
            "notifications_disabled_categories"
        };
        map.insert(key, str_list(disabled));
    }
    Ok(())
}

/// The HELLO `extra` map for `version`; `auth` is included only on 4.4/5.0.
pub(crate) fn hello_extra(
    config: &ConnectionConfig,
    auth: &AuthToken,
    version: Version,
) -> Result<Map, BoltError> {
    let mut extra = Map::new();
    extra.insert("user_agent", s(&config.user_agent));
    if version < Version::V5_1 {
        auth_entries(auth, &mut extra);
    }
    if let Some(routing) = &config.routing {
        extra.insert("routing", Value::Map(routing.clone()));
    }
    if version == Version::V4_4 && config.utc_patch {
        extra.insert("patch_bolt", Value::List(vec![s("utc")]));
    }
    notification_entries(&config.notifications, version, &mut extra)?;
    if version >= Version::V5_3 {
        let agent = &config.bolt_agent;
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
    Ok(extra)
}

/// The LOGON auth map.
pub(crate) fn logon_map(auth: &AuthToken) -> Map {
    let mut map = Map::new();
    auth_entries(auth, &mut map);
    map
}

/// The RUN/BEGIN `extra` map.
pub(crate) fn tx_extra(extra: &TxExtra, version: Version) -> Result<Map, BoltError> {
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

/// PULL / DISCARD's map: `n`, and `qid` unless it is −1 (the default).
pub(crate) fn stream_map(n: i64, qid: i64) -> Map {
    let mut map = Map::new();
    map.insert("n", Value::Integer(n));
    if qid != -1 {
        map.insert("qid", Value::Integer(qid));
    }
    map
}

/// ROUTE's three fields (4.4+ form): routing context, bookmarks, `{db, imp_user}`.
pub(crate) fn write_route(
    buf: &mut impl BufMut,
    route: &Route,
    ctx: &ValueContext,
) -> Result<(), BoltError> {
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

/// RUN's three fields.
pub(crate) fn write_run(
    buf: &mut impl BufMut,
    query: &str,
    parameters: &Map,
    extra: &Map,
    ctx: &ValueContext,
) -> Result<(), BoltError> {
    header(buf, tag::RUN, 3)?;
    encode::write_str(buf, query).map_err(enc)?;
    write_map(buf, parameters, ctx)?;
    write_map(buf, extra, ctx)
}

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
