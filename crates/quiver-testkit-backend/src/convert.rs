//! Values, records and summaries between Quiver's types and TestKit's JSON encoding
//! (`nutkit/protocol/cypher.py`: `{"name": "CypherInt", "data": {"value": 1}}`, …).

use chrono_tz::Tz;
use quiver_tokio::value::{ChronoConversionError, Disambiguation};
use quiver_tokio::value::{
    Date, DateTime, DateTimeZoneId, Duration, LocalDateTime, LocalTime, Node, Path, Point2D,
    Point3D, Relationship, Time,
};
use quiver_tokio::{
    Counters, GqlStatusObject, InputPosition, Map, Notification, PackStr, Record, ResultSummary,
    ServerInfo, Value,
};
use serde_json::{Value as Json, json};

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// SRIDs of the four coordinate systems Neo4j knows, and their TestKit names.
const SRID_CARTESIAN: i64 = 7203;
const SRID_CARTESIAN_3D: i64 = 9157;
const SRID_WGS84: i64 = 4326;
const SRID_WGS84_3D: i64 = 4979;

fn cypher(name: &str, value: Json) -> Json {
    json!({ "name": name, "data": { "value": value } })
}

fn float_json(value: f64) -> Json {
    if value.is_nan() {
        json!("NaN")
    } else if value == f64::INFINITY {
        json!("+Infinity")
    } else if value == f64::NEG_INFINITY {
        json!("-Infinity")
    } else {
        json!(value)
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) → days since 1970-01-01.
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Nanoseconds of the day → (hour, minute, second, nanosecond).
fn clock(nanos_of_day: i64) -> (i64, i64, i64, i64) {
    let seconds = nanos_of_day.div_euclid(NANOS_PER_SECOND);
    let nanos = nanos_of_day.rem_euclid(NANOS_PER_SECOND);
    (seconds / 3600, seconds / 60 % 60, seconds % 60, nanos)
}

fn date_time_json(local_seconds: i64, nanos: i64, offset: Option<i64>, zone: Option<&str>) -> Json {
    let days = local_seconds.div_euclid(SECONDS_PER_DAY);
    let second_of_day = local_seconds.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second, nanosecond) = clock(second_of_day * NANOS_PER_SECOND + nanos);
    json!({ "name": "CypherDateTime", "data": {
        "year": year, "month": month, "day": day,
        "hour": hour, "minute": minute, "second": second, "nanosecond": nanosecond,
        "utc_offset_s": offset, "timezone_id": zone,
    }})
}

/// Why a value cannot be told to TestKit.
#[derive(Debug)]
pub(crate) enum JsonError {
    /// The driver cannot convert the value, as a Rust program converting it would find too (a
    /// zone the time-zone database does not know): a `DriverError` for the suite, and the
    /// rest of the result can still be read.
    Conversion(String),
    /// The backend has no TestKit encoding for the value: a `BackendError`.
    Backend(String),
}

impl From<String> for JsonError {
    fn from(why: String) -> JsonError {
        JsonError::Backend(why)
    }
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonError::Conversion(why) | JsonError::Backend(why) => f.write_str(why),
        }
    }
}

/// A zoned date-time as TestKit's wall clock, offset and zone id.
fn zoned_json(
    date_time: Result<chrono::DateTime<Tz>, ChronoConversionError>,
    tz_id: &PackStr,
) -> Result<Json, JsonError> {
    use chrono::Offset;
    let date_time = date_time.map_err(|e| {
        JsonError::Conversion(format!(
            "cannot read the date-time in zone {}: {e}",
            tz_id.as_str()
        ))
    })?;
    let local = date_time.naive_local().and_utc();
    Ok(date_time_json(
        local.timestamp(),
        i64::from(local.timestamp_subsec_nanos()),
        Some(i64::from(date_time.offset().fix().local_minus_utc())),
        Some(tz_id.as_str()),
    ))
}

