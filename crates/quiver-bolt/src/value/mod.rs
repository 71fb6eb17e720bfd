//! Bolt values: PackStream structures read and written as typed values, per negotiated version.
//!
//! PackStream (crate `quiver_packstream`) only knows "a structure with a tag byte and fields";
//! what a structure *means* depends on the negotiated Bolt version. This module maps the tags
//! to typed values — [`Node`], [`DateTime`], [`Vector`], … — using a [`ValueContext`] that
//! captures what the version implies:
//!
//! | | 4.4 | 4.4 + `utc` patch | 5.x | 6.0 |
//! |---|---|---|---|---|
//! | element ids on graph values | no | no | yes | yes |
//! | date-time with offset | legacy `46` (local seconds) | `49` (UTC) | `49` | `49` |
//! | date-time with zone id | legacy `66` → [`LegacyDateTimeZoneId`] | `69` | `69` | `69` |
//! | [`Vector`] `56`, [`Unsupported`] `3F` | no | no | no | yes |
//!
//! Structures a version does not define decode to [`Value::Unknown`], which keeps tag and
//! fields and re-encodes byte for byte. A legacy zone-id date-time (4.4 without the patch) stays
//! a [`LegacyDateTimeZoneId`] in local wall-clock seconds: turning it into a UTC instant needs a
//! time zone database, which this crate carries only with the optional `chrono-tz` feature
//! (`LegacyDateTimeZoneId::to_utc`). Legacy offset date-times (`46`) *are* converted
//! (`utc = local - offset`), so a [`DateTime`] always holds UTC seconds.
//!
//! # Decoding
//!
//! [`decode_value`] reads the decoder's tokens straight into [`Value`]s (no intermediate
//! PackStream tree): scalars cost no allocation, strings and byte arrays share the message
//! buffer (zero-copy [`PackStr`] / [`Bytes`]), and only lists, maps and graph values allocate
//! their containers, never more up front than the remaining input could fill. Nesting is
//! limited to [`ValueContext::max_depth`] (or the decoder's own limit if stricter), without
//! unbounded recursion. A structure with the wrong number or type of fields for the version is
//! a protocol violation: [`ValueError::InvalidStructure`], never a panic.
//!
//! # Encoding
//!
//! [`encode_value`] / [`encode_map`] write parameters. Values that only come from the server —
//! graph values and [`Unsupported`] — fail with [`ValueError::NotSendable`], as in the official
//! drivers; values the version cannot carry fail with [`ValueError::NotSupportedByVersion`].
//!
//! # Also
//!
//! * `Display` prints values in a Cypher-like literal form (`date('2022-01-08')`,
//!   `{name: "Ann"}`, `(:Person)-[:KNOWS]->(:Person)`), handy in logs and transcripts;
//!   [`Value::type_name`] gives the Cypher type name.
//! * Feature `chrono`: checked conversions between the temporal types and `chrono`'s
//!   (`ChronoConversionError` explains out-of-range and lossy cases).
//! * Feature `chrono-tz` (implies `chrono`): the IANA time-zone rules of the `chrono-tz` crate.
//!   Zoned date-times ([`DateTimeZoneId`], and the legacy [`LegacyDateTimeZoneId`] with a
//!   `Disambiguation` for ambiguous or skipped local times) convert to and from
//!   `chrono::DateTime<chrono_tz::Tz>`, report their offset, and are sent on Bolt 4.4 without
//!   the `utc` patch too (as local seconds). An unknown zone name is an error, not a panic.
//!
//! ```
//! use bytes::Bytes;
//! use quiver_bolt::value::{decode_value, encode_value, Date, Value, ValueContext};
//! use quiver_packstream::Decoder;
//!
//! let ctx = ValueContext::for_version(5, 4, false);
//! let mut buf = Vec::new();
//! encode_value(&mut buf, &Value::Date(Date { days: 19_000 }), &ctx)?;
//! assert_eq!(buf, [0xB1, 0x44, 0xC9, 0x4A, 0x38]);
//!
//! let mut dec = Decoder::new(Bytes::from(buf));
//! assert_eq!(decode_value(&mut dec, &ctx)?, Value::Date(Date { days: 19_000 }));
//! # Ok::<(), quiver_bolt::value::ValueError>(())
//! ```

#[cfg(feature = "chrono")]
mod chrono_conv;
#[cfg(feature = "chrono-tz")]
mod chrono_tz_conv;
mod decode;
mod display;
mod encode;
mod graph;
mod map;
mod spatial;
mod temporal;
mod vector;

use bytes::Bytes;
use quiver_packstream::{DecodeError, EncodeError};

