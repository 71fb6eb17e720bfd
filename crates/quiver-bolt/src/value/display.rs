//! `Display` in a Cypher-like literal form, for logs, transcripts and test output.
//!
//! Most forms are valid Cypher expressions that evaluate to the value again (`date('2022-01-08')`,
//! `point({srid: 7203, x: 1.0, y: 2.0})`, `{name: "Ann", tags: ["a"]}`); graph values use
//! pattern syntax (`(:Person {name: "Ann"})-[:KNOWS]->(:Person)`), and the few types without a
//! literal use an obvious function-like form (`bytes(0x0aff)`, `structure(0x01, [...])`).

use std::fmt::{self, Display, Formatter, Write};

use quiver_packstream::PackStr;

use super::{
    Date, DateTime, DateTimeZoneId, Duration, LegacyDateTimeZoneId, LocalDateTime, LocalTime, Map,
    Node, Path, Point2D, Point3D, Relationship, Time, UnboundRelationship, Unsupported, Value,
    Vector,
};

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Float(x) => write_float(f, *x),
            Value::Bytes(bytes) => {
                f.write_str("bytes(0x")?;
                for byte in bytes {
                    write!(f, "{byte:02x}")?;
                }
                f.write_str(")")
            }
            Value::String(s) => write_string(f, s),
            Value::List(items) => write_list(f, items),
            Value::Map(map) => map.fmt(f),
            Value::Node(node) => node.fmt(f),
            Value::Relationship(rel) => rel.fmt(f),
            Value::Path(path) => path.fmt(f),
            Value::Date(d) => d.fmt(f),
            Value::Time(t) => t.fmt(f),
            Value::LocalTime(t) => t.fmt(f),
            Value::DateTime(dt) => dt.fmt(f),
            Value::DateTimeZoneId(dt) => dt.fmt(f),
            Value::LegacyDateTimeZoneId(dt) => dt.fmt(f),
            Value::LocalDateTime(dt) => dt.fmt(f),
            Value::Duration(d) => d.fmt(f),
            Value::Point2D(p) => p.fmt(f),
            Value::Point3D(p) => p.fmt(f),
            Value::Vector(v) => v.fmt(f),
            Value::Unsupported(u) => u.fmt(f),
            Value::Unknown(s) => {
                write!(f, "structure({:#04x}, [", s.tag)?;
                for (i, field) in s.fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    Value::from(field.clone()).fmt(f)?;
                }
                f.write_str("])")
            }
        }
    }
}

fn write_float(f: &mut Formatter<'_>, x: f64) -> fmt::Result {
    Float(x).fmt(f)
}

/// A float the way Cypher prints it: `1.0`, `NaN`, `Infinity`, `-Infinity`.
struct Float<T>(T);

macro_rules! float_display {
    ($($t:ty),*) => {$(
        impl Display for Float<$t> {
            fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
                let x = self.0;
                if x.is_nan() {
                    f.write_str("NaN")
                } else if x.is_infinite() {
                    f.write_str(if x > 0.0 { "Infinity" } else { "-Infinity" })
                } else {
                    // Debug keeps a decimal point (`1.0`), prints the shortest form that
                    // round-trips in the type's own precision, and uses exponents for very
                    // large or small magnitudes.
                    write!(f, "{x:?}")
                }
            }
        }
    )*};
}

float_display!(f32, f64);

fn write_string(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

fn write_list(f: &mut Formatter<'_>, items: &[Value]) -> fmt::Result {
    f.write_char('[')?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        item.fmt(f)?;
    }
    f.write_char(']')
}

/// A map key or label as a Cypher identifier, back-quoted unless it is a plain one.
fn write_name(f: &mut Formatter<'_>, name: &str) -> fmt::Result {
    let mut chars = name.chars();
    let plain = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_');
    if plain {
        f.write_str(name)
    } else {
        write!(f, "`{}`", name.replace('`', "``"))
    }
}

impl Display for Map {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('{')?;
        for (i, (key, value)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write_name(f, key)?;
            f.write_str(": ")?;
            value.fmt(f)?;
        }
        f.write_char('}')
    }
}

fn write_labels_and_properties(
    f: &mut Formatter<'_>,
    labels: &[PackStr],
    properties: &Map,
) -> fmt::Result {
    for label in labels {
        f.write_char(':')?;
        write_name(f, label)?;
    }
    if !properties.is_empty() {
        if !labels.is_empty() {
            f.write_char(' ')?;
        }
        properties.fmt(f)?;
    }
    Ok(())
}