/// A result value as TestKit JSON. Fails for values TestKit cannot be told about faithfully.
pub(crate) fn value_to_json(value: &Value) -> Result<Json, JsonError> {
    Ok(match value {
        Value::Null => json!({ "name": "CypherNull", "data": { "value": null } }),
        Value::Boolean(b) => cypher("CypherBool", json!(b)),
        Value::Integer(i) => cypher("CypherInt", json!(i)),
        Value::Float(f) => cypher("CypherFloat", float_json(*f)),
        Value::String(s) => cypher("CypherString", json!(s.as_str())),
        Value::Bytes(bytes) => {
            let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
            cypher("CypherBytes", json!(hex.join(" ")))
        }
        Value::List(items) => cypher("CypherList", list_json(items)?),
        Value::Map(map) => cypher("CypherMap", map_json(map)?),
        Value::Node(node) => node_json(node)?,
        Value::Relationship(rel) => relationship_json(rel)?,
        Value::Path(path) => path_json(path)?,
        Value::Date(Date { days }) => {
            let (year, month, day) = civil_from_days(*days);
            json!({ "name": "CypherDate", "data": { "year": year, "month": month, "day": day } })
        }
        Value::Time(Time {
            nanoseconds,
            tz_offset_seconds,
        }) => time_json(*nanoseconds, Some(*tz_offset_seconds)),
        Value::LocalTime(LocalTime { nanoseconds }) => time_json(*nanoseconds, None),
        Value::DateTime(DateTime {
            seconds,
            nanoseconds,
            tz_offset_seconds,
        }) => date_time_json(
            seconds + tz_offset_seconds,
            *nanoseconds,
            Some(*tz_offset_seconds),
            None,
        ),
        Value::LocalDateTime(LocalDateTime {
            seconds,
            nanoseconds,
        }) => date_time_json(*seconds, *nanoseconds, None, None),
        // TestKit wants the wall clock and the offset: the zone's rules (chrono-tz) give them.
        Value::DateTimeZoneId(zoned) => {
            zoned_json(chrono::DateTime::<Tz>::try_from(&**zoned), &zoned.tz_id)?
        }
        // Bolt 4.4 without the `utc` patch: the wall clock is sent, the offset is looked up (an
        // ambiguous local time is read as the server builds one, `Compatible`).
        Value::LegacyDateTimeZoneId(zoned) => {
            zoned_json(zoned.to_chrono(Disambiguation::Compatible), &zoned.tz_id)?
        }
        Value::Duration(Duration {
            months,
            days,
            seconds,
            nanoseconds,
        }) => json!({ "name": "CypherDuration", "data": {
            "months": months, "days": days, "seconds": seconds, "nanoseconds": nanoseconds,
        }}),
        Value::Point2D(Point2D { srid, x, y }) => point_json(*srid, *x, *y, None)?,
        Value::Point3D(Point3D { srid, x, y, z }) => point_json(*srid, *x, *y, Some(*z))?,
        other => {
            return Err(JsonError::Backend(format!(
                "values of type {} have no TestKit encoding in this backend",
                other.type_name()
            )));
        }
    })
}

fn time_json(nanos_of_day: i64, offset: Option<i64>) -> Json {
    let (hour, minute, second, nanosecond) = clock(nanos_of_day);
    json!({ "name": "CypherTime", "data": {
        "hour": hour, "minute": minute, "second": second, "nanosecond": nanosecond,
        "utc_offset_s": offset,
    }})
}

fn point_json(srid: i64, x: f64, y: f64, z: Option<f64>) -> Result<Json, String> {
    let system = match srid {
        SRID_CARTESIAN | SRID_CARTESIAN_3D => "cartesian",
        SRID_WGS84 | SRID_WGS84_3D => "wgs84",
        other => return Err(format!("point with unknown SRID {other}")),
    };
    Ok(json!({ "name": "CypherPoint", "data": {
        "system": system, "x": float_json(x), "y": float_json(y), "z": z.map(float_json),
    }}))
}

fn list_json(items: &[Value]) -> Result<Json, JsonError> {
    items
        .iter()
        .map(value_to_json)
        .collect::<Result<Vec<_>, _>>()
        .map(Json::Array)
}