#[cfg(feature = "chrono")]
pub use chrono_conv::ChronoConversionError;
#[cfg(feature = "chrono-tz")]
pub use chrono_tz_conv::Disambiguation;
pub(crate) use decode::validate_value;
pub use decode::{decode_map, decode_value};
pub use encode::{encode_map, encode_value};
pub use graph::{Node, Path, Relationship, Segment, Segments, UnboundRelationship};
pub use map::Map;
pub use quiver_packstream::PackStr;
pub use spatial::{Point2D, Point3D};
pub use temporal::{
    Date, DateTime, DateTimeZoneId, Duration, LegacyDateTimeZoneId, LocalDateTime, LocalTime, Time,
};
pub use vector::{Unsupported, Vector};

/// Structure tag bytes of the Bolt value structures.
pub mod tag {
    /// Node.
    pub const NODE: u8 = 0x4E;
    /// Relationship.
    pub const RELATIONSHIP: u8 = 0x52;
    /// UnboundRelationship (inside a Path).
    pub const UNBOUND_RELATIONSHIP: u8 = 0x72;
    /// Path.
    pub const PATH: u8 = 0x50;
    /// Date.
    pub const DATE: u8 = 0x44;
    /// Time (with offset).
    pub const TIME: u8 = 0x54;
    /// LocalTime.
    pub const LOCAL_TIME: u8 = 0x74;
    /// DateTime with offset, UTC seconds (5.0+, 4.4 with the `utc` patch).
    pub const DATE_TIME: u8 = 0x49;
    /// DateTime with zone id, UTC seconds (5.0+, 4.4 with the `utc` patch).
    pub const DATE_TIME_ZONE_ID: u8 = 0x69;
    /// Legacy DateTime with offset, local seconds (4.x).
    pub const LEGACY_DATE_TIME: u8 = 0x46;
    /// Legacy DateTime with zone id, local seconds (4.x).
    pub const LEGACY_DATE_TIME_ZONE_ID: u8 = 0x66;
    /// LocalDateTime.
    pub const LOCAL_DATE_TIME: u8 = 0x64;
    /// Duration.
    pub const DURATION: u8 = 0x45;
    /// Point2D.
    pub const POINT_2D: u8 = 0x58;
    /// Point3D.
    pub const POINT_3D: u8 = 0x59;
    /// Vector (6.0+).
    pub const VECTOR: u8 = 0x56;
    /// Unsupported type (6.0+).
    pub const UNSUPPORTED: u8 = 0x3F;
}

/// A Bolt value: a PackStream value with the structures of the negotiated Bolt version resolved
/// to typed values.
///
/// Large, rare variants (graph values, zone-id date-times, [`Unsupported`]) are boxed so that a
/// `Value` stays 40 bytes: records are vectors of values, mostly small scalars. Build them with
/// `Value::from(node)` etc.; `From` conversions also exist for Rust scalars, strings,
/// `Vec<T>`, `Option<T>` (`None` is null) and plain PackStream values.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// `null`.
    Null,
    /// A boolean.
    Boolean(bool),
    /// A 64-bit signed integer.
    Integer(i64),
    /// A 64-bit float.
    Float(f64),
    /// A byte array (shares the message buffer when decoded).
    Bytes(Bytes),
    /// A string (shares the message buffer when decoded).
    String(PackStr),
    /// A list.
    List(Vec<Value>),
    /// A map with string keys.
    Map(Map),
    /// A node (result only).
    Node(Box<Node>),
    /// A relationship (result only).
    Relationship(Box<Relationship>),
    /// A path (result only).
    Path(Box<Path>),
    /// A date.
    Date(Date),
    /// A time with offset.
    Time(Time),
    /// A time without time zone.
    LocalTime(LocalTime),
    /// An instant with offset.
    DateTime(DateTime),
    /// An instant in a named zone.
    DateTimeZoneId(Box<DateTimeZoneId>),
    /// A Bolt 4.4 (no `utc` patch) date-time in a named zone, local seconds.
    LegacyDateTimeZoneId(Box<LegacyDateTimeZoneId>),
    /// A date-time without time zone.
    LocalDateTime(LocalDateTime),
    /// A duration.
    Duration(Duration),
    /// A 2D point.
    Point2D(Point2D),
    /// A 3D point.
    Point3D(Point3D),
    /// A typed vector (Bolt 6.0+).
    Vector(Vector),
    /// A value the server could not send on this version (Bolt 6.0+, result only).
    Unsupported(Box<Unsupported>),
    /// A structure this Bolt version does not define, kept as received.
    Unknown(quiver_packstream::Structure),
}

/// What the negotiated Bolt version implies for values. Cheap to copy; build it once per
/// connection with [`ValueContext::for_version`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueContext {
    version: (u8, u8),
    utc_date_times: bool,
    element_ids: bool,
    bolt6_types: bool,
    result_values: bool,
    max_depth: usize,
}

