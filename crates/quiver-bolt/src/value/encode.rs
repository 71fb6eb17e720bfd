//! Encoding: [`Value`]s to PackStream bytes for the negotiated Bolt version.

use bytes::BufMut;
use quiver_packstream::encode::{
    write_bool, write_bytes, write_float, write_int, write_list_header, write_map_header,
    write_null, write_str, write_struct_header,
};

use super::{Map, Node, PackStr, Value, ValueContext, ValueError, tag};

/// Encodes `value` for the Bolt version in `ctx`.
///
/// Fails with [`ValueError::NotSendable`] for server-only values (graph values, `Unsupported`)
/// unless the context allows result values ([`ValueContext::with_result_values`], the server
/// role's context),
/// [`ValueError::NotSupportedByVersion`] for values the version cannot carry (a [`Vector`]
/// before 6.0, a zone-id date-time across the legacy/UTC divide), and [`ValueError::Encode`] for
/// sizes PackStream cannot express. On error, `buf` may hold a partial encoding.
///
/// [`Vector`]: super::Vector
pub fn encode_value(
    buf: &mut impl BufMut,
    value: &Value,
    ctx: &ValueContext,
) -> Result<(), ValueError> {
    encode_at(buf, value, ctx)
}

/// Encodes `map` as a PackStream map (e.g. query parameters or message metadata).
pub fn encode_map(buf: &mut impl BufMut, map: &Map, ctx: &ValueContext) -> Result<(), ValueError> {
    write_map_header(buf, map.len())?;
    for (key, value) in map {
        write_str(buf, key)?;
        encode_at(buf, value, ctx)?;
    }
    Ok(())
}