fn map_json(map: &Map) -> Result<Json, JsonError> {
    let mut object = serde_json::Map::new();
    for (key, value) in map.iter() {
        object.insert(key.as_str().to_owned(), value_to_json(value)?);
    }
    Ok(Json::Object(object))
}

fn node_json(node: &Node) -> Result<Json, JsonError> {
    let labels: Vec<Json> = node
        .labels
        .iter()
        .map(|l| cypher("CypherString", json!(l.as_str())))
        .collect();
    Ok(json!({ "name": "Node", "data": {
        "id": cypher("CypherInt", json!(node.id)),
        "labels": cypher("CypherList", Json::Array(labels)),
        "props": cypher("CypherMap", map_json(&node.properties)?),
        "elementId": cypher("CypherString", json!(node.element_id_or_legacy())),
    }}))
}

fn relationship_json(rel: &Relationship) -> Result<Json, JsonError> {
    Ok(json!({ "name": "Relationship", "data": {
        "id": cypher("CypherInt", json!(rel.id)),
        "startNodeId": cypher("CypherInt", json!(rel.start_node_id)),
        "endNodeId": cypher("CypherInt", json!(rel.end_node_id)),
        "type": cypher("CypherString", json!(rel.rel_type.as_str())),
        "props": cypher("CypherMap", map_json(&rel.properties)?),
        "elementId": cypher("CypherString", json!(rel.element_id_or_legacy())),
        "startNodeElementId": cypher("CypherString", json!(rel.start_node_element_id_or_legacy())),
        "endNodeElementId": cypher("CypherString", json!(rel.end_node_element_id_or_legacy())),
    }}))
}

/// A path as its nodes in travel order and its relationships bound to their nodes.
fn path_json(path: &Path) -> Result<Json, JsonError> {
    path.check()?;
    let mut nodes = Vec::new();
    let mut relationships = Vec::new();
    if let Some(start) = path.start() {
        nodes.push(node_json(start)?);
    }
    for segment in path.segments() {
        relationships.push(relationship_json(&segment.relationship())?);
        nodes.push(node_json(segment.end)?);
    }
    Ok(json!({ "name": "Path", "data": {
        "nodes": cypher("CypherList", Json::Array(nodes)),
        "relationships": cypher("CypherList", Json::Array(relationships)),
    }}))
}

/// A record as `{"values": [...]}`.
pub(crate) fn record_json(record: &Record) -> Result<Json, JsonError> {
    Ok(json!({ "values": list_json(record.values())? }))
}

fn field<'a>(data: &'a Json, key: &str) -> Option<&'a Json> {
    data.get(key).filter(|v| !v.is_null())
}

fn int_field(data: &Json, key: &str) -> Result<i64, String> {
    field(data, key)
        .and_then(Json::as_i64)
        .ok_or_else(|| format!("missing or non-integer field `{key}` in {data}"))
}

fn float_from_json(value: &Json) -> Result<f64, String> {
    match value {
        Json::Number(n) => n.as_f64().ok_or_else(|| format!("bad float {n}")),
        Json::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "+Infinity" | "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            other => other.parse().map_err(|_| format!("bad float {other:?}")),
        },
        other => Err(format!("bad float {other}")),
    }
}