impl Display for Node {
    /// `(:Label {key: value})`
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('(')?;
        write_labels_and_properties(f, &self.labels, &self.properties)?;
        f.write_char(')')
    }
}

impl Display for UnboundRelationship {
    /// `[:TYPE {key: value}]`
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('[')?;
        write_labels_and_properties(f, std::slice::from_ref(&self.rel_type), &self.properties)?;
        f.write_char(']')
    }
}

impl Display for Relationship {
    /// `()-[:TYPE {key: value}]->()`
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("()-[")?;
        write_labels_and_properties(f, std::slice::from_ref(&self.rel_type), &self.properties)?;
        f.write_str("]->()")
    }
}

impl Display for Path {
    /// `(:A)-[:R]->(:B)<-[:S]-(:C)`
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.start() {
            Some(start) => start.fmt(f)?,
            None => f.write_str("()")?,
        }
        for segment in self.segments() {
            if segment.forward {
                write!(f, "-{}->{}", segment.unbound, segment.end)?;
            } else {
                write!(f, "<-{}-{}", segment.unbound, segment.end)?;
            }
        }
        Ok(())
    }
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`), in i128 so no i64 input can overflow.
fn civil_from_days(days: i64) -> (i128, u32, u32) {
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i128::from(month <= 2);
    // month in 1..=12 and day in 1..=31 by construction
    (year, month as u32, day as u32)
}

fn write_date(f: &mut Formatter<'_>, days: i64) -> fmt::Result {
    let (year, month, day) = civil_from_days(days);
    if (0..=9999).contains(&year) {
        write!(f, "{year:04}-{month:02}-{day:02}")
    } else {
        write!(f, "{year:+05}-{month:02}-{day:02}")
    }
}

/// `HH:MM:SS[.fraction]` for a time of day in nanoseconds, which must be within one day.
fn write_time_of_day(f: &mut Formatter<'_>, nanos_of_day: i64) -> fmt::Result {
    let seconds = nanos_of_day / NANOS_PER_SECOND;
    let nanos = nanos_of_day % NANOS_PER_SECOND;
    write!(
        f,
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )?;
    write_fraction(f, nanos)
}

fn write_fraction(f: &mut Formatter<'_>, nanos: i64) -> fmt::Result {
    if nanos == 0 {
        return Ok(());
    }
    let digits = format!("{nanos:09}");
    write!(f, ".{}", digits.trim_end_matches('0'))
}

fn write_offset(f: &mut Formatter<'_>, offset_seconds: i64) -> fmt::Result {
    if offset_seconds == 0 {
        return f.write_char('Z');
    }
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let abs = offset_seconds.unsigned_abs();
    write!(f, "{sign}{:02}:{:02}", abs / 3600, abs / 60 % 60)?;
    if abs % 60 != 0 {
        write!(f, ":{:02}", abs % 60)?;
    }
    Ok(())
}

fn is_time_of_day(nanos: i64) -> bool {
    (0..SECONDS_PER_DAY * NANOS_PER_SECOND).contains(&nanos)
}

fn is_subsecond(nanos: i64) -> bool {
    (0..NANOS_PER_SECOND).contains(&nanos)
}

/// Offsets Neo4j accepts: ±18 hours.
fn is_offset(seconds: i64) -> bool {
    (-64_800..=64_800).contains(&seconds)
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]` for wall-clock seconds since 1970-01-01T00:00.
fn write_local_date_time(f: &mut Formatter<'_>, seconds: i64, nanos: i64) -> fmt::Result {
    write_date(f, seconds.div_euclid(SECONDS_PER_DAY))?;
    f.write_char('T')?;
    write_time_of_day(
        f,
        seconds.rem_euclid(SECONDS_PER_DAY) * NANOS_PER_SECOND + nanos,
    )
}

impl Display for Date {
    /// `date('2022-01-08')`
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("date('")?;
        write_date(f, self.days)?;
        f.write_str("')")
    }
}

impl Display for LocalTime {
    /// `localtime('12:30:00.5')`
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !is_time_of_day(self.nanoseconds) {
            return write!(f, "localtime({{nanoseconds: {}}})", self.nanoseconds);
        }
        f.write_str("localtime('")?;
        write_time_of_day(f, self.nanoseconds)?;
        f.write_str("')")
    }
}

impl Display for Time {
    /// `time('12:30:00+01:00')`
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !is_time_of_day(self.nanoseconds) || !is_offset(self.tz_offset_seconds) {
            return write!(
                f,
                "time({{nanoseconds: {}, offsetSeconds: {}}})",
                self.nanoseconds, self.tz_offset_seconds
            );
        }
        f.write_str("time('")?;
        write_time_of_day(f, self.nanoseconds)?;
        write_offset(f, self.tz_offset_seconds)?;
        f.write_str("')")
    }
}

