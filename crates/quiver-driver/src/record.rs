//! Records and typed access to their values.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use quiver_bolt::RawRecord;
use quiver_bolt::value::{
    Date, DateTime, Duration, LocalDateTime, LocalTime, Map, Node, PackStr, Path, Point2D, Point3D,
    Relationship, Time, Value,
};

use crate::error::{Error, Result};

/// One row of a result: values by key or by index.
///
/// Records from the server arrive validated but undecoded: [`get`](Self::get) and
/// [`get_at`](Self::get_at) decode just the value asked for, while the methods that hand out
/// `&Value`s ([`values`](Self::values), [`value`](Self::value), [`iter`](Self::iter), …) decode
/// the whole row once and keep it.
#[derive(Clone)]
pub struct Record {
    keys: Arc<[PackStr]>,
    fields: Fields,
}

#[derive(Clone)]
enum Fields {
    Decoded(Vec<Value>),
    Raw {
        raw: RawRecord,
        decoded: OnceLock<Vec<Value>>,
    },
}

impl Record {
    pub(crate) fn new(keys: Arc<[PackStr]>, values: Vec<Value>) -> Self {
        Record {
            keys,
            fields: Fields::Decoded(values),
        }
    }

    pub(crate) fn from_raw(keys: Arc<[PackStr]>, raw: RawRecord) -> Self {
        Record {
            keys,
            fields: Fields::Raw {
                raw,
                decoded: OnceLock::new(),
            },
        }
    }

    /// The column names.
    pub fn keys(&self) -> &[PackStr] {
        &self.keys
    }

    /// The values, in column order.
    pub fn values(&self) -> &[Value] {
        match &self.fields {
            Fields::Decoded(values) => values,
            Fields::Raw { raw, decoded } => decoded.get_or_init(|| raw.decode()),
        }
    }

    /// The values, owned.
    pub fn into_values(self) -> Vec<Value> {
        match self.fields {
            Fields::Decoded(values) => values,
            Fields::Raw { raw, decoded } => decoded.into_inner().unwrap_or_else(|| raw.decode()),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match &self.fields {
            Fields::Decoded(values) => values.len(),
            Fields::Raw { raw, .. } => raw.len(),
        }
    }

    /// Whether the record has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of column `key`, untyped.
    pub fn value(&self, key: &str) -> Option<&Value> {
        let index = self.keys.iter().position(|k| *k == *key)?;
        self.values().get(index)
    }

    /// The value at `index`, untyped.
    pub fn value_at(&self, index: usize) -> Option<&Value> {
        self.values().get(index)
    }

    /// Convert the value at `index` without decoding the rest of an undecoded record.
    fn convert_at<T: FromValue>(
        &self,
        index: usize,
    ) -> Option<std::result::Result<T, ConversionError>> {
        match &self.fields {
            Fields::Raw { raw, decoded } if decoded.get().is_none() => {
                raw.field(index).map(|value| T::from_value(&value))
            }
            _ => self.values().get(index).map(T::from_value),
        }
    }

    /// The value of column `key` converted to `T`.
    ///
    /// Fails with [`Error::Conversion`] when the key does not exist or the value has another type;
    /// use `Option<T>` for columns that may be null.
    pub fn get<T: FromValue>(&self, key: &str) -> Result<T> {
        let converted = self
            .keys
            .iter()
            .position(|k| *k == *key)
            .and_then(|index| self.convert_at(index))
            .ok_or_else(|| {
                let keys: Vec<&str> = self.keys.iter().map(PackStr::as_str).collect();
                Error::Conversion(format!(
                    "the record has no key `{key}` (its keys: {keys:?})"
                ))
            })?;
        converted.map_err(|e| e.in_column(key))
    }

    /// The value at `index` converted to `T`.
    pub fn get_at<T: FromValue>(&self, index: usize) -> Result<T> {
        let converted = self.convert_at(index).ok_or_else(|| {
            Error::Conversion(format!(
                "index {index} is out of range: the record has {} values",
                self.len()
            ))
        })?;
        converted.map_err(|e| e.in_column(&index.to_string()))
    }

    /// Deserialize the record (as a map from its keys to its values, or as a tuple/sequence of its
    /// values) into `T`; strings can borrow from the record.
    pub fn to<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T> {
        crate::serde::from_pairs(&self.keys, self.values())
    }

    /// Key/value pairs, in column order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.keys
            .iter()
            .map(PackStr::as_str)
            .zip(self.values().iter())
    }