/// A TestKit parameter value (`CypherInt`, `CypherMap`, …) as a Quiver value.
pub(crate) fn value_from_json(json: &Json) -> Result<Value, String> {
    let name = json
        .get("name")
        .and_then(Json::as_str)
        .ok_or_else(|| format!("not a Cypher value: {json}"))?;
    let empty = json!({});
    let data = json.get("data").unwrap_or(&empty);
    let value = data.get("value").unwrap_or(&Json::Null);
    Ok(match name {
        "CypherNull" => Value::Null,
        "CypherBool" => Value::Boolean(value.as_bool().ok_or("CypherBool without a boolean")?),
        "CypherInt" => Value::Integer(value.as_i64().ok_or("CypherInt out of the i64 range")?),
        "CypherFloat" => Value::Float(float_from_json(value)?),
        "CypherString" => Value::String(PackStr::from(
            value.as_str().ok_or("CypherString without a string")?,
        )),
        "CypherBytes" => {
            let text = value.as_str().ok_or("CypherBytes without a string")?;
            let bytes = text
                .split_whitespace()
                .map(|b| u8::from_str_radix(b, 16).map_err(|_| format!("bad byte {b:?}")))
                .collect::<Result<Vec<u8>, _>>()?;
            Value::Bytes(bytes.into())
        }
        "CypherList" => Value::List(
            value
                .as_array()
                .ok_or("CypherList without a list")?
                .iter()
                .map(value_from_json)
                .collect::<Result<_, _>>()?,
        ),
        "CypherMap" => Value::Map(map_from_json(value)?),
        "CypherDate" => Value::Date(Date {
            days: days_from_civil(
                int_field(data, "year")?,
                int_field(data, "month")?,
                int_field(data, "day")?,
            ),
        }),
        "CypherTime" => {
            let nanos = ((int_field(data, "hour")? * 60 + int_field(data, "minute")?) * 60
                + int_field(data, "second")?)
                * NANOS_PER_SECOND
                + int_field(data, "nanosecond")?;
            match field(data, "utc_offset_s").and_then(Json::as_i64) {
                Some(offset) => Value::Time(Time {
                    nanoseconds: nanos,
                    tz_offset_seconds: offset,
                }),
                None => Value::LocalTime(LocalTime { nanoseconds: nanos }),
            }
        }
        "CypherDateTime" => {
            let days = days_from_civil(
                int_field(data, "year")?,
                int_field(data, "month")?,
                int_field(data, "day")?,
            );
            let local = days * SECONDS_PER_DAY
                + (int_field(data, "hour")? * 60 + int_field(data, "minute")?) * 60
                + int_field(data, "second")?;
            let nanoseconds = int_field(data, "nanosecond")?;
            let offset = field(data, "utc_offset_s").and_then(Json::as_i64);
            let zone = field(data, "timezone_id").and_then(Json::as_str);
            match (offset, zone) {
                (Some(offset), Some(zone)) => Value::DateTimeZoneId(Box::new(DateTimeZoneId {
                    seconds: local - offset,
                    nanoseconds,
                    tz_id: PackStr::from(zone),
                })),
                (Some(offset), None) => Value::DateTime(DateTime {
                    seconds: local - offset,
                    nanoseconds,
                    tz_offset_seconds: offset,
                }),
                (None, None) => Value::LocalDateTime(LocalDateTime {
                    seconds: local,
                    nanoseconds,
                }),
                (None, Some(_)) => return Err("timezone_id without utc_offset_s".into()),
            }
        }
        "CypherDuration" => Value::Duration(Duration {
            months: int_field(data, "months")?,
            days: int_field(data, "days")?,
            seconds: int_field(data, "seconds")?,
            nanoseconds: int_field(data, "nanoseconds")?,
        }),
        "CypherPoint" => {
            let system = field(data, "system").and_then(Json::as_str).unwrap_or("");
            let coordinate = |key: &str| -> Result<f64, String> {
                float_from_json(field(data, key).ok_or_else(|| format!("point without {key}"))?)
            };
            let (x, y) = (coordinate("x")?, coordinate("y")?);
            match (system, field(data, "z")) {
                ("cartesian", None) => Value::Point2D(Point2D {
                    srid: SRID_CARTESIAN,
                    x,
                    y,
                }),
                ("wgs84", None) => Value::Point2D(Point2D {
                    srid: SRID_WGS84,
                    x,
                    y,
                }),
                ("cartesian", Some(z)) => Value::Point3D(Point3D {
                    srid: SRID_CARTESIAN_3D,
                    x,
                    y,
                    z: float_from_json(z)?,
                }),
                ("wgs84", Some(z)) => Value::Point3D(Point3D {
                    srid: SRID_WGS84_3D,
                    x,
                    y,
                    z: float_from_json(z)?,
                }),
                (other, _) => return Err(format!("unknown point system {other:?}")),
            }
        }
        other => return Err(format!("{other} cannot be sent as a parameter")),
    })
}