fn encode_at<B: BufMut>(buf: &mut B, value: &Value, ctx: &ValueContext) -> Result<(), ValueError> {
    match value {
        Value::Null => write_null(buf),
        Value::Boolean(b) => write_bool(buf, *b),
        Value::Integer(i) => write_int(buf, *i),
        Value::Float(f) => write_float(buf, *f),
        Value::Bytes(b) => write_bytes(buf, b)?,
        Value::String(s) => write_str(buf, s)?,
        Value::List(items) => {
            write_list_header(buf, items.len())?;
            for item in items {
                encode_at(buf, item, ctx)?;
            }
        }
        Value::Map(map) => encode_map(buf, map, ctx)?,
        Value::Node(_) | Value::Relationship(_) | Value::Path(_) | Value::Unsupported(_)
            if !ctx.result_values() =>
        {
            let what = match value {
                Value::Node(_) => "Node",
                Value::Relationship(_) => "Relationship",
                Value::Path(_) => "Path",
                _ => "Unsupported",
            };
            return Err(ValueError::NotSendable { what });
        }
        Value::Node(node) => encode_node(buf, node, ctx)?,
        Value::Relationship(rel) => {
            let ids = element_ids(
                ctx,
                "a Relationship without its element ids (Bolt 5.0+ needs them)",
                [
                    &rel.element_id,
                    &rel.start_node_element_id,
                    &rel.end_node_element_id,
                ],
            )?;
            write_struct_header(buf, tag::RELATIONSHIP, 5 + ids.len())?;
            write_int(buf, rel.id);
            write_int(buf, rel.start_node_id);
            write_int(buf, rel.end_node_id);
            write_str(buf, &rel.rel_type)?;
            encode_map(buf, &rel.properties, ctx)?;
            for id in ids {
                write_str(buf, id)?;
            }
        }
        Value::Path(path) => {
            write_struct_header(buf, tag::PATH, 3)?;
            write_list_header(buf, path.nodes.len())?;
            for node in &path.nodes {
                encode_node(buf, node, ctx)?;
            }
            write_list_header(buf, path.relationships.len())?;
            for rel in &path.relationships {
                let ids = element_ids(
                    ctx,
                    "an UnboundRelationship without element_id (Bolt 5.0+ needs one)",
                    [&rel.element_id],
                )?;
                write_struct_header(buf, tag::UNBOUND_RELATIONSHIP, 3 + ids.len())?;
                write_int(buf, rel.id);
                write_str(buf, &rel.rel_type)?;
                encode_map(buf, &rel.properties, ctx)?;
                for id in ids {
                    write_str(buf, id)?;
                }
            }
            write_list_header(buf, path.indices.len())?;
            for index in &path.indices {
                write_int(buf, *index);
            }
        }
        Value::Unsupported(unsupported) => {
            if !ctx.bolt6_types() {
                return Err(ValueError::NotSupportedByVersion {
                    what: "an Unsupported value (Bolt 6.0+)",
                    version: ctx.version(),
                });
            }
            write_struct_header(buf, tag::UNSUPPORTED, 4)?;
            write_str(buf, &unsupported.name)?;
            write_int(buf, i64::from(unsupported.minimum_protocol_version.0));
            write_int(buf, i64::from(unsupported.minimum_protocol_version.1));
            encode_map(buf, &unsupported.extra, ctx)?;
        }
        Value::Date(d) => {
            write_struct_header(buf, tag::DATE, 1)?;
            write_int(buf, d.days);
        }
        Value::Time(t) => {
            write_struct_header(buf, tag::TIME, 2)?;
            write_int(buf, t.nanoseconds);
            write_int(buf, t.tz_offset_seconds);
        }
        Value::LocalTime(t) => {
            write_struct_header(buf, tag::LOCAL_TIME, 1)?;
            write_int(buf, t.nanoseconds);
        }
        Value::DateTime(dt) => {
            if ctx.utc_date_times() {
                write_struct_header(buf, tag::DATE_TIME, 3)?;
                write_int(buf, dt.seconds);
            } else {
                let local = dt.seconds.checked_add(dt.tz_offset_seconds).ok_or(
                    ValueError::NotSupportedByVersion {
                        what: "a DateTime whose local time overflows i64 seconds",
                        version: ctx.version(),
                    },
                )?;
                write_struct_header(buf, tag::LEGACY_DATE_TIME, 3)?;
                write_int(buf, local);
            }
            write_int(buf, dt.nanoseconds);
            write_int(buf, dt.tz_offset_seconds);
        }
        Value::DateTimeZoneId(dt) => {
            if !ctx.utc_date_times() {
                // The legacy structure needs local seconds, i.e. the zone's offset at that
                // instant, i.e. a time zone database (feature `chrono-tz`).
                #[cfg(feature = "chrono-tz")]
                {
                    let legacy = dt.to_legacy()?;
                    write_struct_header(buf, tag::LEGACY_DATE_TIME_ZONE_ID, 3)?;
                    write_int(buf, legacy.local_seconds);
                    write_int(buf, legacy.nanoseconds);
                    write_str(buf, &legacy.tz_id)?;
                    return Ok(());
                }
                #[cfg(not(feature = "chrono-tz"))]
                return Err(ValueError::NotSupportedByVersion {
                    what: "a DateTimeZoneId (UTC instant) without the `utc` patch \
                           (enable quiver-bolt's `chrono-tz` feature, or send a \
                           LegacyDateTimeZoneId with local seconds)",
                    version: ctx.version(),
                });
            }
            write_struct_header(buf, tag::DATE_TIME_ZONE_ID, 3)?;
            write_int(buf, dt.seconds);
            write_int(buf, dt.nanoseconds);
            write_str(buf, &dt.tz_id)?;
        }
        Value::LegacyDateTimeZoneId(dt) => {
            if ctx.utc_date_times() {
                return Err(ValueError::NotSupportedByVersion {
                    what: "a LegacyDateTimeZoneId (local seconds) with UTC date-times \
                           (send a DateTimeZoneId instead)",
                    version: ctx.version(),
                });
            }
            write_struct_header(buf, tag::LEGACY_DATE_TIME_ZONE_ID, 3)?;
            write_int(buf, dt.local_seconds);
            write_int(buf, dt.nanoseconds);
            write_str(buf, &dt.tz_id)?;
        }
        Value::LocalDateTime(dt) => {
            write_struct_header(buf, tag::LOCAL_DATE_TIME, 2)?;
            write_int(buf, dt.seconds);
            write_int(buf, dt.nanoseconds);
        }
        Value::Duration(d) => {
            write_struct_header(buf, tag::DURATION, 4)?;
            write_int(buf, d.months);
            write_int(buf, d.days);
            write_int(buf, d.seconds);
            write_int(buf, d.nanoseconds);
        }
        Value::Point2D(p) => {
            write_struct_header(buf, tag::POINT_2D, 3)?;
            write_int(buf, p.srid);
            write_float(buf, p.x);
            write_float(buf, p.y);
        }
        Value::Point3D(p) => {
            write_struct_header(buf, tag::POINT_3D, 4)?;
            write_int(buf, p.srid);
            write_float(buf, p.x);
            write_float(buf, p.y);
            write_float(buf, p.z);
        }
        Value::Vector(v) => {
            if !ctx.bolt6_types() {
                return Err(ValueError::NotSupportedByVersion {
                    what: "a Vector (Bolt 6.0+)",
                    version: ctx.version(),
                });
            }
            write_struct_header(buf, tag::VECTOR, 2)?;
            write_bytes(buf, &[v.type_marker()])?;
            write_bytes(buf, &v.to_be_bytes())?;
        }
        Value::Unknown(s) => {
            write_struct_header(buf, s.tag, s.fields.len())?;
            for field in &s.fields {
                quiver_packstream::encode::encode_value(buf, field)?;
            }
        }
    }
    Ok(())
}

fn encode_node<B: BufMut>(buf: &mut B, node: &Node, ctx: &ValueContext) -> Result<(), ValueError> {
    let ids = element_ids(
        ctx,
        "a Node without element_id (Bolt 5.0+ needs one)",
        [&node.element_id],
    )?;
    write_struct_header(buf, tag::NODE, 3 + ids.len())?;
    write_int(buf, node.id);
    write_list_header(buf, node.labels.len())?;
    for label in &node.labels {
        write_str(buf, label)?;
    }
    encode_map(buf, &node.properties, ctx)?;
    for id in ids {
        write_str(buf, id)?;
    }
    Ok(())
}

/// The element ids a graph value carries on this version: all of them on 5.0+ (where they are
/// mandatory fields), none on 4.x (where the structure has no such fields, so they are dropped).
fn element_ids<'a, const N: usize>(
    ctx: &ValueContext,
    missing: &'static str,
    ids: [&'a Option<PackStr>; N],
) -> Result<Vec<&'a PackStr>, ValueError> {
    if !ctx.element_ids() {
        return Ok(Vec::new());
    }
    ids.iter()
        .map(|id| {
            id.as_ref().ok_or(ValueError::NotSupportedByVersion {
                what: missing,
                version: ctx.version(),
            })
        })
        .collect()
}