impl Display for LocalDateTime {
    /// `localdatetime('2022-01-08T12:30:00')`
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !is_subsecond(self.nanoseconds) {
            return write!(
                f,
                "localdatetime({{epochSeconds: {}, nanosecond: {}}})",
                self.seconds, self.nanoseconds
            );
        }
        f.write_str("localdatetime('")?;
        write_local_date_time(f, self.seconds, self.nanoseconds)?;
        f.write_str("')")
    }
}

impl Display for DateTime {
    /// `datetime('1970-01-01T02:15:00.000000042+01:00')` (local time and offset)
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let local = self.seconds.checked_add(self.tz_offset_seconds);
        match local {
            Some(local) if is_subsecond(self.nanoseconds) && is_offset(self.tz_offset_seconds) => {
                f.write_str("datetime('")?;
                write_local_date_time(f, local, self.nanoseconds)?;
                write_offset(f, self.tz_offset_seconds)?;
                f.write_str("')")
            }
            _ => write!(
                f,
                "datetime({{epochSeconds: {}, nanosecond: {}, offsetSeconds: {}}})",
                self.seconds, self.nanoseconds, self.tz_offset_seconds
            ),
        }
    }
}

impl Display for DateTimeZoneId {
    /// `datetime({epochSeconds: 4500, nanosecond: 42, timezone: 'Europe/Paris'})` — the local
    /// time would need a time zone database.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "datetime({{epochSeconds: {}, nanosecond: {}, timezone: ",
            self.seconds, self.nanoseconds
        )?;
        write_string(f, &self.tz_id)?;
        f.write_str("})")
    }
}

impl Display for LegacyDateTimeZoneId {
    /// `datetime('1970-01-01T02:15:00[Europe/Paris]')` (local time and zone)
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !is_subsecond(self.nanoseconds) || self.tz_id.contains(['\'', ']', '\\']) {
            write!(
                f,
                "datetime({{localSeconds: {}, nanosecond: {}, timezone: ",
                self.local_seconds, self.nanoseconds
            )?;
            write_string(f, &self.tz_id)?;
            return f.write_str("})");
        }
        f.write_str("datetime('")?;
        write_local_date_time(f, self.local_seconds, self.nanoseconds)?;
        write!(f, "[{}]')", self.tz_id)
    }
}

impl Display for Duration {
    /// `duration({months: 14, days: -15, seconds: 0, nanoseconds: 5})`
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "duration({{months: {}, days: {}, seconds: {}, nanoseconds: {}}})",
            self.months, self.days, self.seconds, self.nanoseconds
        )
    }
}

impl Display for Point2D {
    /// `point({srid: 7203, x: 1.0, y: 2.0})`
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "point({{srid: {}, x: ", self.srid)?;
        write_float(f, self.x)?;
        f.write_str(", y: ")?;
        write_float(f, self.y)?;
        f.write_str("})")
    }
}

impl Display for Point3D {
    /// `point({srid: 9157, x: 1.0, y: 2.0, z: 3.0})`
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "point({{srid: {}, x: ", self.srid)?;
        write_float(f, self.x)?;
        f.write_str(", y: ")?;
        write_float(f, self.y)?;
        f.write_str(", z: ")?;
        write_float(f, self.z)?;
        f.write_str("})")
    }
}

impl Display for Vector {
    /// `vector([1, 2, 3], 3, INTEGER8)`
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        fn items<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                item.fmt(f)?;
            }
            Ok(())
        }
        f.write_str("vector([")?;
        match self {
            Vector::I8(v) => items(f, v)?,
            Vector::I16(v) => items(f, v)?,
            Vector::I32(v) => items(f, v)?,
            Vector::I64(v) => items(f, v)?,
            Vector::F32(v) => items(f, &v.iter().map(|&x| Float(x)).collect::<Vec<_>>())?,
            Vector::F64(v) => items(f, &v.iter().map(|&x| Float(x)).collect::<Vec<_>>())?,
        }
        write!(f, "], {}, {})", self.len(), self.element_type_name())
    }
}

impl Display for Unsupported {
    /// `unsupported("FLOAT16 VECTOR", 6.1)`
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("unsupported(")?;
        write_string(f, &self.name)?;
        let (major, minor) = self.minimum_protocol_version;
        write!(f, ", {major}.{minor})")
    }
}