impl ValueContext {
    /// Default nesting limit for decoded values (lists, maps and structures inside each other).
    pub const DEFAULT_MAX_DEPTH: usize = 64;

    /// The context for Bolt `major.minor`; `utc_patch` says whether the server accepted
    /// `patch_bolt: ["utc"]` in HELLO (only meaningful on 4.x; 5.0+ always uses UTC).
    pub fn for_version(major: u8, minor: u8, utc_patch: bool) -> Self {
        ValueContext {
            version: (major, minor),
            utc_date_times: major >= 5 || utc_patch,
            element_ids: major >= 5,
            bolt6_types: major >= 6,
            result_values: false,
            max_depth: Self::DEFAULT_MAX_DEPTH,
        }
    }

    /// The context for the newest Bolt version this crate knows (6.0).
    pub fn latest() -> Self {
        Self::for_version(6, 0, false)
    }

    /// The same context with another nesting limit.
    pub fn with_max_depth(self, max_depth: usize) -> Self {
        ValueContext { max_depth, ..self }
    }

    /// The same context, allowing (or not) the values only a server sends — nodes,
    /// relationships, paths and [`Unsupported`] — to be encoded. Off by default: a client
    /// cannot send them as parameters ([`ValueError::NotSendable`]); the server role turns it on
    /// to write records.
    pub fn with_result_values(self, allowed: bool) -> Self {
        ValueContext {
            result_values: allowed,
            ..self
        }
    }

    /// Whether graph values and [`Unsupported`] may be encoded (see
    /// [`with_result_values`](Self::with_result_values)).
    pub fn result_values(&self) -> bool {
        self.result_values
    }

    /// The negotiated version (major, minor).
    pub fn version(&self) -> (u8, u8) {
        self.version
    }

    /// Whether date-times use the UTC structures `49`/`69` (else the legacy `46`/`66`).
    pub fn utc_date_times(&self) -> bool {
        self.utc_date_times
    }

    /// Whether graph values carry element ids (5.0+).
    pub fn element_ids(&self) -> bool {
        self.element_ids
    }

    /// Whether [`Vector`] and [`Unsupported`] exist (6.0+).
    pub fn bolt6_types(&self) -> bool {
        self.bolt6_types
    }

    /// Maximum nesting depth of decoded values: every list, map and structure is one level, the
    /// top-level value is level 0. Decoding uses the smaller of this and the decoder's own
    /// `DecodeLimits::max_depth`.
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }
}

impl Default for ValueContext {
    fn default() -> Self {
        Self::latest()
    }
}

/// Why a value could not be decoded or encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The bytes are not valid PackStream.
    #[error("invalid PackStream: {0}")]
    Decode(#[from] DecodeError),
    /// PackStream cannot represent the value (e.g. a string longer than 4 GiB).
    #[error("cannot encode value: {0}")]
    Encode(#[from] EncodeError),
    /// A structure has the wrong number or type of fields for its tag on this Bolt version; the
    /// server (or the bytes) broke the protocol.
    #[error("invalid structure {tag:#04X}: {reason}")]
    InvalidStructure {
        /// The structure's tag byte.
        tag: u8,
        /// What is wrong, e.g. "Node needs 4 fields on Bolt 5.x, got 3".
        reason: String,
    },
    /// The value cannot be sent on the negotiated Bolt version.
    #[error(
        "{what} cannot be sent on Bolt {}.{}; it needs a newer protocol version or server option",
        version.0, version.1
    )]
    NotSupportedByVersion {
        /// What cannot be sent.
        what: &'static str,
        /// The negotiated version.
        version: (u8, u8),
    },
    /// The value only comes from the server and cannot be sent, e.g. a Node as a parameter
    /// (pass its id or properties instead).
    #[error("{what} values cannot be sent to the server (pass ids or properties instead)")]
    NotSendable {
        /// What was being sent.
        what: &'static str,
    },
    /// A temporal value could not be converted for the wire: with feature `chrono-tz`, a
    /// [`DateTimeZoneId`] sent on Bolt 4.4 without the `utc` patch needs its zone's offset,
    /// and the zone is unknown or the local time out of range.
    #[cfg(feature = "chrono")]
    #[error("cannot encode temporal value: {0}")]
    Temporal(#[from] ChronoConversionError),
    /// Values are nested deeper than [`ValueContext::max_depth`].
    #[error("value nesting exceeds the limit of {max_depth} at byte {offset}")]
    DepthLimitExceeded {
        /// The limit.
        max_depth: usize,
        /// Decoder position where the limit was hit.
        offset: usize,
    },
}