/// A JSON object of TestKit values as a Quiver map (parameters, metadata).
pub(crate) fn map_from_json(json: &Json) -> Result<Map, String> {
    match json {
        Json::Null => Ok(Map::new()),
        Json::Object(object) => object
            .iter()
            .map(|(k, v)| value_from_json(v).map(|v| (k.as_str(), v)))
            .collect(),
        other => Err(format!("expected a map of Cypher values, got {other}")),
    }
}

/// Plain JSON as a Quiver value (auth token parameters come this way); objects that are
/// TestKit Cypher values are decoded as such.
pub(crate) fn value_from_plain_json(json: &Json) -> Result<Value, String> {
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Float(n.as_f64().ok_or_else(|| format!("bad number {n}"))?),
        },
        Json::String(s) => Value::String(PackStr::from(s.as_str())),
        Json::Array(items) => Value::List(
            items
                .iter()
                .map(value_from_plain_json)
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(object) => {
            let is_cypher = object
                .get("name")
                .and_then(Json::as_str)
                .is_some_and(|name| name.starts_with("Cypher"))
                && object.contains_key("data");
            if is_cypher {
                return value_from_json(json);
            }
            Value::Map(
                object
                    .iter()
                    .map(|(k, v)| value_from_plain_json(v).map(|v| (k.as_str(), v)))
                    .collect::<Result<_, _>>()?,
            )
        }
    })
}

/// A Quiver value as plain JSON (no `Cypher*` wrappers), as TestKit wants notifications, plans
/// and profiles. Values without a plain JSON form become their display text.
pub(crate) fn plain_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => json!(b),
        Value::Integer(i) => json!(i),
        Value::Float(f) => float_json(*f),
        Value::String(s) => json!(s.as_str()),
        Value::List(items) => Json::Array(items.iter().map(plain_json).collect()),
        Value::Map(map) => plain_map(map),
        other => json!(other.to_string()),
    }
}

/// A Quiver map as a plain JSON object.
pub(crate) fn plain_map(map: &Map) -> Json {
    Json::Object(
        map.iter()
            .map(|(k, v)| (k.as_str().to_owned(), plain_json(v)))
            .collect(),
    )
}

/// `ServerInfo` data.
pub(crate) fn server_info_json(info: &ServerInfo) -> Json {
    json!({
        "address": info.address,
        "agent": info.agent,
        "protocolVersion": format!("{}.{}", info.protocol_version.0, info.protocol_version.1),
    })
}

fn counters_json(c: &Counters) -> Json {
    json!({
        "constraintsAdded": c.constraints_added,
        "constraintsRemoved": c.constraints_removed,
        "containsSystemUpdates": c.contains_system_updates,
        "containsUpdates": c.contains_updates,
        "indexesAdded": c.indexes_added,
        "indexesRemoved": c.indexes_removed,
        "labelsAdded": c.labels_added,
        "labelsRemoved": c.labels_removed,
        "nodesCreated": c.nodes_created,
        "nodesDeleted": c.nodes_deleted,
        "propertiesSet": c.properties_set,
        "relationshipsCreated": c.relationships_created,
        "relationshipsDeleted": c.relationships_deleted,
        "systemUpdates": c.system_updates,
    })
}

fn position_json(position: &InputPosition) -> Json {
    json!({"column": position.column, "offset": position.offset, "line": position.line})
}

/// A notification as TestKit's full notification (`Feature:API:Driver:NotificationsConfig`).
fn notification_json(notification: &Notification) -> Json {
    let mut json = json!({
        "title": notification.title,
        "code": notification.code,
        "description": notification.description,
        "severityLevel": notification.severity_level.as_str(),
        "category": notification.category.as_str(),
        "severity": notification.raw_severity_level,
        "rawCategory": notification.raw_category,
        "rawSeverityLevel": notification.raw_severity_level,
    });
    if let Some(position) = &notification.position {
        json["position"] = position_json(position);
    }
    json
}