    /// The record as a map from key to value.
    pub fn to_map(&self) -> Map {
        self.keys
            .iter()
            .cloned()
            .zip(self.values().iter().cloned())
            .collect()
    }
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("keys", &self.keys)
            .field("values", &self.values())
            .finish()
    }
}

/// Records are equal when their keys and values are (decoded or not).
impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        self.keys == other.keys && self.values() == other.values()
    }
}

/// Why a value could not be converted.
#[derive(Debug, Clone)]
pub struct ConversionError {
    expected: &'static str,
    found: &'static str,
    detail: Option<String>,
}

impl ConversionError {
    /// A value of type `found` (a Cypher type name) where `expected` was asked for.
    pub fn new(expected: &'static str, found: &'static str) -> Self {
        ConversionError {
            expected,
            found,
            detail: None,
        }
    }

    /// The same, saying why the conversion failed (e.g. a value out of the target's range).
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    fn in_column(self, column: &str) -> Error {
        let detail = self.detail.map(|d| format!(" ({d})")).unwrap_or_default();
        Error::Conversion(format!(
            "column `{column}`: expected {}, found {}{detail}",
            self.expected, self.found
        ))
    }
}

impl From<ConversionError> for Error {
    fn from(value: ConversionError) -> Self {
        let detail = value.detail.map(|d| format!(" ({d})")).unwrap_or_default();
        Error::Conversion(format!(
            "expected {}, found {}{detail}",
            value.expected, value.found
        ))
    }
}

/// Conversion from a Bolt [`Value`] to a Rust type, used by [`Record::get`].
pub trait FromValue: Sized {
    /// Convert, or say what was found instead.
    fn from_value(value: &Value) -> std::result::Result<Self, ConversionError>;
}

impl FromValue for Value {
    fn from_value(value: &Value) -> std::result::Result<Self, ConversionError> {
        Ok(value.clone())
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> std::result::Result<Self, ConversionError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: &Value) -> std::result::Result<Self, ConversionError> {
        match value {
            Value::List(items) => items.iter().map(T::from_value).collect(),
            other => Err(ConversionError::new("LIST", other.type_name())),
        }
    }
}

macro_rules! from_value_variant {
    ($($t:ty => $variant:ident ( $v:ident ) $conv:expr, $name:literal;)*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> std::result::Result<Self, ConversionError> {
                match value {
                    Value::$variant($v) => Ok($conv),
                    other => Err(ConversionError::new($name, other.type_name())),
                }
            }
        }
    )*};
}

from_value_variant! {
    i64 => Integer(v) *v, "INTEGER";
    bool => Boolean(v) *v, "BOOLEAN";
    String => String(v) v.as_str().to_owned(), "STRING";
    PackStr => String(v) v.clone(), "STRING";
    Bytes => Bytes(v) v.clone(), "BYTES";
    Map => Map(v) v.clone(), "MAP";
    Node => Node(v) (**v).clone(), "NODE";
    Relationship => Relationship(v) (**v).clone(), "RELATIONSHIP";
    Path => Path(v) (**v).clone(), "PATH";
    Date => Date(v) *v, "DATE";
    Time => Time(v) *v, "ZONED TIME";
    LocalTime => LocalTime(v) *v, "LOCAL TIME";
    DateTime => DateTime(v) *v, "ZONED DATETIME";
    LocalDateTime => LocalDateTime(v) *v, "LOCAL DATETIME";
    Duration => Duration(v) *v, "DURATION";
    Point2D => Point2D(v) *v, "POINT";
    Point3D => Point3D(v) *v, "POINT";
}

impl FromValue for f64 {
    /// Floats, and integers that a float represents exactly.
    fn from_value(value: &Value) -> std::result::Result<Self, ConversionError> {
        match value {
            Value::Float(v) => Ok(*v),
            Value::Integer(v) if v.unsigned_abs() <= 1 << 53 => Ok(*v as f64),
            other => Err(ConversionError::new("FLOAT", other.type_name())),
        }
    }
}

macro_rules! from_value_narrow_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> std::result::Result<Self, ConversionError> {
                match value {
                    Value::Integer(v) => <$t>::try_from(*v).map_err(|_| ConversionError {
                        expected: stringify!($t),
                        found: "INTEGER",
                        detail: Some(format!("{v} is out of range")),
                    }),
                    other => Err(ConversionError::new(stringify!($t), other.type_name())),
                }
            }
        }
    )*};
}