impl Value {
    /// The Cypher name of the value's type (`INTEGER`, `STRING`, `NODE`, `ZONED DATETIME`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Boolean(_) => "BOOLEAN",
            Value::Integer(_) => "INTEGER",
            Value::Float(_) => "FLOAT",
            Value::Bytes(_) => "BYTES",
            Value::String(_) => "STRING",
            Value::List(_) => "LIST",
            Value::Map(_) => "MAP",
            Value::Node(_) => "NODE",
            Value::Relationship(_) => "RELATIONSHIP",
            Value::Path(_) => "PATH",
            Value::Date(_) => "DATE",
            Value::Time(_) => "ZONED TIME",
            Value::LocalTime(_) => "LOCAL TIME",
            Value::DateTime(_) | Value::DateTimeZoneId(_) | Value::LegacyDateTimeZoneId(_) => {
                "ZONED DATETIME"
            }
            Value::LocalDateTime(_) => "LOCAL DATETIME",
            Value::Duration(_) => "DURATION",
            Value::Point2D(_) | Value::Point3D(_) => "POINT",
            Value::Vector(_) => "VECTOR",
            Value::Unsupported(_) => "UNSUPPORTED",
            Value::Unknown(_) => "UNKNOWN STRUCTURE",
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The float, if this is one (integers are not converted).
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The string as a shared [`PackStr`], if this is one.
    pub fn as_pack_str(&self) -> Option<&PackStr> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The byte array, if this is one.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The list, if this is one.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The map, if this is one.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The node, if this is one.
    pub fn as_node(&self) -> Option<&Node> {
        match self {
            Value::Node(n) => Some(n),
            _ => None,
        }
    }

    /// The relationship, if this is one.
    pub fn as_relationship(&self) -> Option<&Relationship> {
        match self {
            Value::Relationship(r) => Some(r),
            _ => None,
        }
    }

    /// The path, if this is one.
    pub fn as_path(&self) -> Option<&Path> {
        match self {
            Value::Path(p) => Some(p),
            _ => None,
        }
    }

    /// The vector, if this is one.
    pub fn as_vector(&self) -> Option<&Vector> {
        match self {
            Value::Vector(v) => Some(v),
            _ => None,
        }
    }
}

macro_rules! impl_from {
    ($($t:ty => |$v:ident| $e:expr;)*) => {
        $(impl From<$t> for Value {
            fn from($v: $t) -> Value {
                $e
            }
        })*
    };
}

impl_from! {
    bool => |v| Value::Boolean(v);
    i8 => |v| Value::Integer(v.into());
    i16 => |v| Value::Integer(v.into());
    i32 => |v| Value::Integer(v.into());
    i64 => |v| Value::Integer(v);
    u8 => |v| Value::Integer(v.into());
    u16 => |v| Value::Integer(v.into());
    u32 => |v| Value::Integer(v.into());
    f32 => |v| Value::Float(v.into());
    f64 => |v| Value::Float(v);
    &str => |v| Value::String(PackStr::from(v));
    String => |v| Value::String(PackStr::from(v));
    PackStr => |v| Value::String(v);
    Bytes => |v| Value::Bytes(v);
    Map => |v| Value::Map(v);
    Node => |v| Value::Node(Box::new(v));
    Relationship => |v| Value::Relationship(Box::new(v));
    Path => |v| Value::Path(Box::new(v));
    Date => |v| Value::Date(v);
    Time => |v| Value::Time(v);
    LocalTime => |v| Value::LocalTime(v);
    DateTime => |v| Value::DateTime(v);
    DateTimeZoneId => |v| Value::DateTimeZoneId(Box::new(v));
    LegacyDateTimeZoneId => |v| Value::LegacyDateTimeZoneId(Box::new(v));
    LocalDateTime => |v| Value::LocalDateTime(v);
    Duration => |v| Value::Duration(v);
    Point2D => |v| Value::Point2D(v);
    Point3D => |v| Value::Point3D(v);
    Vector => |v| Value::Vector(v);
    Unsupported => |v| Value::Unsupported(Box::new(v));
    quiver_packstream::Structure => |v| Value::Unknown(v);
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(item: Option<T>) -> Value {
        item.map_or(Value::Null, Into::into)
    }
}

/// Plain PackStream values convert structurally; a PackStream structure becomes
/// [`Value::Unknown`] (decode with a [`ValueContext`] to get typed structures).
impl From<quiver_packstream::Value> for Value {
    fn from(value: quiver_packstream::Value) -> Value {
        use quiver_packstream::Value as P;
        match value {
            P::Null => Value::Null,
            P::Boolean(b) => Value::Boolean(b),
            P::Integer(i) => Value::Integer(i),
            P::Float(f) => Value::Float(f),
            P::Bytes(b) => Value::Bytes(b),
            P::String(s) => Value::String(s),
            P::List(items) => Value::List(items.into_iter().map(Value::from).collect()),
            P::Map(map) => Value::Map(map.into_iter().map(|(k, v)| (k, Value::from(v))).collect()),
            P::Structure(s) => Value::Unknown(s),
        }
    }
}
