//! Values in scripts: what a `S:` line sends ([`Val`]) and what a `C:` line accepts ([`Pat`]),
//! from the script's JSON with TestKit's JOLT sigils (`{"Z": "1"}`, `{"T": "…"}`, `{"()": …}` …)
//! and wildcards (`"*"`, `{"Z": "*"}`, optional keys `"[key]"`, order-free lists `"key{}"`).

use std::fmt::{self, Write as _};

use bytes::Bytes;
use quiver_packstream::{Map as PMap, Structure, Value as P};

use crate::json::Json;

/// How structures are written on the negotiated version: element ids from Bolt 5.0, UTC
/// date-times from 5.0 (and 4.4 with the `utc` patch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flavor {
    pub(crate) element_ids: bool,
    pub(crate) utc: bool,
}

/// A concrete value (server lines; exact parts of client lines).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Bytes(Vec<u8>),
    Str(String),
    List(Vec<Val>),
    Map(Vec<(String, Val)>),
    /// A date-time with an offset, optionally in a named zone: written as UTC or local seconds
    /// depending on the [`Flavor`].
    DateTime {
        local_seconds: i64,
        nanos: i64,
        offset: i64,
        zone: Option<String>,
    },
    Node {
        id: i64,
        labels: Vec<String>,
        props: Vec<(String, Val)>,
        element_id: Option<String>,
    },
    Relationship {
        id: i64,
        start: i64,
        rel_type: String,
        end: i64,
        props: Vec<(String, Val)>,
        element_ids: Option<[String; 3]>,
    },
    /// Any other structure, fields as given (dates, times, durations, points).
    Struct(u8, Vec<Val>),
    /// Written with a versioned sigil (`{"Tv2": …}`): encoded as that JOLT version says.
    Forced(Box<Val>, Flavor),
}

/// The types a JOLT wildcard such as `{"Z": "*"}` stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    List,
    Map,
    Temporal,
    Point,
    Node,
    Relationship,
    Path,
}

/// What a client line's field accepts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pat {
    /// `"*"`: anything.
    Any,
    /// A JOLT wildcard: any value of that kind.
    AnyOf(Kind),
    Exact(Val),
    List(Vec<Pat>),
    Map(Vec<KeyPat>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeyPat {
    key: String,
    /// `"[key]"`: may be absent.
    optional: bool,
    /// `"key{}"`: a list compared without regard to order.
    unordered: bool,
    pat: Pat,
}

type Res<T> = Result<T, String>;

const SIGILS: [&str; 13] = [
    "?", "Z", "R", "U", "#", "[]", "{}", "T", "@", "()", "->", "<-", "..",
];

/// The sigil of a one-entry object whose key is one (`{"Z": "1"}`), and the JOLT version
/// forced by a `v1` / `v2` suffix (`{"Tv2": "…"}`: a UTC date-time even on Bolt 4.4).
fn sigil(json: &Json) -> Option<(&str, Option<Flavor>, &Json)> {
    match json {
        Json::Object(entries) if entries.len() == 1 => {
            let (key, value) = &entries[0];
            let key = key.as_str();
            if SIGILS.contains(&key) {
                return Some((key, None, value));
            }
            let (base, forced) = if let Some(base) = key.strip_suffix("v1") {
                (
                    base,
                    Flavor {
                        element_ids: false,
                        utc: false,
                    },
                )
            } else {
                (
                    key.strip_suffix("v2")?,
                    Flavor {
                        element_ids: true,
                        utc: true,
                    },
                )
            };
            SIGILS
                .contains(&base)
                .then_some((base, Some(forced), value))
        }
        _ => None,
    }
}

/// A value written with a versioned sigil keeps that version's encoding.
fn forced(value: Val, flavor: Option<Flavor>) -> Val {
    match flavor {
        Some(flavor) => Val::Forced(Box::new(value), flavor),
        None => value,
    }
}

/// A server line's field.
pub(crate) fn to_val(json: &Json) -> Res<Val> {
    if let Some((sigil, flavor, inner)) = sigil(json) {
        return Ok(forced(typed(sigil, inner, &mut |j| to_val(j))?, flavor));
    }
    Ok(match json {
        Json::Null => Val::Null,
        Json::Bool(b) => Val::Bool(*b),
        Json::Int(i) => Val::Int(*i),
        Json::Float(f) => Val::Float(*f),
        Json::Str(s) => Val::Str(s.clone()),
        Json::List(items) => Val::List(items.iter().map(to_val).collect::<Res<_>>()?),
        Json::Object(entries) => Val::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), to_val(v)?)))
                .collect::<Res<_>>()?,
        ),
    })
}