/// A GQL status object: plain JSON, except for the Cypher-typed diagnostic record.
fn gql_status_object_json(status: &GqlStatusObject) -> Result<Json, JsonError> {
    Ok(json!({
        "isNotification": status.is_notification,
        "gqlStatus": status.gql_status,
        "statusDescription": status.status_description,
        "rawClassification": status.raw_classification,
        "classification": status.classification.as_str(),
        "rawSeverity": status.raw_severity,
        "severity": status.severity.as_str(),
        "diagnosticRecord": status
            .diagnostic_record
            .iter()
            .map(|(k, v)| Ok((k.as_str().to_owned(), value_to_json(v)?)))
            .collect::<Result<serde_json::Map<_, _>, JsonError>>()?,
        "position": status.position.as_ref().map(position_json),
    }))
}

/// `Summary` data.
pub(crate) fn summary_json(summary: &ResultSummary) -> Result<Json, JsonError> {
    use quiver_tokio::QueryType;
    let query_type = summary.query_type.map(|t| match t {
        QueryType::ReadOnly => "r",
        QueryType::ReadWrite => "rw",
        QueryType::WriteOnly => "w",
        QueryType::SchemaWrite => "s",
        _ => "unknown",
    });
    // As the Python driver's backend: no notifications is `null` before Bolt 5.5 and `[]` on
    // GQL-aware servers.
    let notifications = match summary.notifications() {
        Some(list) => Json::Array(list.iter().map(notification_json).collect()),
        None if summary.server.protocol_version >= (5, 5) => json!([]),
        None => Json::Null,
    };
    let gql_status_objects: Vec<Json> = summary
        .gql_status_objects()
        .iter()
        .map(gql_status_object_json)
        .collect::<Result<_, _>>()?;
    let millis = |d: Option<std::time::Duration>| d.map(|d| d.as_millis() as u64);
    Ok(json!({
        "serverInfo": server_info_json(&summary.server),
        "counters": counters_json(&summary.counters),
        "database": summary.database,
        "notifications": notifications,
        "gqlStatusObjects": gql_status_objects,
        "plan": summary.plan.as_ref().map(plain_map),
        "profile": summary.profile.as_ref().map(plain_map),
        "query": {
            "text": summary.query,
            "parameters": map_json(&summary.parameters)?,
        },
        "queryType": query_type,
        "resultAvailableAfter": millis(summary.result_available_after),
        "resultConsumedAfter": millis(summary.result_consumed_after),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        for days in [-800_000, -719_468, -1, 0, 59, 60, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn parameters_decode_from_testkit_json() {
        let json = json!({"name": "CypherMap", "data": {"value": {
            "i": {"name": "CypherInt", "data": {"value": -5}},
            "f": {"name": "CypherFloat", "data": {"value": "-Infinity"}},
            "b": {"name": "CypherBytes", "data": {"value": "ff 00 7a"}},
            "l": {"name": "CypherList", "data": {"value": [
                {"name": "CypherNull", "data": {"value": null}},
                {"name": "CypherString", "data": {"value": "x"}}
            ]}},
            "d": {"name": "CypherDateTime", "data": {"year": 2022, "month": 3, "day": 4,
                "hour": 5, "minute": 6, "second": 7, "nanosecond": 8,
                "utc_offset_s": 3600, "timezone_id": null}}
        }}});
        let Value::Map(map) = value_from_json(&json).unwrap() else {
            panic!("not a map")
        };
        assert_eq!(map.get("i"), Some(&Value::Integer(-5)));
        assert_eq!(map.get("f"), Some(&Value::Float(f64::NEG_INFINITY)));
        assert_eq!(
            map.get("b"),
            Some(&Value::Bytes(vec![0xff, 0x00, 0x7a].into()))
        );
        let Some(Value::DateTime(dt)) = map.get("d") else {
            panic!("not a date-time")
        };
        assert_eq!(dt.tz_offset_seconds, 3600);
        // Back out: the same wall clock and offset.
        let out = value_to_json(&Value::DateTime(*dt)).unwrap();
        assert_eq!(out["data"]["hour"], 5);
        assert_eq!(out["data"]["day"], 4);
        assert_eq!(out["data"]["utc_offset_s"], 3600);
        assert!(value_from_json(&json!({"name": "Node", "data": {}})).is_err());
        let plain = value_from_plain_json(&json!({"a": true, "b": [1, 2.5, "x"],
            "c": {"name": "CypherInt", "data": {"value": 7}}}))
        .unwrap();
        let Value::Map(plain) = plain else {
            panic!("not a map")
        };
        assert_eq!(plain.get("a"), Some(&Value::Boolean(true)));
        assert_eq!(plain.get("c"), Some(&Value::Integer(7)));
    }

    #[test]
    fn values_encode_for_testkit() {
        assert_eq!(
            value_to_json(&Value::Float(f64::NAN)).unwrap(),
            json!({"name": "CypherFloat", "data": {"value": "NaN"}})
        );
        assert_eq!(
            value_to_json(&Value::Bytes(vec![1, 0xab].into())).unwrap()["data"]["value"],
            "01 ab"
        );
        let t = value_to_json(&Value::LocalTime(LocalTime {
            nanoseconds: (13 * 3600 + 14 * 60 + 15) * NANOS_PER_SECOND + 16,
        }))
        .unwrap();
        assert_eq!(
            t["data"],
            json!({"hour": 13, "minute": 14, "second": 15, "nanosecond": 16, "utc_offset_s": null})
        );
    }

    #[test]
    fn zoned_date_times_show_wall_clock_offset_and_zone() {
        let expected = json!({"year": 2022, "month": 6, "day": 7, "hour": 11, "minute": 52,
            "second": 5, "nanosecond": 0, "utc_offset_s": 7200, "timezone_id": "Europe/Stockholm"});
        // What the suite sends for TestKit's echo test, through both wire forms.
        let sent =
            value_from_json(&json!({"name": "CypherDateTime", "data": expected.clone()})).unwrap();
        let Value::DateTimeZoneId(zoned) = &sent else {
            panic!("{sent:?}")
        };
        assert_eq!(zoned.seconds, 1_654_595_525);
        assert_eq!(value_to_json(&sent).unwrap()["data"], expected);
        let legacy = Value::LegacyDateTimeZoneId(Box::new(zoned.to_legacy().unwrap()));
        assert_eq!(value_to_json(&legacy).unwrap()["data"], expected);
        // Winter in the same zone: the offset follows the zone's rules.
        let winter = Value::DateTimeZoneId(Box::new(DateTimeZoneId {
            seconds: 0,
            nanoseconds: 1,
            tz_id: PackStr::from("Europe/Stockholm"),
        }));
        let data = &value_to_json(&winter).unwrap()["data"];
        assert_eq!(
            (&data["hour"], &data["utc_offset_s"]),
            (&json!(1), &json!(3600))
        );
        assert_eq!(data["nanosecond"], 1);
    }

    #[test]
    fn unknown_zones_are_driver_conversion_errors() {
        let unknown = Value::List(vec![Value::DateTimeZoneId(Box::new(DateTimeZoneId {
            seconds: 0,
            nanoseconds: 0,
            tz_id: PackStr::from("Europe/Neo4j"),
        }))]);
        match value_to_json(&unknown) {
            Err(JsonError::Conversion(why)) => assert!(why.contains("Europe/Neo4j"), "{why}"),
            other => panic!("{other:?}"),
        }
        let shared = crate::errors::Shared::default();
        let answer = shared.json_error(value_to_json(&unknown).unwrap_err());
        assert_eq!(answer["name"], "DriverError");
        assert_eq!(answer["data"]["errorType"], "Conversion");
    }
}
