//! The PackStream value model.

use bytes::Bytes;

use crate::{Map, PackStr};

/// One PackStream value.
///
/// `PartialEq` compares floats with `f64 ==` (so `NaN != NaN` and `0.0 == -0.0`); use
/// [`Value::bit_eq`] to compare floats by their bits, as round-trip tests need.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null` (marker `C0`).
    #[default]
    Null,
    /// `true` / `false`.
    Boolean(bool),
    /// A 64-bit signed integer.
    Integer(i64),
    /// A 64-bit IEEE-754 float.
    Float(f64),
    /// A byte array (shares the decoder's input buffer).
    Bytes(Bytes),
    /// A UTF-8 string (shares the decoder's input buffer).
    String(PackStr),
    /// A list of values.
    List(Vec<Value>),
    /// A map with string keys.
    Map(Map),
    /// A tagged structure (nodes, dates, Bolt messages, …).
    Structure(Structure),
}

/// A PackStream structure: a tag byte and up to 15 fields.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Structure {
    /// The tag byte saying what the structure is (e.g. `0x4E` for a node).
    pub tag: u8,
    /// The fields, at most 15 of them to be encodable.
    pub fields: Vec<Value>,
}

impl Structure {
    /// A structure with the given tag and fields.
    pub fn new(tag: u8, fields: Vec<Value>) -> Self {
        Structure { tag, fields }
    }
}

impl Value {
    /// Structural equality that compares floats by their bit patterns, so `NaN` payloads,
    /// `-0.0` and `0.0` are told apart. Maps are still compared ignoring entry order.
    pub fn bit_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.bit_eq(y))
            }
            (Value::Map(a), Value::Map(b)) => a.eq_by(b, Value::bit_eq),
            (Value::Structure(a), Value::Structure(b)) => {
                a.tag == b.tag
                    && a.fields.len() == b.fields.len()
                    && a.fields.iter().zip(&b.fields).all(|(x, y)| x.bit_eq(y))
            }
            (a, b) => a == b,
        }
    }

    /// The name of this value's PackStream type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Boolean(_) => "boolean",
            Value::Integer(_) => "integer",
            Value::Float(_) => "float",
            Value::Bytes(_) => "bytes",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Structure(_) => "structure",
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

    /// The string slice, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The [`PackStr`], if this is a string.
    pub fn as_pack_str(&self) -> Option<&PackStr> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, if this is a byte array.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The elements, if this is a list.
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

    /// The structure, if this is one.
    pub fn as_structure(&self) -> Option<&Structure> {
        match self {
            Value::Structure(s) => Some(s),
            _ => None,
        }
    }
}

macro_rules! impl_from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from($v: $t) -> Self {
                $e
            }
        })*
    };
}

impl_from! {
    bool => |v| Value::Boolean(v),
    i64 => |v| Value::Integer(v),
    i32 => |v| Value::Integer(i64::from(v)),
    i16 => |v| Value::Integer(i64::from(v)),
    i8 => |v| Value::Integer(i64::from(v)),
    u32 => |v| Value::Integer(i64::from(v)),
    u16 => |v| Value::Integer(i64::from(v)),
    u8 => |v| Value::Integer(i64::from(v)),
    f64 => |v| Value::Float(v),
    f32 => |v| Value::Float(f64::from(v)),
    &str => |v| Value::String(PackStr::from(v)),
    String => |v| Value::String(PackStr::from(v)),
    PackStr => |v| Value::String(v),
    Bytes => |v| Value::Bytes(v),
    Vec<Value> => |v| Value::List(v),
    Map => |v| Value::Map(v),
    Structure => |v| Value::Structure(v),
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}