/// A client line's field.
pub(crate) fn to_pat(json: &Json) -> Res<Pat> {
    if let Some((sigil, flavor, inner)) = sigil(json) {
        if inner == &Json::Str("*".into()) {
            return Ok(Pat::AnyOf(match sigil {
                "?" => Kind::Bool,
                "Z" => Kind::Int,
                "R" => Kind::Float,
                "U" => Kind::Str,
                "#" => Kind::Bytes,
                "[]" => Kind::List,
                "{}" => Kind::Map,
                "T" => Kind::Temporal,
                "@" => Kind::Point,
                "()" => Kind::Node,
                "->" | "<-" => Kind::Relationship,
                _ => Kind::Path,
            }));
        }
        return match sigil {
            // Containers keep wildcards inside.
            "[]" => match inner {
                Json::List(items) => Ok(Pat::List(items.iter().map(to_pat).collect::<Res<_>>()?)),
                _ => Err("`[]` takes a list".into()),
            },
            "{}" => match inner {
                Json::Object(_) => map_pat(inner),
                _ => Err("`{}` takes an object".into()),
            },
            _ => Ok(Pat::Exact(forced(
                typed(sigil, inner, &mut |j| to_val(j))?,
                flavor,
            ))),
        };
    }
    match json {
        Json::Str(s) if s == "*" => Ok(Pat::Any),
        Json::Str(s) => Ok(Pat::Exact(Val::Str(unescape_star(s)))),
        Json::List(items) => Ok(Pat::List(items.iter().map(to_pat).collect::<Res<_>>()?)),
        Json::Object(_) => map_pat(json),
        other => Ok(Pat::Exact(to_val(other)?)),
    }
}

/// `\*` is a literal star and `\\` a backslash in client lines' strings.
fn unescape_star(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && matches!(chars.peek(), Some('*' | '\\')) {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

/// Unescapes `\[`, `\]`, `\{`, `\}` and `\\` in a map key.
fn unescape_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && matches!(chars.peek(), Some('[' | ']' | '{' | '}' | '\\')) {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

fn map_pat(json: &Json) -> Res<Pat> {
    let Json::Object(entries) = json else {
        return Err("expected an object".into());
    };
    let mut keys = Vec::new();
    for (raw, value) in entries {
        // An escaped bracket or brace is part of the key.
        let optional = raw.starts_with('[') && raw.ends_with(']') && !raw.ends_with("\\]");
        let unordered = raw.ends_with("{}") && !raw.ends_with("\\{}") && !raw.ends_with("\\}");
        let mut key = raw.as_str();
        if optional {
            key = &key[1..key.len() - 1];
        }
        if key.ends_with("{}") && unordered {
            key = &key[..key.len() - 2];
        }
        keys.push(KeyPat {
            key: unescape_key(key),
            optional,
            unordered,
            pat: to_pat(value)?,
        });
    }
    Ok(Pat::Map(keys))
}

fn str_of<'a>(sigil: &str, json: &'a Json) -> Res<&'a str> {
    match json {
        Json::Str(s) => Ok(s),
        _ => Err(format!("`{sigil}` takes a string")),
    }
}

fn typed(sigil: &str, inner: &Json, item: &mut dyn FnMut(&Json) -> Res<Val>) -> Res<Val> {
    Ok(match sigil {
        "?" => match inner {
            Json::Bool(b) => Val::Bool(*b),
            _ => return Err("`?` takes true or false".into()),
        },
        "Z" => match inner {
            Json::Int(i) => Val::Int(*i),
            Json::Str(s) => Val::Int(
                s.trim()
                    .parse()
                    .map_err(|_| format!("`{s}` is not an integer"))?,
            ),
            _ => return Err("`Z` takes an integer as a string".into()),
        },
        "R" => match inner {
            Json::Float(f) => Val::Float(*f),
            Json::Int(i) => Val::Float(*i as f64),
            Json::Str(s) => Val::Float(parse_float(s)?),
            _ => return Err("`R` takes a float as a string".into()),
        },
        "U" => Val::Str(str_of(sigil, inner)?.to_owned()),
        "#" => Val::Bytes(parse_hex(str_of(sigil, inner)?)?),
        "[]" => match inner {
            Json::List(items) => Val::List(items.iter().map(&mut *item).collect::<Res<_>>()?),
            _ => return Err("`[]` takes a list".into()),
        },
        "{}" => match inner {
            Json::Object(entries) => Val::Map(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), item(v)?)))
                    .collect::<Res<_>>()?,
            ),
            _ => return Err("`{}` takes an object".into()),
        },
        "T" => temporal(str_of(sigil, inner)?)?,
        "@" => point(str_of(sigil, inner)?)?,
        "()" => node(inner, item)?,
        "->" | "<-" => relationship(sigil, inner, item)?,
        _ => return Err(format!("the `{sigil}` sigil (paths) is not supported")),
    })
}