from_value_narrow_int!(i8, i16, i32, u8, u16, u32, u64, usize);

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record::new(
            vec![
                PackStr::from("n"),
                PackStr::from("s"),
                PackStr::from("l"),
                PackStr::from("z"),
            ]
            .into(),
            vec![
                Value::Integer(300),
                Value::String("x".into()),
                Value::List(vec![Value::Integer(1), Value::Integer(2)]),
                Value::Null,
            ],
        )
    }

    /// The same record as the server would send it: through a Bolt 5.0 connection with
    /// `raw_records`, undecoded.
    fn raw_record() -> Record {
        use bytes::BytesMut;
        use quiver_bolt::chunk::write_chunked;
        use quiver_bolt::value::{ValueContext, encode_value};
        use quiver_bolt::{AuthToken, Connection, ConnectionConfig, Event, Hello, Request};
        let now = std::time::Instant::now();
        let mut conn = Connection::new(ConnectionConfig::default().with_raw_records(true), now);
        conn.handle_input(&[0, 0, 0, 5], now).unwrap();
        conn.send(Request::Hello(Hello::new(AuthToken::none())))
            .unwrap();
        conn.send(Request::run("RETURN 1", Map::new())).unwrap();
        conn.send(Request::pull_all()).unwrap();
        let mut input = BytesMut::new();
        write_chunked(&[0xB1, 0x70, 0xA0], &mut input); // HELLO
        write_chunked(&[0xB1, 0x70, 0xA0], &mut input); // RUN
        let mut message = vec![0xB1, 0x71];
        let ctx = ValueContext::for_version(5, 0, false);
        encode_value(&mut message, &Value::List(record().into_values()), &ctx).unwrap();
        write_chunked(&message, &mut input);
        conn.handle_input(&input, now).unwrap();
        while let Some(event) = conn.poll_event() {
            if let Event::RawRecord { record: raw, .. } = event {
                return Record::from_raw(record().keys.clone(), raw);
            }
        }
        panic!("no record");
    }

    #[test]
    fn raw_records_read_like_decoded_ones() {
        let (raw, decoded) = (raw_record(), record());
        // Field by field, before anything is decoded as a whole…
        assert_eq!(raw.get::<i64>("n").unwrap(), 300);
        assert_eq!(raw.get_at::<String>(1).unwrap(), "x");
        assert_eq!(raw.get::<Vec<i64>>("l").unwrap(), vec![1, 2]);
        assert_eq!(raw.len(), 4);
        let err = raw.get::<String>("n").unwrap_err().to_string();
        assert!(err.contains("expected STRING, found INTEGER"), "{err}");
        assert!(raw.get_at::<i64>(4).is_err());
        // …and whole.
        assert_eq!(raw, decoded);
        assert_eq!(raw.values(), decoded.values());
        assert_eq!(raw.get::<i64>("n").unwrap(), 300);
        assert_eq!(raw.to_map(), decoded.to_map());
        assert_eq!(raw.clone().into_values(), decoded.into_values());
    }

    #[test]
    fn typed_getters_by_key_and_index() {
        let r = record();
        assert_eq!(r.get::<i64>("n").unwrap(), 300);
        assert_eq!(r.get::<i32>("n").unwrap(), 300);
        assert_eq!(r.get::<f64>("n").unwrap(), 300.0);
        assert_eq!(r.get::<String>("s").unwrap(), "x");
        assert_eq!(r.get::<Vec<i64>>("l").unwrap(), vec![1, 2]);
        assert_eq!(r.get::<Option<String>>("z").unwrap(), None);
        assert_eq!(r.get_at::<String>(1).unwrap(), "x");
        assert_eq!(r.to_map().len(), 4);
    }

    #[test]
    fn conversion_errors_say_what_and_where() {
        let r = record();
        let err = r.get::<u8>("n").unwrap_err().to_string();
        assert!(
            err.contains("column `n`") && err.contains("out of range"),
            "{err}"
        );
        let err = r.get::<String>("n").unwrap_err().to_string();
        assert!(err.contains("expected STRING, found INTEGER"), "{err}");
        let err = r.get::<i64>("missing").unwrap_err().to_string();
        assert!(err.contains("no key `missing`"), "{err}");
        assert!(r.get_at::<i64>(9).is_err());
        assert!(r.get::<String>("z").is_err());
    }
}