fn parse_float(s: &str) -> Res<f64> {
    match s.trim() {
        "NaN" | "nan" => Ok(f64::NAN),
        "inf" | "+inf" | "Infinity" => Ok(f64::INFINITY),
        "-inf" | "-Infinity" => Ok(f64::NEG_INFINITY),
        t => t.parse().map_err(|_| format!("`{s}` is not a float")),
    }
}

fn parse_hex(s: &str) -> Res<Vec<u8>> {
    let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !digits.is_ascii() || digits.len() % 2 != 0 {
        return Err(format!("`{s}`: hex bytes come in pairs of digits"));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).map_err(|_| format!("`{s}` is not hex")))
        .collect()
}

fn int_of(json: &Json, what: &str) -> Res<i64> {
    match json {
        Json::Int(i) => Ok(*i),
        _ => Err(format!("{what} must be an integer")),
    }
}

fn props_of(json: &Json, item: &mut dyn FnMut(&Json) -> Res<Val>) -> Res<Vec<(String, Val)>> {
    match json {
        Json::Object(entries) => entries
            .iter()
            .map(|(k, v)| Ok((k.clone(), item(v)?)))
            .collect(),
        _ => Err("properties must be an object".into()),
    }
}

fn string_of(json: &Json, what: &str) -> Res<String> {
    match json {
        Json::Str(s) => Ok(s.clone()),
        _ => Err(format!("{what} must be a string")),
    }
}

fn node(inner: &Json, item: &mut dyn FnMut(&Json) -> Res<Val>) -> Res<Val> {
    let Json::List(fields) = inner else {
        return Err("`()` takes [id, labels, properties(, element id)]".into());
    };
    if !(3..=4).contains(&fields.len()) {
        return Err("`()` takes [id, labels, properties(, element id)]".into());
    }
    let labels = match &fields[1] {
        Json::List(labels) => labels
            .iter()
            .map(|l| string_of(l, "a label"))
            .collect::<Res<_>>()?,
        _ => return Err("node labels must be a list".into()),
    };
    Ok(Val::Node {
        id: int_of(&fields[0], "a node id")?,
        labels,
        props: props_of(&fields[2], item)?,
        element_id: fields
            .get(3)
            .map(|e| string_of(e, "an element id"))
            .transpose()?,
    })
}

fn relationship(sigil: &str, inner: &Json, item: &mut dyn FnMut(&Json) -> Res<Val>) -> Res<Val> {
    let usage = format!(
        "`{sigil}` takes [id, start id, type, end id, properties(, element id, start element id, end element id)]"
    );
    let Json::List(f) = inner else {
        return Err(usage);
    };
    if f.len() != 5 && f.len() != 8 {
        return Err(usage);
    }
    let (mut start, mut end) = (int_of(&f[1], "a start id")?, int_of(&f[3], "an end id")?);
    let mut element_ids = if f.len() == 8 {
        Some([
            string_of(&f[5], "an element id")?,
            string_of(&f[6], "an element id")?,
            string_of(&f[7], "an element id")?,
        ])
    } else {
        None
    };
    if sigil == "<-" {
        std::mem::swap(&mut start, &mut end);
        if let Some(ids) = &mut element_ids {
            ids.swap(1, 2);
        }
    }
    Ok(Val::Relationship {
        id: int_of(&f[0], "a relationship id")?,
        start,
        rel_type: string_of(&f[2], "a relationship type")?,
        end,
        props: props_of(&f[4], item)?,
        element_ids,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn num(s: &str, what: &str) -> Res<i64> {
    s.parse().map_err(|_| format!("`{s}`: bad {what}"))
}

fn date_days(s: &str) -> Res<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let parts: Vec<&str> = body.split('-').collect();
    if parts.is_empty() || parts.len() > 3 {
        return Err(format!("`{s}` is not a date (YYYY-MM-DD)"));
    }
    let mut year = num(parts[0], "year")?;
    if year > 999_999_999 {
        return Err(format!("`{s}`: the year is out of range"));
    }
    if neg {
        year = -year;
    }
    let month = parts
        .get(1)
        .map(|m| num(m, "month"))
        .transpose()?
        .unwrap_or(1);
    let day = parts
        .get(2)
        .map(|d| num(d, "day"))
        .transpose()?
        .unwrap_or(1);
    Ok(days_from_civil(year, month, day))
}

/// `HH:MM(:SS(.fffffffff))` as nanoseconds of the day.
fn time_nanos(s: &str) -> Res<i64> {
    let (hms, frac) = match s.split_once('.') {
        Some((hms, frac)) => (hms, frac),
        None => (s, ""),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 || frac.len() > 9 {
        return Err(format!("`{s}` is not a time (HH:MM:SS.fff)"));
    }
    let h = num(parts[0], "hour")?;
    let m = num(parts[1], "minute")?;
    let sec = parts
        .get(2)
        .map(|x| num(x, "second"))
        .transpose()?
        .unwrap_or(0);
    if !(0..=24).contains(&h) || !(0..60).contains(&m) || !(0..=60).contains(&sec) {
        return Err(format!("`{s}` is not a time of day"));
    }
    let nanos = if frac.is_empty() {
        0
    } else {
        num(frac, "fraction")? * 10i64.pow(9 - frac.len() as u32)
    };
    Ok(((h * 60 + m) * 60 + sec) * 1_000_000_000 + nanos)
}

/// Splits a time's offset (`Z`, `+02:00`, `-0130`) off; seconds east of UTC.
fn split_offset(s: &str) -> Res<(&str, Option<i64>)> {
    if let Some(t) = s.strip_suffix('Z') {
        return Ok((t, Some(0)));
    }
    if let Some(at) = s.rfind(['+', '-']) {
        let (t, off) = s.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
        if !digits.is_ascii() || (digits.len() != 4 && digits.len() != 6 && digits.len() != 2) {
            return Err(format!("`{off}` is not a UTC offset"));
        }
        let h = num(&digits[..2], "offset")?;
        let m = digits
            .get(2..4)
            .map(|x| num(x, "offset"))
            .transpose()?
            .unwrap_or(0);
        let sec = digits
            .get(4..6)
            .map(|x| num(x, "offset"))
            .transpose()?
            .unwrap_or(0);
        return Ok((t, Some(sign * (h * 3600 + m * 60 + sec))));
    }
    Ok((s, None))
}

fn temporal(s: &str) -> Res<Val> {
    if s.starts_with('P') {
        return duration(s);
    }
    const NANOS: i64 = 1_000_000_000;
    match s.split_once('T') {
        None if s.contains(':') => {
            let (t, offset) = split_offset(s)?;
            let nanos = time_nanos(t)?;
            Ok(match offset {
                Some(offset) => Val::Struct(b'T', vec![Val::Int(nanos), Val::Int(offset)]),
                None => Val::Struct(b't', vec![Val::Int(nanos)]),
            })
        }
        None => Ok(Val::Struct(b'D', vec![Val::Int(date_days(s)?)])),
        Some((date, rest)) => {
            let days = date_days(date)?;
            let (rest, zone) = match rest.split_once('[') {
                Some((r, zone)) => (r, Some(zone.trim_end_matches(']').to_owned())),
                None => (rest, None),
            };
            let (t, offset) = split_offset(rest)?;
            let nanos_of_day = time_nanos(t)?;
            let local_seconds = days * 86_400 + nanos_of_day / NANOS;
            let nanos = nanos_of_day % NANOS;
            match (offset, zone) {
                (None, None) => Ok(Val::Struct(
                    b'd',
                    vec![Val::Int(local_seconds), Val::Int(nanos)],
                )),
                (Some(offset), zone) => Ok(Val::DateTime {
                    local_seconds,
                    nanos,
                    offset,
                    zone,
                }),
                (None, Some(_)) => Err(format!(
                    "`{s}`: a date-time in a named zone needs its offset too (…+02:00[Europe/Berlin])"
                )),
            }
        }
    }
}

fn duration(s: &str) -> Res<Val> {
    let bad = || format!("`{s}` is not an ISO-8601 duration (P1Y2M3DT4H5M6.5S)");
    let body = s.strip_prefix('P').ok_or_else(bad)?;
    let (date, time) = body.split_once('T').unwrap_or((body, ""));
    let (mut months, mut days, mut seconds, mut nanos) = (0i64, 0i64, 0i64, 0i64);
    let mut number = String::new();
    for c in date.chars() {
        match c {
            'Y' | 'M' | 'W' | 'D' => {
                let n: i64 = number.parse().map_err(|_| bad())?;
                number.clear();
                match c {
                    'Y' => months = months.saturating_add(n.saturating_mul(12)),
                    'M' => months = months.saturating_add(n),
                    'W' => days = days.saturating_add(n.saturating_mul(7)),
                    _ => days = days.saturating_add(n),
                }
            }
            _ => number.push(c),
        }
    }
    for c in time.chars() {
        match c {
            'H' | 'M' => {
                let n: i64 = number.parse().map_err(|_| bad())?;
                number.clear();
                seconds =
                    seconds.saturating_add(n.saturating_mul(if c == 'H' { 3600 } else { 60 }));
            }
            'S' => {
                let (whole, frac) = number.split_once('.').unwrap_or((&number, ""));
                let negative = whole.starts_with('-');
                seconds = seconds.saturating_add(whole.parse::<i64>().map_err(|_| bad())?);
                if !frac.is_empty() {
                    if frac.len() > 9 {
                        return Err(bad());
                    }
                    let f: i64 = frac.parse().map_err(|_| bad())?;
                    let f = f * 10i64.pow(9 - frac.len() as u32);
                    nanos += if negative { -f } else { f };
                }
                number.clear();
            }
            _ => number.push(c),
        }
    }
    if !number.is_empty() {
        return Err(bad());
    }
    Ok(Val::Struct(
        b'E',
        vec![
            Val::Int(months),
            Val::Int(days),
            Val::Int(seconds),
            Val::Int(nanos),
        ],
    ))
}

fn point(s: &str) -> Res<Val> {
    let bad = || format!("`{s}` is not a point (SRID=4326;POINT(1.5 2.5) or POINT Z (…))");
    let (srid, rest) = s.split_once(';').ok_or_else(bad)?;
    let srid: i64 = srid
        .trim()
        .strip_prefix("SRID=")
        .ok_or_else(bad)?
        .parse()
        .map_err(|_| bad())?;
    let open = rest.find('(').ok_or_else(bad)?;
    let coords = rest[open + 1..]
        .trim_end()
        .strip_suffix(')')
        .ok_or_else(bad)?;
    let coords: Vec<f64> = coords
        .split_whitespace()
        .map(|c| parse_float(c).map_err(|_| bad()))
        .collect::<Res<_>>()?;
    let mut fields = vec![Val::Int(srid)];
    fields.extend(coords.iter().map(|c| Val::Float(*c)));
    match coords.len() {
        2 => Ok(Val::Struct(b'X', fields)),
        3 => Ok(Val::Struct(b'Y', fields)),
        _ => Err(bad()),
    }
}

fn pmap(entries: &[(String, Val)], flavor: Flavor) -> PMap {
    let mut map = PMap::new();
    for (k, v) in entries {
        map.insert(k.as_str(), v.to_packstream(flavor));
    }
    map
}

impl Val {
    /// The PackStream value sent on a connection of this flavor.
    pub(crate) fn to_packstream(&self, flavor: Flavor) -> P {
        match self {
            Val::Null => P::Null,
            Val::Bool(b) => P::Boolean(*b),
            Val::Int(i) => P::Integer(*i),
            Val::Float(f) => P::Float(*f),
            Val::Bytes(b) => P::Bytes(Bytes::copy_from_slice(b)),
            Val::Str(s) => P::String(s.as_str().into()),
            Val::List(items) => P::List(items.iter().map(|v| v.to_packstream(flavor)).collect()),
            Val::Map(entries) => P::Map(pmap(entries, flavor)),
            Val::DateTime {
                local_seconds,
                nanos,
                offset,
                zone,
            } => {
                let seconds = if flavor.utc {
                    local_seconds - offset
                } else {
                    *local_seconds
                };
                let (tag, last) = match (zone, flavor.utc) {
                    (Some(zone), true) => (0x69, P::String(zone.as_str().into())),
                    (Some(zone), false) => (0x66, P::String(zone.as_str().into())),
                    (None, true) => (0x49, P::Integer(*offset)),
                    (None, false) => (0x46, P::Integer(*offset)),
                };
                P::Structure(Structure::new(
                    tag,
                    vec![P::Integer(seconds), P::Integer(*nanos), last],
                ))
            }
            Val::Node {
                id,
                labels,
                props,
                element_id,
            } => {
                let mut fields = vec![
                    P::Integer(*id),
                    P::List(
                        labels
                            .iter()
                            .map(|l| P::String(l.as_str().into()))
                            .collect(),
                    ),
                    P::Map(pmap(props, flavor)),
                ];
                if flavor.element_ids {
                    let eid = element_id.clone().unwrap_or_else(|| id.to_string());
                    fields.push(P::String(eid.into()));
                }
                P::Structure(Structure::new(0x4E, fields))
            }
            Val::Relationship {
                id,
                start,
                rel_type,
                end,
                props,
                element_ids,
            } => {
                let mut fields = vec![
                    P::Integer(*id),
                    P::Integer(*start),
                    P::Integer(*end),
                    P::String(rel_type.as_str().into()),
                    P::Map(pmap(props, flavor)),
                ];
                if flavor.element_ids {
                    let ids = element_ids
                        .clone()
                        .unwrap_or_else(|| [id.to_string(), start.to_string(), end.to_string()]);
                    fields.extend(ids.into_iter().map(|s| P::String(s.into())));
                }
                P::Structure(Structure::new(0x52, fields))
            }
            Val::Forced(value, forced) => value.to_packstream(*forced),
            Val::Struct(tag, fields) => P::Structure(Structure::new(
                *tag,
                fields.iter().map(|v| v.to_packstream(flavor)).collect(),
            )),
        }
    }
}

/// Equality as TestKit compares: same type, NaN equals NaN.
fn same(a: &P, b: &P) -> bool {
    match (a, b) {
        (P::Float(x), P::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (P::List(x), P::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (P::Map(x), P::Map(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (P::Structure(x), P::Structure(y)) => {
            x.tag == y.tag
                && x.fields.len() == y.fields.len()
                && x.fields.iter().zip(&y.fields).all(|(a, b)| same(a, b))
        }
        _ => a == b,
    }
}

fn kind_matches(kind: Kind, value: &P) -> bool {
    match (kind, value) {
        (Kind::Bool, P::Boolean(_))
        | (Kind::Int, P::Integer(_))
        | (Kind::Float, P::Float(_))
        | (Kind::Str, P::String(_))
        | (Kind::Bytes, P::Bytes(_))
        | (Kind::List, P::List(_))
        | (Kind::Map, P::Map(_)) => true,
        (Kind::Temporal, P::Structure(s)) => b"DTtIiFfdE".contains(&s.tag),
        (Kind::Point, P::Structure(s)) => s.tag == b'X' || s.tag == b'Y',
        (Kind::Node, P::Structure(s)) => s.tag == 0x4E,
        (Kind::Relationship, P::Structure(s)) => s.tag == 0x52,
        (Kind::Path, P::Structure(s)) => s.tag == 0x50,
        _ => false,
    }
}

/// A list sorted by its values' display, for `"key{}"` (order-free) comparisons.
fn sorted(items: &[P]) -> Vec<P> {
    let mut items = items.to_vec();
    items.sort_by_cached_key(|v| Shown(v).to_string());
    items
}

impl Pat {
    pub(crate) fn matches(&self, value: &P, flavor: Flavor) -> bool {
        match (self, value) {
            (Pat::Any, _) => true,
            (Pat::AnyOf(kind), value) => kind_matches(*kind, value),
            (Pat::Exact(expected), value) => same(&expected.to_packstream(flavor), value),
            (Pat::List(pats), P::List(items)) => {
                pats.len() == items.len()
                    && pats.iter().zip(items).all(|(p, v)| p.matches(v, flavor))
            }
            (Pat::Map(keys), P::Map(map)) => {
                for key in keys {
                    match map.get(&key.key) {
                        Some(P::List(items)) if key.unordered => {
                            let items = sorted(items);
                            let ok = match &key.pat {
                                Pat::List(pats) => {
                                    // Compare with the pattern's exact items sorted the same way.
                                    let exact: Option<Vec<P>> = pats
                                        .iter()
                                        .map(|p| match p {
                                            Pat::Exact(v) => Some(v.to_packstream(flavor)),
                                            _ => None,
                                        })
                                        .collect();
                                    match exact {
                                        Some(exact) => {
                                            same(&P::List(sorted(&exact)), &P::List(items))
                                        }
                                        None => key.pat.matches(&P::List(items), flavor),
                                    }
                                }
                                other => other.matches(&P::List(items), flavor),
                            };
                            if !ok {
                                return false;
                            }
                        }
                        Some(v) => {
                            if !key.pat.matches(v, flavor) {
                                return false;
                            }
                        }
                        None if key.optional => {}
                        None => return false,
                    }
                }
                map.keys()
                    .all(|k| keys.iter().any(|key| key.key == k.as_str()))
            }
            _ => false,
        }
    }

    /// A value this pattern accepts (for the replaying client): wildcards become the simplest
    /// value of their kind, optional keys are included.
    pub(crate) fn example(&self, flavor: Flavor) -> P {
        match self {
            Pat::Any => P::Null,
            Pat::AnyOf(kind) => match kind {
                Kind::Bool => P::Boolean(false),
                Kind::Int => P::Integer(0),
                Kind::Float => P::Float(0.0),
                Kind::Str => P::String("".into()),
                Kind::Bytes => P::Bytes(Bytes::new()),
                Kind::List => P::List(Vec::new()),
                Kind::Map => P::Map(PMap::new()),
                Kind::Temporal => P::Structure(Structure::new(b'D', vec![P::Integer(0)])),
                Kind::Point => P::Structure(Structure::new(
                    b'X',
                    vec![P::Integer(7203), P::Float(0.0), P::Float(0.0)],
                )),
                Kind::Node | Kind::Relationship | Kind::Path => P::Null,
            },
            Pat::Exact(v) => v.to_packstream(flavor),
            Pat::List(items) => P::List(items.iter().map(|p| p.example(flavor)).collect()),
            Pat::Map(keys) => {
                let mut map = PMap::new();
                for key in keys {
                    map.insert(key.key.as_str(), key.pat.example(flavor));
                }
                P::Map(map)
            }
        }
    }
}

/// Shows a PackStream value as script JSON (for mismatch messages).
pub(crate) struct Shown<'a>(pub(crate) &'a P);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            P::Null => f.write_str("null"),
            P::Boolean(b) => write!(f, "{b}"),
            P::Integer(i) => write!(f, "{i}"),
            P::Float(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 => {
                write!(f, "{x:.1}")
            }
            P::Float(x) => write!(f, "{x}"),
            P::Bytes(b) => {
                f.write_str("{\"#\": \"")?;
                for (i, byte) in b.iter().enumerate() {
                    if i > 0 {
                        f.write_char(' ')?;
                    }
                    write!(f, "{byte:02X}")?;
                }
                f.write_str("\"}")
            }
            P::String(s) => write_json_str(f, s.as_str()),
            P::List(items) => {
                f.write_char('[')?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", Shown(v))?;
                }
                f.write_char(']')
            }
            P::Map(map) => {
                f.write_char('{')?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_json_str(f, k.as_str())?;
                    write!(f, ": {}", Shown(v))?;
                }
                f.write_char('}')
            }
            P::Structure(s) => {
                write!(f, "Structure({:#04X}", s.tag)?;
                for v in &s.fields {
                    write!(f, ", {}", Shown(v))?;
                }
                f.write_char(')')
            }
        }
    }
}

fn write_json_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_fields;

    const V5: Flavor = Flavor {
        element_ids: true,
        utc: true,
    };

    fn pat(text: &str) -> Pat {
        to_pat(&parse_fields(text).unwrap()[0].1).unwrap()
    }
    fn val(text: &str) -> P {
        to_val(&parse_fields(text).unwrap()[0].1)
            .unwrap()
            .to_packstream(V5)
    }

    #[test]
    fn wildcards_optional_keys_and_types() {
        let p = pat(r#"{"n": {"Z": "*"}, "[db]": "*", "mode": "r"}"#);
        assert!(p.matches(&val(r#"{"n": 1000, "mode": "r"}"#), V5));
        assert!(p.matches(&val(r#"{"n": -1, "db": "x", "mode": "r"}"#), V5));
        assert!(
            !p.matches(&val(r#"{"n": 1.0, "mode": "r"}"#), V5),
            "a float is no Z"
        );
        assert!(!p.matches(&val(r#"{"mode": "r"}"#), V5), "n is required");
        assert!(
            !p.matches(&val(r#"{"n": 1, "mode": "r", "x": 1}"#), V5),
            "unlisted key"
        );
        assert!(pat(r#""*""#).matches(&val("[1, 2]"), V5));
        assert!(!pat(r#""\\*""#).matches(&val(r#""x""#), V5));
        assert!(pat(r#""\\*""#).matches(&val(r#""*""#), V5));
        assert!(
            !pat("1").matches(&val("1.0"), V5),
            "integers and floats differ"
        );
    }

    #[test]
    fn order_free_lists() {
        let p = pat(r#"{"bookmarks{}": ["b", "a"]}"#);
        assert!(p.matches(&val(r#"{"bookmarks": ["a", "b"]}"#), V5));
        assert!(!p.matches(&val(r#"{"bookmarks": ["a"]}"#), V5));
    }

    #[test]
    fn jolt_structures() {
        assert_eq!(
            val(r#"{"T": "2022-06-07T11:52:05+02:00"}"#),
            P::Structure(Structure::new(
                0x49,
                vec![P::Integer(1_654_595_525), P::Integer(0), P::Integer(7200)]
            ))
        );
        assert_eq!(
            val(r#"{"T": "1970-01-02"}"#),
            P::Structure(Structure::new(b'D', vec![P::Integer(1)]))
        );
        assert_eq!(
            val(r#"{"T": "P1Y2DT3.5S"}"#),
            P::Structure(Structure::new(
                b'E',
                vec![
                    P::Integer(12),
                    P::Integer(2),
                    P::Integer(3),
                    P::Integer(500_000_000)
                ]
            ))
        );
        let node = val(r#"{"()": [1, ["L"], {"x": 1}]}"#);
        let P::Structure(node) = node else { panic!() };
        assert_eq!(node.fields.len(), 4, "element id added on 5.x");
        assert!(to_val(&parse_fields(r#"{"..": []}"#).unwrap()[0].1).is_err());
        // A versioned sigil keeps its version's encoding on any connection.
        let legacy = Flavor {
            element_ids: false,
            utc: false,
        };
        let utc =
            to_val(&parse_fields(r#"{"Tv2": "1970-01-01T01:00:00+01:00"}"#).unwrap()[0].1).unwrap();
        assert_eq!(
            utc.to_packstream(legacy),
            P::Structure(Structure::new(
                0x49,
                vec![P::Integer(0), P::Integer(0), P::Integer(3600)]
            ))
        );
        let local =
            to_val(&parse_fields(r#"{"T": "1970-01-01T01:00:00+01:00"}"#).unwrap()[0].1).unwrap();
        assert_eq!(
            local.to_packstream(legacy),
            P::Structure(Structure::new(
                0x46,
                vec![P::Integer(3600), P::Integer(0), P::Integer(3600)]
            ))
        );
    }

    #[test]
    fn hostile_values_are_errors_not_panics() {
        for bad in [
            r##"{"#": "é0"}"##,
            r#"{"T": "12:00+é1:00"}"#,
            r#"{"T": "99999999999999-01-01"}"#,
            r#"{"T": "99999999999:00"}"#,
        ] {
            assert!(to_val(&parse_fields(bad).unwrap()[0].1).is_err(), "{bad}");
        }
        // Saturates instead of overflowing.
        assert!(to_val(&parse_fields(r#"{"T": "P9223372036854775807Y"}"#).unwrap()[0].1).is_ok());
    }

    #[test]
    fn shown_as_script_json() {
        assert_eq!(
            Shown(&val(r#"{"n": -1, "s": "a\"b"}"#)).to_string(),
            r#"{"n": -1, "s": "a\"b"}"#
        );
        assert_eq!(Shown(&val("2.0")).to_string(), "2.0");
    }
}
